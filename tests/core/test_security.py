"""Issue 12, ASVS level 1: sessions that end, no open redirect, browser protections, passwords that
resist, one answer for known and unknown users, a demo that never lands on a real site, an audit trail."""
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import create_engine, func, select, text

from shopfloor import create_app, security
from shopfloor.auth import services
from shopfloor.auth.models import ApiToken, AuditEvent, User
from shopfloor.auth.services import UserInput, authenticate, create_user
from shopfloor.errors import ValidationError
from tests.conftest import fresh, login
from tests.core.test_cli import run, run_after_init  # noqa: F401  (the CLI fixtures)

PASSWORDS = {"admin": "clef-direction-2026", "tutor": "clef-formateur-2026", "appr": "clef-atelier-2026"}


def _session_cookie(client) -> str:
    return client.get_cookie("session").value


def _replay(app, cookie: str):
    """A second browser that only has a copy of the cookie."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


# -- Sessions ----------------------------------------------------------------------

def test_a_cookie_copied_before_logout_is_dead_after_it(app, client, people):
    login(client, "appr", PASSWORDS["appr"])
    copied = _session_cookie(client)
    assert _replay(app, copied).get("/").status_code == 200
    client.post("/logout")
    response = _replay(app, copied).get("/")
    assert response.status_code == 302 and "/login" in response.location


def test_logout_ends_every_session_of_the_user_but_not_the_api_tokens(app, people):
    tablet, laptop = app.test_client(), app.test_client()
    login(tablet, "appr", PASSWORDS["appr"])
    login(laptop, "appr", PASSWORDS["appr"])
    headers = people.headers(people.apprentice)
    tablet.post("/logout")
    assert laptop.get("/").status_code == 302
    assert laptop.get("/api/v1/me", headers=headers).status_code == 200


def test_an_admin_password_reset_ends_the_users_sessions(app, client, people, db):
    login(client, "appr", PASSWORDS["appr"])
    copied = _session_cookie(client)
    admin = app.test_client()
    login(admin, "admin", PASSWORDS["admin"])
    response = admin.post("/admin/users/appr", data={
        "username": "appr", "full_name": "Alice Apprentie", "role": "apprentice", "tutor": "tutor",
        "certifications": ["LOG", "MAINT"], "locale": "fr", "active": "on", "password": "nouvelle-clef-atelier"})
    assert response.status_code == 302
    assert client.get("/").status_code == 302
    assert _replay(app, copied).get("/").status_code == 302
    assert login(app.test_client(), "appr", "nouvelle-clef-atelier").status_code == 302


def test_an_admin_changing_their_own_password_stays_logged_in_here_only(app, client, people):
    other = app.test_client()
    login(client, "admin", PASSWORDS["admin"])
    login(other, "admin", PASSWORDS["admin"])
    response = client.post("/admin/users/admin", data={"username": "admin", "full_name": "Ada Admin", "role": "admin",
                                                       "locale": "fr", "active": "on", "password": "une autre phrase"})
    assert response.status_code == 302
    assert client.get("/admin/users").status_code == 200
    assert other.get("/admin/users").status_code == 302


def test_deactivation_ends_sessions_and_revokes_tokens(app, client, people, db):
    login(client, "appr", PASSWORDS["appr"])
    headers = people.headers(people.apprentice)
    admin = app.test_client()
    login(admin, "admin", PASSWORDS["admin"])
    admin.post("/admin/users/appr", data={"username": "appr", "full_name": "Alice Apprentie", "role": "apprentice",
                                          "tutor": "tutor", "certifications": ["LOG"], "locale": "fr"})
    assert client.get("/").status_code == 302
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    fresh(db)
    assert db.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_(None))) == 0


def test_changing_ones_password_keeps_this_session_and_ends_the_others(app, client, people):
    other = app.test_client()
    login(client, "appr", PASSWORDS["appr"])
    login(other, "appr", PASSWORDS["appr"])
    response = client.post("/account/password", data={"current_password": "wrong", "password": "x",
                                                       "confirm": "x"})
    assert response.status_code == 422 and "mot de passe actuel est incorrect" in response.get_data(as_text=True)
    response = client.post("/account/password", data={"current_password": PASSWORDS["appr"],
                                                       "password": "Trois mots au hasard", "confirm": "Trois mots au hasard"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302


def test_session_cookie_flags_and_idle_lifetime(app_config, people, monkeypatch):
    monkeypatch.setenv("SHOPFLOOR_SESSION_IDLE_HOURS", "2")
    monkeypatch.setenv("SHOPFLOOR_SECURE_COOKIES", "1")
    app = create_app(app_config)
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=2)
    client = app.test_client()
    cookie = login(client, "appr", PASSWORDS["appr"]).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie and "Expires=" in cookie
    app.extensions["shopfloor_sessions"].engine.dispose()


def test_a_session_idle_longer_than_the_lifetime_is_refused(app, client, people, monkeypatch):
    """The cookie's signed timestamp is checked by the server: a copy older than the idle lifetime fails."""
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 9 * 3600)
    login(client, "appr", PASSWORDS["appr"])
    old = _session_cookie(client)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", real)
    assert _replay(app, old).get("/").status_code == 302
    login(client, "appr", PASSWORDS["appr"])
    assert _replay(app, _session_cookie(client)).get("/").status_code == 200


