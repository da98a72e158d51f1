"""What the API token check costs a request (issue 19), on SQLite and PostgreSQL.

Prints, median over --runs requests through the app (Flask test client):
1. `user_for_token` alone (the check: find the token, its user, maybe record its last use), with the
   SQL statements it runs, beside the hand-written SQL reading the same token and user;
2. `GET /api/v1/me` with the token, and its share spent in the check;
3. a revoked token's next request (must answer 401 at once).

    .venv/bin/python benchmarks/api_token.py [--runs 2000] [--db all|sqlite|postgresql] [--quick]
"""
from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, event, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shopfloor import clock, create_app  # noqa: E402
from shopfloor.auth.models import User  # noqa: E402
from shopfloor.auth.services import UserInput, create_token, create_user, revoke_tokens, user_for_token  # noqa: E402
from shopfloor.models import metadata  # noqa: E402
from shopfloor.referential.services import load_referential  # noqa: E402


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


class Counter:
    """SQL statements run on an engine while `counting` is on."""

    def __init__(self, engine):
        self.count, self.counting = 0, False
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args) -> None:
        if self.counting:
            self.count += 1


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


def check_cost(app, token: str, runs: int, counter: Counter) -> tuple[float, float]:
    sessions = app.extensions["shopfloor_sessions"]
    samples = []
    now = clock.now()
    for n in range(runs + 1):
        db = sessions.open(write=False)
        counter.counting, counter.count = n == runs, 0
        started = time.perf_counter()
        assert user_for_token(db, token, now) is not None
        elapsed = time.perf_counter() - started
        counter.counting = False
        db.close()
        if n:
            samples.append(elapsed)
    statements = counter.count
    floor = []
    digest = hashlib.sha256(token.encode()).hexdigest()
    sql = text("SELECT u.* FROM core_api_token t JOIN core_user u ON u.id = t.user_id "
               "WHERE t.token_hash = :h AND t.revoked_at IS NULL AND u.active")
    with sessions.engine.connect() as conn:
        for _ in range(runs):
            started = time.perf_counter()
            assert conn.execute(sql, {"h": digest}).first() is not None
            floor.append(time.perf_counter() - started)
    print(f"  user_for_token: median {median_ms(samples):.3f} ms, {statements} statement(s); hand-written SQL "
          f"{median_ms(floor):.3f} ms; ratio {median_ms(samples) / median_ms(floor):.1f}×")
    return median_ms(samples), statements


def request_cost(app, token: str, runs: int, check_ms: float, counter: Counter) -> None:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    samples = []
    for n in range(runs + 1):
        counter.counting, counter.count = n == runs, 0
        started = time.perf_counter()
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        elapsed = time.perf_counter() - started
        counter.counting = False
        if n:
            samples.append(elapsed)
    request_ms = median_ms(samples)
    print(f"  GET /api/v1/me: median {request_ms:.3f} ms, {counter.count} statement(s); the token check is "
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
    counter = Counter(app.extensions["shopfloor_sessions"].engine)
    print(f"{backend}:")
    check_ms, _ = check_cost(app, token, runs, counter)
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
            from tests.pgserver import PostgresServer
            server = PostgresServer().start()
            try:
                admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text("CREATE DATABASE token_bench"))
                admin.dispose()
                run("postgresql", server.url("token_bench"), tmp / "instance-pg", runs)
            finally:
                server.stop()


if __name__ == "__main__":
    main()
