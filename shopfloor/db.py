"""Database engine, declarative base and the per-request session (one transaction per action)."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

from flask import current_app, g, has_request_context, request
from sqlalchemy import DateTime, MetaData, create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from shopfloor.errors import NotFound

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC: the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is expected")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=timezone.utc) if value is not None else None


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def _for_update(model) -> dict:
    """FOR UPDATE OF the model's own tables: PostgreSQL refuses to lock the nullable side of the
    outer joins that eager-loaded relationships add to the SELECT."""
    return {"of": list(inspect(model).tables)}


def lock(db: Session, row):
    """Lock the row a state change decides on, and re-read it, before deciding.

    PostgreSQL: SELECT … FOR UPDATE, so a second writer waits for the first to commit and
    then reads what it committed. SQLite: a writing session holds the database write lock
    since BEGIN IMMEDIATE (see make_engine), so the re-read alone is enough. What the action
    changed before is flushed first, so that the re-read keeps it."""
    if db.dirty:
        db.flush()
    db.refresh(row, with_for_update=_for_update(type(row)))
    return row


def lock_by_id(db: Session, model, ident: int, message: str, field: str):
    """The row with this primary key, locked and freshly read, or a 404 naming the field."""
    if db.dirty:
        db.flush()  # the re-read keeps what the action changed before
    row = db.get(model, ident, with_for_update=_for_update(model), populate_existing=True)
    if row is None:
        raise NotFound(message, field)
    return row


def make_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself, below
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL", "busy_timeout=30000"):
            dbapi_conn.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn):
        # A writing action takes SQLite's write lock before its first read, so two
        # actions can never both read the same free stock and both take it.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

    return engine


class Sessions:
    """Two session factories on one pool: writers take the write lock at BEGIN.

    Every session carries the app's registry in `session.info["registry"]`, so that the core can
    reach what modules declared (origins, Pareto sources…) wherever a session is, in a request,
    a job or the CLI."""

    def __init__(self, engine: Engine, registry=None):
        self.engine = engine
        info = {"registry": registry}
        self.reader = sessionmaker(bind=engine, expire_on_commit=False, info=info)
        self.writer = sessionmaker(bind=engine.execution_options(write=True), expire_on_commit=False, info=info)

    def open(self, write: bool) -> Session:
        return (self.writer if write else self.reader)()


@contextmanager
def side_transaction(db: Session) -> Iterator[Session]:
    """A write that commits apart from the action's own transaction, on its own connection: a
    failed login keeps its count and audit line although the request answers an error, a reading
    request records a token's last use without taking SQLite's write lock for its whole length.
    Commits when the block ends without error; keep it short."""
    with Session(db.get_bind().execution_options(write=True), info=dict(db.info)) as writer, writer.begin():
        yield writer


def session() -> Session:
    """The session of the current request or CLI command, opened on first use."""
    if "db_session" not in g:
        write = not has_request_context() or request.method not in ("GET", "HEAD", "OPTIONS")
        g.db_session = current_app.extensions["shopfloor_sessions"].open(write)
    return g.db_session


def close_session(exc: BaseException | None = None) -> None:
    db = g.pop("db_session", None)
    if db is not None:
        if exc is not None:
            db.rollback()
        db.close()
