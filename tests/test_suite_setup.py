"""The test suite's own shortcuts stay in the tests: cheap password hashing (production keeps
scrypt, and a login verifies hashes made either way), the cast of users from the template only
for the tests that ask for it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from shopfloor.auth import services
from shopfloor.auth.models import User
from shopfloor.auth.services import UserInput, authenticate, create_user
from tests.conftest import FAST_PASSWORD_METHOD, login

ROOT = Path(__file__).resolve().parents[1]


def test_production_hashes_with_werkzeugs_scrypt_as_before():
    """Without the test conftest, new passwords and the unknown-user dummy are scrypt, werkzeug's default."""
    code = ("from werkzeug.security import generate_password_hash\n"
            "from shopfloor.auth import services\n"
            "print(services.PASSWORD_METHOD)\n"
            "print(services.hash_password('clef-atelier-2026').split('$')[0])\n"
            "print(services._dummy_hash().split('$')[0])\n"
            "print(generate_password_hash('clef-atelier-2026').split('$')[0])\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("SHOPFLOOR_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    method, new_hash, dummy, werkzeug_default = run.stdout.split()
    assert method == "scrypt"
    assert new_hash == dummy == werkzeug_default
    assert new_hash.startswith("scrypt:")


def test_the_tests_hash_with_one_pbkdf2_round(people):
    assert services.PASSWORD_METHOD == FAST_PASSWORD_METHOD == "pbkdf2:sha256:1"
    assert people.apprentice.password_hash.startswith("pbkdf2:sha256:1$")
    assert services._dummy_hash().startswith("pbkdf2:sha256:1$")


def test_a_login_verifies_hashes_made_either_way(db, client, now, monkeypatch):
    cheap = create_user(db, UserInput("cheap", "Haché Vite", "tutor", "clef-formateur-2026"))
    monkeypatch.setattr(services, "PASSWORD_METHOD", "scrypt")
    costly = create_user(db, UserInput("costly", "Haché Lent", "tutor", "clef-formateur-2026"))
    db.commit()
    assert cheap.password_hash.startswith("pbkdf2:sha256:1$") and costly.password_hash.startswith("scrypt:")
    for method in ("scrypt", FAST_PASSWORD_METHOD):   # whatever the current method, both hashes verify
        monkeypatch.setattr(services, "PASSWORD_METHOD", method)
        for username in ("cheap", "costly"):
            assert authenticate(db, username, "clef-formateur-2026", now).username == username
            db.commit()
            assert login(client, username, "clef-formateur-2026").status_code == 302
            assert client.post("/logout").status_code in (302, 303)
            assert login(client, username, "clef-formateur-2026-faux").status_code == 422


def test_a_test_without_people_gets_a_database_without_users(db):
    assert db.scalar(select(func.count()).select_from(User)) == 0


def test_people_come_from_the_template_loaded_in_the_tests_session(db, people):
    assert db.scalar(select(func.count()).select_from(User)) == 5
    assert people.apprentice.tutor is people.tutor and people.other_apprentice.tutor is people.other_tutor
    assert people.apprentice.certification_codes == ["LOG", "MAINT"]
    assert db.get(User, people.admin.id) is people.admin
    assert people.headers(people.apprentice) == people.headers(people.apprentice)   # one token per user
