"""What the benchmarks share: a throw-away PostgreSQL database, percentiles, a statement counter."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event, text


@contextmanager
def postgres_database(name: str) -> Iterator[str]:
    """A throw-away PostgreSQL server (tests/pgserver.py: loopback, fsync off) holding one empty database
    of that name; yields its URL and removes the server afterwards."""
    from tests.pgserver import PostgresServer
    server = PostgresServer().start()
    try:
        admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        yield server.url(name)
    finally:
        server.stop()


def percentile(values, share: float):
    """The value below which `share` of the values fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


class Statements:
    """The SQL statements an engine sends while an action runs (every cursor execute, SQLite's BEGIN included)."""

    def __init__(self, engine):
        self.seen, self.on = [], False
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _conn, _cursor, statement, *_args):
        if self.on:
            self.seen.append(statement)

    def during(self, action) -> list[str]:
        self.seen, self.on = [], True
        try:
            action()
        finally:
            self.on = False
        return self.seen

    def count(self, action) -> int:
        return len(self.during(action))
