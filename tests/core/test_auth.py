"""Login, lock-out, deactivation, cookies, CSRF, language, and the admin's user pages."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shopfloor import create_app
from shopfloor.auth.models import User
from shopfloor.auth.services import authenticate
from shopfloor.errors import ValidationError
from tests.conftest import fresh, login


def test_login_then_home_in_french(client, people):
    response = login(client, "appr", "clef-atelier-2026")
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Ma couverture des compétences" in page and 'lang="fr"' in page


def test_wrong_password_is_refused_with_a_message(client, people):
    response = login(client, "appr", "nope")
    assert response.status_code == 422
    assert "Identifiant ou mot de passe incorrect" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_lockout_after_repeated_failures(db, people, now):
    for _ in range(5):
        with pytest.raises(ValidationError):
            authenticate(db, "appr", "wrong", now)
    with pytest.raises(ValidationError, match="Identifiant ou mot de passe incorrect"):  # the same answer
        authenticate(db, "appr", "clef-atelier-2026", now + timedelta(minutes=1))
    assert authenticate(db, "appr", "clef-atelier-2026", now + timedelta(minutes=16)).username == "appr"


def test_lockout_through_the_login_page(client, people, db):
    for _ in range(5):
        login(client, "appr", "wrong")
    response = login(client, "appr", "clef-atelier-2026")
    assert response.status_code == 422 and "Identifiant ou mot de passe incorrect" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_deactivated_user_cannot_log_in(client, people, db):
    people.apprentice.active = False
    db.commit()
    assert login(client, "appr", "clef-atelier-2026").status_code == 403


def test_session_cookie_is_httponly_and_samesite(client, people):
    response = login(client, "appr", "clef-atelier-2026")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_forms_require_csrf(app_config, people):
    app = create_app(dict(app_config, WTF_CSRF_ENABLED=True))
    client = app.test_client()
    response = client.post("/login", data={"username": "appr", "password": "clef-atelier-2026"})
    assert response.status_code == 400 and "expiré" in response.get_data(as_text=True)
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/login", data={"username": "appr", "password": "clef-atelier-2026", "csrf_token": token})
    assert response.status_code == 302
    app.extensions["shopfloor_sessions"].engine.dispose()


def test_language_switch_is_kept_per_user(client, people, db):
    login(client, "appr", "clef-atelier-2026")
    client.post("/language", data={"locale": "en", "next": "/"})
    fresh(db)
    assert db.get(User, people.apprentice.id).locale == "en"
    page = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in page and "My competence coverage" in page and "Apprentice" in page
    assert client.post("/language", data={"locale": "de"}).status_code == 422


def test_admin_creates_edits_and_deactivates_a_user(client, people, db):
    login(client, "admin", "clef-direction-2026")
    response = client.post("/admin/users/new", data={
        "username": "zoe", "full_name": "Zoé Apprentie", "role": "apprentice", "password": "clef-nouvelle-2026",
        "tutor": "tutor", "certifications": ["QSE"], "cohort": "Groupe A", "locale": "fr", "active": "on"})
    assert response.status_code == 302
    zoe = db.scalar(select(User).where(User.username == "zoe"))
    assert zoe.tutor.username == "tutor" and zoe.certification_codes == ["QSE"] and zoe.cohort.name == "Groupe A"
    response = client.post("/admin/users/zoe", data={
        "username": "zoe", "full_name": "Zoé A.", "role": "apprentice", "tutor": "tutor",
        "certifications": ["QSE", "LOG"], "locale": "fr"})
    assert response.status_code == 302
    fresh(db)
    zoe = db.scalar(select(User).where(User.username == "zoe"))
    assert zoe.active is False and zoe.certification_codes == ["LOG", "QSE"]


@pytest.mark.parametrize("field,value,message", [
    ("username", "Bad Name!", "Identifiant invalide"),
    ("password", "short", "au moins 12"),
    ("role", "boss", "Rôle inconnu"),
    ("tutor", "nobody", "Tuteur inconnu"),
])
def test_admin_bad_user_input_names_the_field_and_writes_nothing(client, people, db, field, value, message):
    login(client, "admin", "clef-direction-2026")
    before = db.scalar(select(func.count()).select_from(User))
    data = {"username": "newbie", "full_name": "New", "role": "apprentice", "password": "clef-nouvelle-2026",
            "certifications": ["LOG"], field: value}
    response = client.post("/admin/users/new", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(User)) == before


def test_admin_cannot_deactivate_themself(client, people):
    login(client, "admin", "clef-direction-2026")
    response = client.post("/admin/users/admin", data={"username": "admin", "full_name": "Ada", "role": "admin",
                                                       "locale": "fr"})
    assert response.status_code == 409


def test_open_redirect_is_refused(client, people):
    response = client.post("/login?next=//evil.example/", data={"username": "appr", "password": "clef-atelier-2026"})
    assert response.headers["Location"] == "/"
