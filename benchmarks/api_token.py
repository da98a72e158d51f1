"""What the API token check costs a request (issue 19), on SQLite and PostgreSQL.

Prints, median over --runs requests through the app (Flask test client):
1. the check alone (find the token, its user, maybe record its last use) as it was before issue 19 and
   as `user_for_token` does it now, with the SQL statements each runs (BEGIN included where the driver
   sends one), beside the hand-written SQL reading the same token and user, interleaved run by run;
2. `GET /api/v1/me` with the token, and its share spent in the check;
3. a revoked token's next request (must answer 401 at once).

    .venv/bin/python benchmarks/api_token.py [--runs 2000] [--db all|sqlite|postgresql] [--quick]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shopfloor import clock, create_app  # noqa: E402
from shopfloor.auth.models import ApiToken, User  # noqa: E402
from shopfloor.auth.services import UserInput, create_token, create_user, revoke_tokens, user_for_token  # noqa: E402
from shopfloor.models import metadata  # noqa: E402
from shopfloor.referential.services import load_referential  # noqa: E402
from benchmarks.common import Statements, postgres_database  # noqa: E402


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000



def build(url: str, instance: Path):
    app = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
    sessions = app.extensions["shopfloor_sessions"]
    metadata.create_all(sessions.engine)
    db = sessions.open(write=True)
    load_referential(db)
    user = create_user(db, UserInput("appr", "Alice Apprentie", "apprentice", "clef-atelier-2026"))
    db.commit()
    tokens = [create_token(db, user) for _ in range(50)]   # a few others in the table
    db.commit()
    db.close()
    return app, tokens[0]


def previous_check(db, token: str):
    """The check as it was before issue 19, for the before/after figure: the token by its hash, then its
    user (two statements, two objects)."""
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == hashlib.sha256(token.encode()).hexdigest(),
                                           ApiToken.revoked_at.is_(None)))
    return row.user if row is not None and row.user.active else None


def check_cost(app, token: str, runs: int, counter: Statements) -> float:
    """The previous check, the current one and the hand-written SQL, interleaved run by run so that the
    machine's load weighs on the three alike."""
    sessions = app.extensions["shopfloor_sessions"]
    digest = hashlib.sha256(token.encode()).hexdigest()
    sql = text("SELECT u.* FROM core_api_token t JOIN core_user u ON u.id = t.user_id "
               "WHERE t.token_hash = :h AND t.revoked_at IS NULL AND u.active")
    now = clock.now()

    def floor():   # like the check: a pooled connection, its transaction, one read
        with sessions.engine.connect() as conn:
            assert conn.execute(sql, {"h": digest}).first() is not None

    def in_session(check):
        def timed():
            db = sessions.open(write=False)
            try:
                assert check(db) is not None
            finally:
                db.close()
        return timed

    sides = {"before (token, then user)": in_session(lambda db: previous_check(db, token)),
             "user_for_token now": in_session(lambda db: user_for_token(db, token, now)),
             "hand-written SQL": floor}
    samples = {name: [] for name in sides}
    statements = {}
    for n in range(runs + 1):
        for name, action in sides.items():
            started = time.perf_counter()
            statements[name] = counter.count(action)
            elapsed = time.perf_counter() - started
            if n:
                samples[name].append(elapsed)
    bottom = median_ms(samples["hand-written SQL"])
    for name, values in samples.items():
        print(f"  {name:<28} median {median_ms(values):7.3f} ms, {statements[name]} statement(s) "
              f"(ratio {median_ms(values) / bottom:4.1f}x)")
    return median_ms(samples["user_for_token now"])


def request_cost(app, token: str, runs: int, check_ms: float, counter: Statements) -> None:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    samples, seen = [], []

    def me():
        assert client.get("/api/v1/me", headers=headers).status_code == 200

    for n in range(runs + 1):
        started = time.perf_counter()
        seen = counter.during(me)
        elapsed = time.perf_counter() - started
        if n:
            samples.append(elapsed)
    request_ms = median_ms(samples)
    print(f"  GET /api/v1/me: median {request_ms:.3f} ms, {len(seen)} statement(s); the token check is "
          f"{100 * check_ms / request_ms:.0f} % of it")


def revocation(app, token: str) -> None:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    db = app.extensions["shopfloor_sessions"].open(write=True)
    revoke_tokens(db, db.scalar(select(User).where(User.username == "appr")), clock.now(), token[:10])
    db.commit()
    db.close()
    status = client.get("/api/v1/me", headers=headers).status_code
    print(f"  revoked token, next request: {status}")


def run(backend: str, url: str, instance: Path, runs: int) -> None:
    app, token = build(url, instance)
    counter = Statements(app.extensions["shopfloor_sessions"].engine)
    print(f"{backend} (load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}):")
    check_ms = check_cost(app, token, runs, counter)
    request_cost(app, token, runs, check_ms, counter)
    revocation(app, token)
    app.extensions["shopfloor_sessions"].engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--db", choices=("all", "sqlite", "postgresql"), default="all")
    parser.add_argument("--quick", action="store_true", help="200 runs, for development")
    args = parser.parse_args()
    runs = 200 if args.quick else args.runs
    with tempfile.TemporaryDirectory(prefix="shopfloor-token-bench-") as tmp:
        tmp = Path(tmp)
        if args.db in ("all", "sqlite"):
            run("sqlite", f"sqlite:///{tmp / 'bench.db'}", tmp / "instance-sqlite", runs)
        if args.db in ("all", "postgresql"):
            with postgres_database("token_bench") as url:
                run("postgresql", url, tmp / "instance-pg", runs)


if __name__ == "__main__":
    main()
