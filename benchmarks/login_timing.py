"""Login time for an unknown username against a known one with a wrong password (issue 12).

Both answers must cost the same (one password-hash verification each, against a dummy hash when the
account does not exist), so that timing does not tell an attacker which usernames exist. Each login
is a real `POST /login` through the app's test client on a SQLite file (WAL) in a temporary folder:
the known user's failures are reset between tries so the lock-out never triggers. Prints the median
and p95 in ms of each path and their ratio; nothing is asserted.

    python benchmarks/login_timing.py [--runs 40]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shopfloor import create_app  # noqa: E402
from shopfloor.auth.models import User  # noqa: E402
from shopfloor.auth.services import UserInput, create_user  # noqa: E402
from shopfloor.models import metadata  # noqa: E402
from benchmarks.common import percentile  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'timing.db'}"
        app = create_app({"INSTANCE_PATH": folder, "DATABASE_URL": url, "SECRET_KEY": "bench",
                          "WTF_CSRF_ENABLED": False, "TESTING": True})
        sessions = app.extensions["shopfloor_sessions"]
        metadata.create_all(sessions.engine)
        db = sessions.open(write=True)
        create_user(db, UserInput("known", "Known User", "tutor", "une phrase de passe longue"))
        db.commit()
        db.close()
        client = app.test_client()
        timings: dict[str, list[float]] = {"unknown": [], "known": []}
        for _ in range(3):  # warm-up: templates, first connection
            client.post("/login", data={"username": "nobody", "password": "wrong password"})
        for run in range(args.runs):
            for kind in (("unknown", "known") if run % 2 else ("known", "unknown")):
                username = "nobody-here" if kind == "unknown" else "known"
                start = time.perf_counter()
                response = client.post("/login", data={"username": username, "password": "wrong password"})
                timings[kind].append((time.perf_counter() - start) * 1000)
                assert response.status_code == 422, response.status_code
            with sessions.engine.begin() as conn:  # never reach the lock-out
                conn.execute(update(User).values(failed_logins=0, locked_until=None))
        sessions.engine.dispose()
    medians = {kind: statistics.median(values) for kind, values in timings.items()}
    for kind, values in timings.items():
        print(f"{kind:>8} username: median {medians[kind]:7.1f} ms   p95 {percentile(values, 0.95):7.1f} ms"
              f"   ({len(values)} logins)")
    ratio = medians["unknown"] / medians["known"]
    print(f"ratio unknown / known (medians): {ratio:.3f}  ({'within' if abs(ratio - 1) <= 0.2 else 'OUTSIDE'} 20 %)")


if __name__ == "__main__":
    main()
