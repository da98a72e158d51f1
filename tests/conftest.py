"""Fixtures: a fresh database per test, on SQLite and again on a real PostgreSQL server.

Every test that uses a database runs once per backend (`--db sqlite|postgresql|all`, default all);
the browser tests (tests/browser/) run once, on SQLite. The schema and the referential are built
once per backend into a template, and once more with the standard cast of users (`People`) into a
second template; each test gets its own copy (a file copy on SQLite, CREATE DATABASE … TEMPLATE on
PostgreSQL): of the second one when it asks for `people` (directly or through another fixture), of
the first one otherwise, so a test that does not ask for the cast gets a database without any user.

What keeps the suite fast (`./scripts/test` runs it on 2 workers with pytest-xdist):
- passwords are hashed with a cheap pbkdf2 in the test process (shopfloor.auth.services.PASSWORD_METHOD,
  set below; production keeps scrypt, tests/test_suite_setup.py proves it);
- each xdist worker builds its own templates and starts its own PostgreSQL server; every database
  name carries the worker's id;
- markers set here: `browser` (tests/browser/), `pg` (the PostgreSQL runs), so that
  `pytest -m "not browser" --db sqlite tests/stock` runs one module in seconds;
- under xdist the slowest tests are handed out first, and the demo at hard dates (one fixture
  starting every date at once) stays on one worker (`--dist loadgroup`)."""
from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, NamedTuple

import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.orm import selectinload

from shopfloor.auth import services as auth_services

# Before anything hashes a password (the templates, the demo, every create_user of the tests).
# One pbkdf2 round: the hash is verified as in production, at no cost.
FAST_PASSWORD_METHOD = "pbkdf2:sha256:1"
auth_services.PASSWORD_METHOD = FAST_PASSWORD_METHOD

from shopfloor import clock, create_app  # noqa: E402
from shopfloor.app import attach_database  # noqa: E402
from shopfloor.auth.models import User  # noqa: E402
from shopfloor.auth.services import UserInput, create_token, create_user  # noqa: E402
from shopfloor.db import Sessions, make_engine  # noqa: E402
from shopfloor.migrate import upgrade  # noqa: E402
from shopfloor.models import metadata  # noqa: E402
from shopfloor.referential.services import load_referential  # noqa: E402

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
BACKENDS = ("sqlite", "postgresql")
TESTS = Path(__file__).resolve().parent
BROWSER_TESTS = TESTS / "browser"
# "gw0", "gw1"… under pytest-xdist; every PostgreSQL database name carries it.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
# Files whose tests share one worker under xdist: the demo at hard dates has a module fixture that
# starts every selected date at once (in any worker that gets one of its tests).
ONE_WORKER_FILES = ("tests/core/test_demo_dates.py",)
# Handed out first under xdist (longest first, roughly, as measured): a long test started last
# would leave the other worker idle while it runs.
SLOW_FIRST = ("tests/core/test_demo_dates.py", "tests/core/test_api_fuzz.py", "tests/core/test_freeze_all_paths.py",
              "tests/browser/", "tests/core/test_races.py")


def pytest_addoption(parser):
    parser.addoption("--db", default="all", choices=("all",) + BACKENDS, help="database backend(s) to test on")


def _is_browser_test(path) -> bool:
    return Path(path).resolve().is_relative_to(BROWSER_TESTS)


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        choice = metafunc.config.getoption("--db")
        backends = BACKENDS if choice == "all" else (choice,)
        if _is_browser_test(metafunc.definition.path):
            # once, on SQLite: what they check is the pages in a browser, not the database
            backends = ["sqlite" if "sqlite" in backends else
                        pytest.param("sqlite", marks=pytest.mark.skip(reason="browser tests run on SQLite only"))]
        metafunc.parametrize("backend", backends, scope="session")


@pytest.hookimpl(tryfirst=True)   # before -m reads the markers and xdist reads xdist_group
def pytest_collection_modifyitems(config, items):
    for item in items:
        if _is_browser_test(item.path):
            item.add_marker(pytest.mark.browser)
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("backend") == "postgresql":
            item.add_marker(pytest.mark.pg)
        if item.nodeid.split("::", 1)[0] in ONE_WORKER_FILES:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))


