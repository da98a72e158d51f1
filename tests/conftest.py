"""Fixtures: a fresh database per test, on SQLite and again on a real PostgreSQL server.

Every test that uses a database runs once per backend (`--db sqlite|postgresql|all`,
default all). The schema and the referential are built once per backend into a
template; each test gets its own copy (a file copy on SQLite, CREATE DATABASE …
TEMPLATE on PostgreSQL)."""
from __future__ import annotations

import itertools
import shutil
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from shopfloor import clock, create_app
from shopfloor.auth.services import UserInput, create_token, create_user
from shopfloor.db import Sessions, make_engine
from shopfloor.models import metadata
from shopfloor.referential.services import load_referential

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
BACKENDS = ("sqlite", "postgresql")


def pytest_addoption(parser):
    parser.addoption("--db", default="all", choices=("all",) + BACKENDS, help="database backend(s) to test on")


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        choice = metafunc.config.getoption("--db")
        backends = BACKENDS if choice == "all" else (choice,)
        metafunc.parametrize("backend", backends, scope="session")


def _build_template(url: str) -> None:
    engine = make_engine(url)
    metadata.create_all(engine)
    db = Sessions(engine).open(write=True)
    load_referential(db)
    db.commit()
    db.close()
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_server():
    from tests.pgserver import PostgresServer
    server = PostgresServer().start()
    yield server
    server.stop()


_counter = itertools.count()


@contextmanager
def pg_database(server, template: str | None = None):
    """A new PostgreSQL database (a copy of `template` when given), dropped afterwards."""
    name = f"sf_test_{next(_counter)}"
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")))
    try:
        yield server.url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(scope="session")
def template(backend, tmp_path_factory, request):
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.db"
        _build_template(f"sqlite:///{path}")
        return path
    server = request.getfixturevalue("postgres_server")
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE sf_template"))
    admin.dispose()
    _build_template(server.url("sf_template"))
    return server


@pytest.fixture
def database_url(backend, template, tmp_path):
    if backend == "sqlite":
        path = tmp_path / "shopfloor.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    with pg_database(template, "sf_template") as url:
        yield url


@pytest.fixture
def app_config(database_url, tmp_path) -> dict:
    return {"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False, "TESTING": True}


@pytest.fixture
def app(app_config):
    application = create_app(app_config)
    yield application
    application.extensions["shopfloor_sessions"].engine.dispose()


@pytest.fixture
def db(app):
    """A session for arranging data and calling services. Tests commit what they arrange, and
    roll back before reading what the app wrote (a SQLite snapshot lasts until then). Its
    transactions are deferred, so it never holds the write lock while the app works."""
    session = app.extensions["shopfloor_sessions"].open(write=False)
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def frozen_clock(now):
    """Pages, API and jobs read shopfloor.clock: within the test it answers `now`."""
    with clock.frozen(now):
        yield now


class People:
    """The cast of the permission tests: two tutors, their apprentices, an admin."""

    def __init__(self, db):
        self.db = db
        self.admin = create_user(db, UserInput("admin", "Ada Admin", "admin", "clef-direction-2026"))
        self.tutor = create_user(db, UserInput("tutor", "Théo Tuteur", "tutor", "clef-formateur-2026"))
        self.other_tutor = create_user(db, UserInput("tutor2", "Tina Tutrice", "tutor", "clef-formateur-2026"))
        self.apprentice = create_user(db, UserInput("appr", "Alice Apprentie", "apprentice", "clef-atelier-2026",
                                                    tutor="tutor", certifications=("LOG", "MAINT")))
        self.other_apprentice = create_user(db, UserInput("appr2", "Bruno Apprenti", "apprentice", "clef-atelier-2026",
                                                          tutor="tutor2", certifications=("LOG",)))
        db.commit()
        self._tokens: dict[str, str] = {}

    def token(self, user) -> str:
        if user.username not in self._tokens:
            self._tokens[user.username] = create_token(self.db, user)
            self.db.commit()
        return self._tokens[user.username]

    def headers(self, user) -> dict:
        return {"Authorization": f"Bearer {self.token(user)}"}


@pytest.fixture
def people(db) -> People:
    return People(db)


def fresh(db):
    """Forget what this session read, so the next read sees what the app has committed."""
    db.rollback()
    db.expire_all()


def login(client, username: str, password: str):
    return client.post("/login", data={"username": username, "password": password})


@pytest.fixture
def empty_database_url(backend, tmp_path, request):
    """A database with nothing in it, for migrations and `shopfloor init`."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with pg_database(request.getfixturevalue("postgres_server")) as url:
        yield url
