"""Alembic's history builds exactly the schema the models describe, on both databases."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from shopfloor.migrate import upgrade
from shopfloor.models import metadata


def test_migrations_match_the_models(empty_database_url):
    upgrade(empty_database_url)
    upgrade(empty_database_url)  # a second run is a no-op
    engine = create_engine(empty_database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    engine.dispose()
    assert diff == []