class _SlowFirst:
    """Under xdist, after pytest has grouped the tests by backend: the slowest first (stable otherwise)."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items):
        def rank(item):
            return next((i for i, prefix in enumerate(SLOW_FIRST) if item.nodeid.startswith(prefix)), len(SLOW_FIRST))
        items.sort(key=rank)


def pytest_configure(config):
    if os.environ.get("PYTEST_XDIST_WORKER"):
        config.pluginmanager.register(_SlowFirst(), "shopfloor-slow-first")


@pytest.hookimpl(optionalhook=True)   # a pytest-xdist hook, in its controller process
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadgroup`, done here: xdist 3.8 groups by renaming `item._nodeid`, which pytest 9.2 no
    longer reads, so its own loadgroup hands the group's tests to any worker. The same scheduler,
    told the groups by node id: the files of ONE_WORKER_FILES, and any `…@group` xdist would name."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class OneWorkerGroups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if "@" in nodeid.rsplit("]", 1)[-1]:
                return nodeid.rsplit("@", 1)[-1]
            path = nodeid.split("::", 1)[0]
            return path if path in ONE_WORKER_FILES else nodeid

    return OneWorkerGroups(config, log)


# -- Template databases ---------------------------------------------------------------------

def _build_schema(url: str) -> None:
    engine = make_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    _load_referential(url)


def _migrate(url: str) -> None:
    """What `shopfloor init` makes of an empty database: the migrations, then the referential."""
    upgrade(url)
    _load_referential(url)


def _load_referential(url: str) -> None:
    engine = make_engine(url)
    db = Sessions(engine).open(write=True)
    load_referential(db)
    db.commit()
    db.close()
    engine.dispose()


def _add_people(url: str) -> None:
    """The cast, made as the `people` fixture used to make it in every test (at NOW)."""
    engine = make_engine(url)
    db = Sessions(engine).open(write=True)
    with clock.frozen(NOW):
        People(db)
    db.close()
    engine.dispose()


# kind → (the kind it starts from, what fills it): the schema and the referential; the same with the People
# cast; what `shopfloor init` makes (the migrations, then the referential)
BUILDS = {"base": (None, _build_schema), "people": ("base", _add_people), "initialised": (None, _migrate)}


class DatabaseTemplate(NamedTuple):
    """A test module's own template, named by its `DATABASE_TEMPLATE`: `build(url)` fills a copy of the base
    template once per process and backend, and returns what its tests need to know of it (ids…), which the
    `template_info` fixture hands them. For data that takes seconds to make and that every test of the
    module starts from."""
    name: str
    build: Callable[[str], object]


def filled_with_app(url: str, fill: Callable):
    """`fill(app, db)` with an app of its own on the database at `url` (a DatabaseTemplate's build), committed;
    answers what `fill` returns."""
    with tempfile.TemporaryDirectory() as instance:
        application = create_app({"DATABASE_URL": url, "INSTANCE_PATH": instance, "SECRET_KEY": "test-secret",
                                  "WTF_CSRF_ENABLED": False, "TESTING": True})
        db = application.extensions["shopfloor_sessions"].open(write=False)
        try:
            with application.app_context():
                answer = fill(application, db)
            db.commit()
            return answer
        finally:
            db.close()
            application.extensions["shopfloor_sessions"].engine.dispose()


class Templates:
    """This process's template databases, built on first use: one per backend and kind."""

    def __init__(self, tmp_path_factory, request):
        self._tmp_path_factory, self._request = tmp_path_factory, request
        self._built: dict[tuple[str, str], object] = {}
        self.info: dict[tuple[str, str], object] = {}

    def sqlite(self, kind: str, module_template: DatabaseTemplate | None = None) -> Path:
        key = ("sqlite", kind)
        if key not in self._built:
            source, build = ("base", module_template.build) if module_template else BUILDS[kind]
            path = self._tmp_path_factory.mktemp("template") / f"{kind}.db"
            if source:
                shutil.copyfile(self.sqlite(source), path)
            self.info[key] = build(f"sqlite:///{path}")
            self._built[key] = path
        return self._built[key]

    def postgresql(self, kind: str, module_template: DatabaseTemplate | None = None) -> str:
        """The name of the template database of that kind on this worker's server."""
        key = ("postgresql", kind)
        if key not in self._built:
            source, build = ("base", module_template.build) if module_template else BUILDS[kind]
            server = self._request.getfixturevalue("postgres_server")
            name = f"sf_{WORKER}_template_{kind}"
            source_name = self.postgresql(source) if source else None
            admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {name}" + (f" TEMPLATE {source_name}" if source_name else "")))
            admin.dispose()
            self.info[key] = build(server.url(name))
            self._built[key] = name
        return self._built[key]


@pytest.fixture(scope="session")
def templates(tmp_path_factory, request) -> Templates:
    return Templates(tmp_path_factory, request)


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
    name = f"sf_{WORKER}_test_{next(_counter)}"
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")))
    try:
        yield server.url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def _template_kind(request) -> tuple[str, DatabaseTemplate | None]:
    module_template = getattr(request.module, "DATABASE_TEMPLATE", None)
    if module_template is not None:
        return module_template.name, module_template
    return ("people" if "people" in request.fixturenames else "base"), None


@pytest.fixture
def database_url(backend, templates, tmp_path, request):
    """A copy of the template: the test module's own (DATABASE_TEMPLATE), else with the People cast when the
    test asks for `people`, without any user otherwise."""
    kind, module_template = _template_kind(request)
    if backend == "sqlite":
        path = tmp_path / "shopfloor.db"
        shutil.copyfile(templates.sqlite(kind, module_template), path)
        yield f"sqlite:///{path}"
        return
    template = templates.postgresql(kind, module_template)
    with pg_database(request.getfixturevalue("postgres_server"), template) as url:
        yield url


@pytest.fixture
def template_info(database_url, backend, templates, request):
    """What the test module's DATABASE_TEMPLATE build returned, for the copy this test works on."""
    return templates.info[(backend, _template_kind(request)[0])]


@pytest.fixture
def app_config(database_url, tmp_path) -> dict:
    return {"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False, "TESTING": True}


@pytest.fixture(scope="session")
def shared_app(tmp_path_factory):
    """The app the `app` fixture lends to each test of this process: building one costs 0.1 to 0.2 s
    (werkzeug compiles some 300 URL rules), more than most tests, and it would render every template
    afresh."""
    folder = tmp_path_factory.mktemp("shared_app")
    return create_app({"INSTANCE_PATH": str(folder / "instance"), "DATABASE_URL": f"sqlite:///{folder / 'unused.db'}",
                       "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False, "TESTING": True})


@pytest.fixture
def app(shared_app, app_config):
    """The shared app on this test's own database and instance folder; the configuration and the
    registry a test changes are put back when it ends."""
    config, modules = dict(shared_app.config), list(shared_app.extensions["shopfloor_registry"].modules)
    Path(app_config["INSTANCE_PATH"]).mkdir(parents=True, exist_ok=True)
    shared_app.config.update(app_config)
    shared_app.instance_path = app_config["INSTANCE_PATH"]
    attach_database(shared_app, app_config["DATABASE_URL"])
    try:
        yield shared_app
    finally:
        shared_app.extensions["shopfloor_sessions"].engine.dispose()
        shared_app.config.clear()
        shared_app.config.update(config)
        shared_app.extensions["shopfloor_registry"].modules[:] = modules


@pytest.fixture
def own_app(app_config):
    """An app of its own on the test's database, for a test that adds a view (the shared one has
    served requests: Flask refuses new views on it)."""
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
    """The cast of the permission tests: two tutors, their apprentices, an admin.

    `People(db)` creates them; the `people` fixture finds them already in its database (the
    template holds them) and loads them in the test's session with `People.of(db)`."""

    CAST = {"admin": "admin", "tutor": "tutor", "other_tutor": "tutor2", "apprentice": "appr",
            "other_apprentice": "appr2"}

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

    @classmethod
    def of(cls, db) -> "People | None":
        """The cast already in the database, loaded as creating it leaves it (tutor, certifications
        and cohort in memory, transaction ended); None when it is not there."""
        users = {user.username: user for user in db.scalars(
            select(User).where(User.username.in_(cls.CAST.values()))
            .options(selectinload(User.tutor), selectinload(User.certifications), selectinload(User.cohort)))}
        db.commit()
        if set(users) != set(cls.CAST.values()):
            return None
        people = cls.__new__(cls)
        people.db = db
        for attribute, username in cls.CAST.items():
            setattr(people, attribute, users[username])
        people._tokens = {}
        return people

    def token(self, user) -> str:
        if user.username not in self._tokens:
            self._tokens[user.username] = create_token(self.db, user)
            self.db.commit()
        return self._tokens[user.username]

    def headers(self, user) -> dict:
        return {"Authorization": f"Bearer {self.token(user)}"}


@pytest.fixture
def people(db) -> People:
    # the database is a copy of the template with the cast (see database_url), unless the test
    # asked for `people` in a way the fixture closure does not show: then it is made here
    return People.of(db) or People(db)


@contextmanager
def statements_sent(engine):
    """Every SQL statement the engine sends while the block runs, whitespace folded: for tests that count
    them (a count, never a time)."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def fresh(db):
    """Forget what this session read, so the next read sees what the app has committed."""
    db.rollback()
    db.expire_all()


def login(client, username: str, password: str):
    return client.post("/login", data={"username": username, "password": password})


@pytest.fixture
def initialised_database_url(backend, templates, tmp_path, request):
    """A copy of a database `shopfloor init` made, for the commands that come after it."""
    if backend == "sqlite":
        path = tmp_path / "initialised.db"
        shutil.copyfile(templates.sqlite("initialised"), path)
        yield f"sqlite:///{path}"
        return
    with pg_database(request.getfixturevalue("postgres_server"), templates.postgresql("initialised")) as url:
        yield url


@pytest.fixture
def empty_database_url(backend, tmp_path, request):
    """A database with nothing in it, for migrations and `shopfloor init`."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with pg_database(request.getfixturevalue("postgres_server")) as url:
        yield url
