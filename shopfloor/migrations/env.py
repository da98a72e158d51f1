"""Alembic environment: one linear history for SQLite and PostgreSQL."""
from alembic import context
from sqlalchemy import create_engine, event

from shopfloor.models import metadata

config = context.config


def run_migrations_online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    if engine.dialect.name == "sqlite":
        # batch mode rebuilds a table by dropping it: with foreign keys enforced, SQLite would
        # first delete its rows and cascade to their children (a PRAGMA is ignored inside BEGIN)
        @event.listens_for(engine, "connect")
        def _foreign_keys_off(dbapi_conn, _record):
            dbapi_conn.execute("PRAGMA foreign_keys=OFF")
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata,
                          render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
