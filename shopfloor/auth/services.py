"""Users, logins and API tokens: the rules, without any request or form."""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from shopfloor.auth.models import LOCALES, ROLES, ApiToken, Cohort, User
from shopfloor.errors import Conflict, Forbidden, NotFound, ValidationError
from shopfloor.referential.models import Certification

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 8


@dataclass
class UserInput:
    username: str
    full_name: str
    role: str
    password: str | None = None
    email: str | None = None
    tutor: str | None = None
    certifications: tuple[str, ...] = ()
    cohort: str | None = None
    locale: str = "fr"
    active: bool = True


def _validate(db: Session, data: UserInput, existing: User | None) -> tuple[User | None, list[Certification]]:
    if not USERNAME_RE.match(data.username or ""):
        raise ValidationError("Identifiant invalide : 2 à 64 caractères, minuscules, chiffres, . _ -", "username")
    if not (data.full_name or "").strip():
        raise ValidationError("Le nom complet est obligatoire.", "full_name")
    if data.role not in ROLES:
        raise ValidationError(f"Rôle inconnu : {data.role!r} (attendu : {', '.join(ROLES)}).", "role")
    if data.locale not in LOCALES:
        raise ValidationError(f"Langue inconnue : {data.locale!r}.", "locale")
    if existing is None and not data.password:
        raise ValidationError("Le mot de passe est obligatoire.", "password")
    if data.password and len(data.password) < MIN_PASSWORD:
        raise ValidationError(f"Le mot de passe doit compter au moins {MIN_PASSWORD} caractères.", "password")
    clash = db.scalar(select(User).where(User.username == data.username))
    if clash is not None and clash is not existing:
        raise Conflict(f"L'identifiant {data.username} est déjà pris.", "username")
    tutor = None
    if data.tutor:
        tutor = db.scalar(select(User).where(User.username == data.tutor))
        if tutor is None or tutor.role != "tutor":
            raise ValidationError(f"Tuteur inconnu : {data.tutor}.", "tutor")
    if data.role != "apprentice" and (data.tutor or data.certifications):
        raise ValidationError("Seul un apprenti a un tuteur et des certifications.", "role")
    certs = []
    for code in data.certifications:
        cert = db.scalar(select(Certification).where(Certification.code == code.upper()))
        if cert is None:
            raise ValidationError(f"Certification inconnue : {code}.", "certification")
        certs.append(cert)
    return tutor, certs


def _cohort(db: Session, name: str | None) -> Cohort | None:
    if not name:
        return None
    cohort = db.scalar(select(Cohort).where(Cohort.name == name))
    if cohort is None:
        cohort = Cohort(name=name)
        db.add(cohort)
    return cohort


def create_user(db: Session, data: UserInput) -> User:
    data.username = (data.username or "").strip().lower()
    tutor, certs = _validate(db, data, None)
    user = User(username=data.username, full_name=data.full_name.strip(), role=data.role, email=data.email or None,
                password_hash=generate_password_hash(data.password), tutor=tutor, certifications=certs,
                cohort=_cohort(db, data.cohort), locale=data.locale, active=data.active)
    db.add(user)
    db.flush()
    return user


def update_user(db: Session, user: User, data: UserInput) -> User:
    data.username = (data.username or "").strip().lower()
    tutor, certs = _validate(db, data, user)
    user.username, user.full_name, user.role = data.username, data.full_name.strip(), data.role
    user.email, user.tutor, user.certifications = data.email or None, tutor, certs
    user.cohort, user.locale, user.active = _cohort(db, data.cohort), data.locale, data.active
    if data.password:
        user.password_hash = generate_password_hash(data.password)
    db.flush()
    return user


def set_active(db: Session, actor: User, user: User, active: bool) -> None:
    if user.id == actor.id and not active:
        raise Conflict("Vous ne pouvez pas désactiver votre propre compte.", "active")
    user.active = active
    db.flush()


def set_locale(db: Session, user: User, locale: str) -> None:
    if locale not in LOCALES:
        raise ValidationError(f"Langue inconnue : {locale!r}.", "locale")
    user.locale = locale
    db.flush()


def get_user(db: Session, username: str) -> User:
    user = db.scalar(select(User).where(User.username == (username or "").strip().lower()))
    if user is None:
        raise NotFound(f"Utilisateur inconnu : {username}.", "username")
    return user


def authenticate(db: Session, username: str, password: str, now: datetime,
                 max_failures: int = 5, lockout: timedelta = timedelta(minutes=15)) -> User:
    """The user if the password is right; counts failures and locks the account after too many."""
    user = db.scalar(select(User).where(User.username == (username or "").strip().lower()))
    if user is None:
        check_password_hash(generate_password_hash("x"), password or "")  # same cost as a real check
        raise ValidationError("Identifiant ou mot de passe incorrect.", "password")
    if user.locked_until and user.locked_until > now:
        minutes = int((user.locked_until - now).total_seconds() // 60) + 1
        raise Forbidden(f"Compte verrouillé après trop d'échecs : réessayez dans {minutes} min.", "username")
    if not check_password_hash(user.password_hash, password or ""):
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.failed_logins, user.locked_until = 0, now + lockout
        db.flush()
        raise ValidationError("Identifiant ou mot de passe incorrect.", "password")
    if not user.active:
        raise Forbidden("Ce compte est désactivé.", "username")
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    db.flush()
    return user


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(db: Session, user: User) -> str:
    """A new API token for the user; the clear value exists only in the return value."""
    token = "sf_" + secrets.token_urlsafe(32)
    db.add(ApiToken(user=user, token_hash=_hash_token(token), prefix=token[:10]))
    db.flush()
    return token


def revoke_tokens(db: Session, user: User, now: datetime, prefix: str | None = None) -> int:
    query = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if prefix:
        query = query.where(ApiToken.prefix == prefix[:10])
    tokens = list(db.scalars(query))
    for token in tokens:
        token.revoked_at = now
    db.flush()
    return len(tokens)


def user_for_token(db: Session, token: str, now: datetime) -> User | None:
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(token), ApiToken.revoked_at.is_(None)))
    if row is None or not row.user.active:
        return None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=5):
        _record_token_use(db, row, now)
    return row.user


def _record_token_use(db: Session, row: ApiToken, now: datetime) -> None:
    """At most every five minutes. A reading request must stay a read: on SQLite a write in its
    deferred transaction would hold the database's write lock until the request ends, so the
    time is written in its own short transaction instead."""
    bind = db.get_bind()
    if bind.get_execution_options().get("write"):
        row.last_used_at = now
        return
    with Session(bind.execution_options(write=True)) as writer, writer.begin():
        writer.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))


def can_see_apprentice(actor: User, apprentice: User) -> bool:
    """An apprentice sees their own work, a tutor their apprentices', an admin everyone's."""
    if actor.role == "admin":
        return True
    if actor.role == "tutor":
        return apprentice.tutor_id == actor.id
    return actor.id == apprentice.id


def visible_apprentice(db: Session, actor: User, username: str) -> User:
    apprentice = get_user(db, username)
    if apprentice.role != "apprentice":
        raise NotFound(f"{username} n'est pas un apprenti.", "username")
    if not can_see_apprentice(actor, apprentice):
        raise Forbidden("Vous ne suivez pas cet apprenti.", "username")
    return apprentice


def list_users(db: Session, role: str | None = None) -> list[User]:
    query = select(User).order_by(User.role, User.full_name)
    if role:
        query = query.where(User.role == role)
    return list(db.scalars(query))