# -- Redirects ---------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "//evil.example/", "/%09/evil.example", "/\t/evil.example", "/\\evil.example", "/%5Cevil.example",
    "https://evil.example/", "%2F%2Fevil.example", "/%2F%2Fevil.example", "/%252F%252Fevil.example",
    "javascript:alert(1)", "///evil.example", "/%0d%0aLocation:%20//evil.example", " /x", "evil.example",
    "/\x00/evil.example", "http:/evil.example", "/%E2%80%8B/x\u0085",
])
def test_login_never_redirects_off_site(client, people, target):
    response = client.post("/login", query_string={"next": target}, data={"username": "appr",
                                                                          "password": PASSWORDS["appr"]})
    # (a NUL byte is refused outright with a 400: no redirect either)
    assert response.status_code == 400 or (response.status_code == 302 and response.headers["Location"] == "/")


def test_login_follows_a_relative_next(client, people):
    response = client.post("/login", query_string={"next": "/maintenance/?open=1"},
                           data={"username": "appr", "password": PASSWORDS["appr"]})
    assert response.headers["Location"] == "/maintenance/?open=1"


def test_the_language_switch_does_not_redirect_off_site(client, people):
    login(client, "appr", PASSWORDS["appr"])
    response = client.post("/language", data={"locale": "en", "next": "/%09/evil.example"})
    assert response.headers["Location"] == "/"


# -- Browser protections -----------------------------------------------------------

