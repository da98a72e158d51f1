"""The `shopfloor` command on a real database: init, users, tokens, jobs, bad arguments."""
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select, text

from shopfloor.cli import main
from shopfloor.referential.models import Block, Certification, Competence, Criterion


def _command_on(url, tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPFLOOR_DATABASE_URL", url)
    monkeypatch.setenv("SHOPFLOOR_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("SHOPFLOOR_SECRET_KEY", raising=False)
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)
    invoke.url = url
    return invoke


@pytest.fixture
def run(empty_database_url, tmp_path, monkeypatch):
    """`shopfloor …` on an empty database."""
    return _command_on(empty_database_url, tmp_path, monkeypatch)


@pytest.fixture
def run_after_init(initialised_database_url, tmp_path, monkeypatch):
    """`shopfloor …` on a database `shopfloor init` made (a copy of one made once: the migrations take seconds)."""
    return _command_on(initialised_database_url, tmp_path, monkeypatch)


def counts(url):
    engine = create_engine(url)
    with engine.connect() as conn:
        result = tuple(conn.scalar(select(func.count()).select_from(m))
                       for m in (Certification, Block, Competence, Criterion))
    engine.dispose()
    return result


def test_init_twice_leaves_exactly_the_referential(run, tmp_path):
    assert run("init").exit_code == 0
    first = counts(run.url)
    assert first[:3] == (5, 17, 41) and first[3] > 41
    assert run("init").exit_code == 0
    assert counts(run.url) == first
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0


def test_user_create_and_token_lifecycle(run_after_init):
    run = run_after_init
    result = run("user", "create", "--username", "tt", "--password", "clef-formateur-2026", "--role", "tutor")
    assert result.exit_code == 0, result.output
    result = run("user", "create", "--username", "aa", "--password", "clef-atelier-2026", "--role", "apprentice",
                 "--tutor", "tt", "--certification", "LOG", "--certification", "MAINT")
    assert result.exit_code == 0, result.output
    result = run("token", "create", "aa")
    assert result.exit_code == 0
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("sf_") and " " not in token

    from shopfloor import create_app
    app = create_app()
    client = app.test_client()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["username"] == "aa" and me["certifications"] == ["LOG", "MAINT"] and me["tutor"] == "tt"
    assert "1 jeton" in run("token", "revoke", "aa").output
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    app.extensions["shopfloor_sessions"].engine.dispose()


@pytest.mark.parametrize("args,message", [
    (["--username", "x y", "--password", "clef-nouvelle-2026", "--role", "tutor"], "Identifiant invalide"),
    (["--username", "bob", "--password", "short", "--role", "tutor"], "au moins 12"),
    (["--username", "bob", "--password", "clef-nouvelle-2026", "--role", "apprentice", "--certification", "NOPE"],
     "Certification inconnue"),
    (["--username", "bob", "--password", "clef-nouvelle-2026", "--role", "apprentice", "--tutor", "ghost"], "Tuteur inconnu"),
])
def test_bad_user_arguments_exit_non_zero_and_write_nothing(run_after_init, args, message):
    run = run_after_init
    result = run("user", "create", *args)
    assert result.exit_code == 1 and message in result.output
    engine = create_engine(run.url)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM core_user")) == 0
    engine.dispose()


def test_click_rejects_unknown_role_and_bad_now(run_after_init):
    run = run_after_init
    assert run("user", "create", "--username", "bob", "--password", "clef-nouvelle-2026", "--role", "boss").exit_code == 2
    result = run("jobs", "run", "--now", "tomorrow")
    assert result.exit_code == 2 and "--now" in result.output


def test_token_for_unknown_user(run_after_init):
    run = run_after_init
    result = run("token", "create", "ghost")
    assert result.exit_code == 1 and "Utilisateur inconnu" in result.output


def test_jobs_run_at_a_given_time(run_after_init):
    run = run_after_init
    result = run("jobs", "run", "--now", "2026-11-20T06:00:00+01:00")
    assert result.exit_code == 0 and "2026-11-20T05:00:00+00:00" in result.output


def test_demo_on_a_new_database_twice_prints_working_logins_and_marks_its_users(run):
    first = run("demo")
    assert first.exit_code == 0 and "tuteur / demo-formation" in first.output and "DÉMONSTRATION" in first.output
    engine = create_engine(run.url)
    with engine.connect() as conn:
        users = conn.execute(text("SELECT username, demo FROM core_user")).all()
    assert users and all(demo for _, demo in users)
    assert run("demo").exit_code == 0
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM core_user WHERE role = 'apprentice'")) == 5
        states = dict(conn.execute(text("SELECT state, count(*) FROM core_evidence GROUP BY state")).all())
    engine.dispose()
    assert set(states) == {"draft", "submitted", "validated", "returned"}
    from shopfloor import create_app
    app = create_app({"WTF_CSRF_ENABLED": False})
    client = app.test_client()
    assert client.post("/login", data={"username": "lucas", "password": "demo-apprenti"}).status_code == 302
    app.extensions["shopfloor_sessions"].engine.dispose()