SCRIPT = re.compile(r"<script\b([^>]*)>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def _check_html(response, path):
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src, path
    assert headers["X-Content-Type-Options"] == "nosniff", path
    assert headers["Referrer-Policy"] in ("same-origin", "no-referrer"), path
    assert "camera=" in headers["Permissions-Policy"], path
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    page = response.get_data(as_text=True)
    for attributes in SCRIPT.findall(page):
        if 'type="application/json"' in attributes:
            continue
        assert f'nonce="{nonce}"' in attributes, (path, attributes)
    assert not INLINE_HANDLER.search(page), (path, INLINE_HANDLER.search(page).group(0))
    assert "javascript:" not in page, path
    return csp


def test_every_page_carries_the_headers_and_no_inline_script_runs_without_the_nonce(app, client, people):
    csp = _check_html(client.get("/login"), "/login")
    assert "frame-ancestors 'none'" in csp
    for username in ("admin", "tutor", "appr"):
        login(client, username, PASSWORDS[username])
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.arguments or rule.rule.startswith("/api/"):
                continue
            response = client.get(rule.rule)
            if response.mimetype == "text/html" and response.status_code == 200:
                _check_html(response, rule.rule)
                assert response.headers["X-Frame-Options"] == "DENY"
        client.post("/logout")


def test_json_and_errors_carry_the_headers_too(client, people):
    for response in (client.get("/healthz"), client.get("/nowhere")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_the_camera_is_allowed_only_on_the_pages_that_scan(client, people):
    login(client, "appr", PASSWORDS["appr"])
    assert "camera=(self)" in client.get("/stock/").headers["Permissions-Policy"]
    assert "camera=()" in client.get("/").headers["Permissions-Policy"]


def test_the_workshop_screen_may_be_framed_by_this_site_only(client, db, people, now):
    from dashboards import inputs as board_inputs, screens, services as boards
    from dashboards.inputs import NewScreen
    board = boards.create_board(db, people.tutor, board_inputs.new_board({"name": "Atelier AIC", "level": 2, "rows": [
        {"letter": "S", "indicator": "aic.safety", "target": 0, "threshold": 1}]}), now.date())
    _, token = screens.create_screen(db, people.admin, NewScreen(name="Allée centrale", board_ids=[board.id]))
    db.commit()
    response = client.get(f"/screen/{token}")
    assert response.status_code == 200
    csp = _check_html(response, "/screen/<token>")
    assert "frame-ancestors 'self'" in csp and response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Referrer-Policy"] == "no-referrer"  # the token is in its URL
    assert "camera=()" in response.headers["Permissions-Policy"]


def test_each_request_gets_its_own_nonce(client, people):
    first = client.get("/login").headers["Content-Security-Policy"]
    second = client.get("/login").headers["Content-Security-Policy"]
    assert re.search(r"'nonce-([^']+)'", first).group(1) != re.search(r"'nonce-([^']+)'", second).group(1)


def test_the_report_print_script_is_the_one_allowed_by_hash():
    template = Path(security.__file__).parent / "templates" / "evidence" / "report_print.html"
    assert f"<script>{security.REPORT_PRINT_SCRIPT}</script>" in template.read_text()


# -- Passwords ---------------------------------------------------------------------

@pytest.mark.parametrize("password,message", [
    ("password", "au moins 12"),
    ("12345678", "au moins 12"),
    ("password1234", "mots de passe les plus courants"),
    ("qwertyuiop!!", "mots de passe les plus courants"),
    ("motdepasse2026", "mots de passe les plus courants"),
    ("Azertyuiop-2026!", "mots de passe les plus courants"),
    ("zoe-atelier-2026", "ne doit pas contenir"),
    ("aaaaaaaaaaaaaa", "5 caractères différents"),
])
def test_weak_passwords_are_refused_with_the_reason(client, people, db, password, message):
    login(client, "admin", PASSWORDS["admin"])
    response = client.post("/admin/users/new", data={"username": "zoe", "full_name": "Zoé", "role": "tutor",
                                                     "password": password, "locale": "fr", "active": "on"})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.scalar(select(User).where(User.username == "zoe")) is None


def test_the_shipped_list_has_a_few_thousand_entries_and_a_source():
    assert 2000 <= len(services.common_passwords()) <= 20000
    head = (Path(services.__file__).parent / "common_passwords.txt").read_text().splitlines()[:7]
    assert any("Source" in line for line in head) and any("Licence" in line for line in head)


def test_a_long_passphrase_is_accepted(db, people):
    assert create_user(db, UserInput("zoe", "Zoé", "tutor", "le vérin fuit encore")).username == "zoe"


# -- One answer for known and unknown users ----------------------------------------

def test_unknown_user_wrong_password_and_lockout_answer_the_same(client, people, db, now):
    unknown = login(client, "ghost", "whatever-it-is")
    wrong = login(client, "appr", "whatever-it-is")
    for _ in range(5):
        login(client, "appr", "whatever-it-is")
    locked = login(client, "appr", PASSWORDS["appr"])
    bodies = [r.get_data(as_text=True) for r in (unknown, wrong, locked)]
    assert {r.status_code for r in (unknown, wrong, locked)} == {422}
    assert all(services.LOGIN_REFUSED in body for body in bodies)
    assert "verrouillé" not in bodies[2].replace(services.LOGIN_REFUSED, "")


def test_every_login_path_costs_one_hash_verification(db, people, now, monkeypatch):
    calls = []
    real = services.check_password_hash
    monkeypatch.setattr(services, "check_password_hash", lambda h, p: calls.append(h) or real(h, p))
    for username, password in (("ghost", "x"), ("appr", "x"), ("appr", PASSWORDS["appr"])):
        calls.clear()
        try:
            authenticate(db, username, password, now)
        except ValidationError:
            pass
        assert len(calls) == 1, username
        assert calls[0].split("$")[0] == people.apprentice.password_hash.split("$")[0]  # same method and cost


# -- The demo stays a demo -------------------------------------------------------------

def _users(url):
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT username, demo FROM core_user ORDER BY username")).all()
        sites = conn.scalar(text("SELECT count(*) FROM core_site"))
    engine.dispose()
    return rows, sites


def test_init_creates_no_user(run):  # noqa: F811
    assert run("init").exit_code == 0
    assert _users(run.url) == ([], 0)


def test_demo_refuses_a_database_with_a_real_user_and_writes_nothing(run_after_init):  # noqa: F811
    run = run_after_init
    assert run("user", "create", "--username", "chef", "--password", "clef-de-site-2026", "--role", "admin").exit_code == 0
    before = _users(run.url)
    result = run("demo")
    assert result.exit_code == 1 and "Refusé" in result.output and "Rien n'a été écrit" in result.output
    assert _users(run.url) == before
    forced = run("demo", "--force")
    assert forced.exit_code == 0 and "[démo] administrateur : admin / demo-direction" in forced.output
    users = dict(_users(run.url)[0])
    assert not users["chef"] and users["admin"] and users["lucas"]


# The demo on a new database marks its users and runs again: tests/core/test_cli.py, with its logins.


# -- Audit trail -------------------------------------------------------------------

def test_the_audit_page_shows_a_failed_login_a_lockout_and_a_role_change(app, client, people, db):
    attacker = app.test_client()
    for _ in range(5):
        login(attacker, "appr", "essai-de-mot-de-passe")
    login(attacker, "ghost", "essai-de-mot-de-passe")
    login(client, "admin", PASSWORDS["admin"])
    client.post("/admin/users/tutor2", data={"username": "tutor2", "full_name": "Tina Tutrice", "role": "admin",
                                             "locale": "fr", "active": "on"})
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "échec de connexion" in page and "verrouillage" in page and "changement de rôle" in page
    assert "essai-de-mot-de-passe" not in page and "ghost" in page and "127.0.0.1" in page
    role = client.get("/admin/audit", query_string={"kind": "role_changed"}).get_data(as_text=True)
    assert "tutor2" in role and "échec de connexion" not in role.split("<tbody>")[1]
    by_user = client.get("/admin/audit", query_string={"username": "appr", "kind": "lockout"}).get_data(as_text=True)
    assert "verrouillage" in by_user.split("<tbody>")[1]
    assert client.get("/admin/audit", query_string={"kind": "nope"}).status_code == 422
    assert client.get("/admin/audit", query_string={"since": "2026-13-01"}).status_code == 422
    login(app.test_client(), "tutor", PASSWORDS["tutor"])
    tutor = app.test_client()
    login(tutor, "tutor", PASSWORDS["tutor"])
    assert tutor.get("/admin/audit").status_code == 403


def test_tokens_are_audited_by_prefix_never_by_value(db, people, now):
    token = services.create_token(db, people.apprentice, actor=people.admin, now=now)
    services.revoke_tokens(db, people.apprentice, now, actor=people.admin)
    db.commit()
    events = services.audit_events(db, username="appr")
    kinds = [e.kind for e in events]
    assert "token_created" in kinds and "tokens_revoked" in kinds
    stored = repr([(e.details, e.username) for e in db.scalars(select(AuditEvent))])
    assert token not in stored and token[:10] in stored and PASSWORDS["appr"] not in stored
