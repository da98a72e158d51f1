"""Users, logins and API tokens: the rules, without any request or form."""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources
from threading import Lock

from cachetools import LRUCache
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from shopfloor.auth.models import LOCALES, ROLES, ApiToken, AuditEvent, Cohort, User
from shopfloor import clock
from shopfloor.db import side_transaction
from shopfloor.errors import Conflict, Forbidden, NotFound, ValidationError
from shopfloor.referential.models import Certification

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 12
# One answer for an unknown user, a wrong password and a locked account: it confirms no account.
LOGIN_REFUSED = ("Identifiant ou mot de passe incorrect. Après 5 échecs, le compte est verrouillé "
                 "pendant 15 minutes.")
# How new passwords are hashed: werkzeug's scrypt (its default). The test suite sets a cheap
# pbkdf2 here (tests/conftest.py) so that its thousands of users cost nothing; nothing else changes
# it. A login verifies any stored hash whatever this says, since each hash names its own method.
PASSWORD_METHOD = "scrypt"


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


# Checked when the username is unknown, so that both answers cost one hash verification of the
# current method (the default's made at import, as before; another's on its first use).
_DUMMY_HASHES: dict[str, str] = {PASSWORD_METHOD: hash_password(secrets.token_urlsafe(16))}


def _dummy_hash() -> str:
    if PASSWORD_METHOD not in _DUMMY_HASHES:
        _DUMMY_HASHES[PASSWORD_METHOD] = hash_password(secrets.token_urlsafe(16))
    return _DUMMY_HASHES[PASSWORD_METHOD]


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of the most common passwords (source and licence at the top of the file)."""
    text = (resources.files("shopfloor.auth") / "common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("# "))


def check_password(password: str, username: str) -> None:
    """Refuse a password that is short, common, or contains the username; the message says why."""
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"Le mot de passe doit compter au moins {MIN_PASSWORD} caractères.", "password")
    lowered = password.lower()
    if username and username.lower() in lowered:
        raise ValidationError("Le mot de passe ne doit pas contenir l'identifiant.", "password")
    core = lowered.strip("0123456789 !?.,;:-_*#@$%&+=/")
    common = common_passwords()
    if lowered in common or (core and core in common):
        raise ValidationError("Ce mot de passe figure (ou sa base figure) dans la liste des mots de passe "
                              "les plus courants : choisissez-en un autre, par exemple une phrase de "
                              "plusieurs mots.", "password")
    if len(set(password)) < 5:
        raise ValidationError("Le mot de passe doit contenir au moins 5 caractères différents.", "password")


def audit(db: Session, kind: str, now: datetime | None = None, *, actor: User | None = None,
          subject: User | None = None, username: str | None = None, address: str | None = None,
          **details) -> AuditEvent:
    """One line of the audit trail. Callers pass plain facts only: never a password or a token."""
    event = AuditEvent(at=now or clock.now(), kind=kind, actor=actor, subject=subject,
                       username=(username or (subject.username if subject else None) or "")[:64] or None,
                       address=(address or None) and address[:64], details=details)
    db.add(event)
    return event


def end_sessions(db: Session, user: User) -> None:
    """Every session cookie issued to this user so far stops working (API tokens are not touched)."""
    user.session_version = (user.session_version or 1) + 1
    db.flush()


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
    if data.password:
        check_password(data.password, data.username)
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


def create_user(db: Session, data: UserInput, *, actor: User | None = None, now: datetime | None = None,
                address: str | None = None, demo: bool = False) -> User:
    data.username = (data.username or "").strip().lower()
    tutor, certs = _validate(db, data, None)
    user = User(username=data.username, full_name=data.full_name.strip(), role=data.role, email=data.email or None,
                password_hash=hash_password(data.password), tutor=tutor, certifications=certs,
                cohort=_cohort(db, data.cohort), locale=data.locale, active=data.active, demo=demo)
    db.add(user)
    db.flush()
    audit(db, "user_created", now, actor=actor, subject=user, address=address, role=user.role,
          active=user.active)
    return user


def update_user(db: Session, user: User, data: UserInput, *, actor: User | None = None,
                now: datetime | None = None, address: str | None = None) -> User:
    data.username = (data.username or "").strip().lower()
    tutor, certs = _validate(db, data, user)
    before = {"username": user.username, "full_name": user.full_name, "role": user.role, "email": user.email,
              "tutor": user.tutor.username if user.tutor else None, "locale": user.locale,
              "certifications": user.certification_codes, "cohort": user.cohort.name if user.cohort else None}
    was_active = user.active
    user.username, user.full_name, user.role = data.username, data.full_name.strip(), data.role
    user.email, user.tutor, user.certifications = data.email or None, tutor, certs
    user.cohort, user.locale = _cohort(db, data.cohort), data.locale
    db.flush()
    after = {"username": user.username, "full_name": user.full_name, "role": user.role, "email": user.email,
             "tutor": user.tutor.username if user.tutor else None, "locale": user.locale,
             "certifications": user.certification_codes, "cohort": user.cohort.name if user.cohort else None}
    changed = sorted(k for k in after if after[k] != before[k])
    if before["role"] != user.role:
        audit(db, "role_changed", now, actor=actor, subject=user, address=address,
              before=before["role"], after=user.role)
    if data.password:
        user.password_hash = hash_password(data.password)
        end_sessions(db, user)
        audit(db, "password_reset", now, actor=actor, subject=user, address=address)
    if changed:
        audit(db, "user_updated", now, actor=actor, subject=user, address=address, fields=changed)
    if data.active != was_active:
        set_active(db, actor, user, data.active, now=now, address=address)
    db.flush()
    return user


def set_active(db: Session, actor: User | None, user: User, active: bool, *, now: datetime | None = None,
               address: str | None = None) -> None:
    """Deactivation ends the user's sessions and revokes their API tokens at once."""
    if actor is not None and user.id == actor.id and not active:
        raise Conflict("Vous ne pouvez pas désactiver votre propre compte.", "active")
    if user.active == active:
        return
    user.active = active
    if not active:
        end_sessions(db, user)
        revoked = revoke_tokens(db, user, now or clock.now(), audited=False)
        audit(db, "user_deactivated", now, actor=actor, subject=user, address=address, tokens_revoked=revoked)
    else:
        audit(db, "user_reactivated", now, actor=actor, subject=user, address=address)
    db.flush()


def change_password(db: Session, user: User, current: str, new: str, now: datetime,
                    address: str | None = None) -> None:
    """The user's own change: the current password first; every other session ends."""
    if not check_password_hash(user.password_hash, current or ""):
        raise ValidationError("Le mot de passe actuel est incorrect.", "current_password")
    check_password(new or "", user.username)
    if check_password_hash(user.password_hash, new):
        raise ValidationError("Le nouveau mot de passe doit différer de l'actuel.", "password")
    user.password_hash = hash_password(new)
    end_sessions(db, user)
    audit(db, "password_changed", now, actor=user, subject=user, address=address)


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
                 max_failures: int = 5, lockout: timedelta = timedelta(minutes=15),
                 address: str | None = None) -> User:
    """The user if the password is right; counts failures and locks the account after too many.

    An unknown username, a wrong password and a locked account get the same message and cost the
    same: one password-hash verification each (against a dummy hash when there is no account)."""
    typed = (username or "").strip().lower()[:64]
    user = db.scalar(select(User).where(User.username == typed)) if typed else None
    ok = check_password_hash(user.password_hash if user is not None else _dummy_hash(), password or "")
    if user is None:
        audit(db, "login_failed", now, username=typed, address=address, reason="unknown_user")
        db.flush()
        raise ValidationError(LOGIN_REFUSED, "password")
    if user.locked_until and user.locked_until > now:
        audit(db, "login_failed", now, subject=user, username=typed, address=address, reason="locked")
        db.flush()
        raise ValidationError(LOGIN_REFUSED, "password")
    if not ok:
        user.failed_logins += 1
        audit(db, "login_failed", now, subject=user, username=typed, address=address, reason="wrong_password")
        if user.failed_logins >= max_failures:
            user.failed_logins, user.locked_until = 0, now + lockout
            audit(db, "lockout", now, subject=user, username=typed, address=address,
                  minutes=int(lockout.total_seconds() // 60))
        db.flush()
        raise ValidationError(LOGIN_REFUSED, "password")
    if not user.active:
        audit(db, "login_failed", now, subject=user, username=typed, address=address, reason="inactive")
        db.flush()
        raise Forbidden("Ce compte est désactivé.", "username")
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    audit(db, "login", now, actor=user, subject=user, address=address)
    db.flush()
    return user


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(db: Session, user: User, *, actor: User | None = None, now: datetime | None = None,
                 address: str | None = None) -> str:
    """A new API token for the user; the clear value exists only in the return value (the audit
    trail keeps its 10-character prefix, which cannot authenticate)."""
    if not user.active:
        raise Conflict(f"Le compte {user.username} est désactivé : aucun jeton ne peut lui être créé.", "username")
    token = "sf_" + secrets.token_urlsafe(32)
    db.add(ApiToken(user=user, token_hash=_hash_token(token), prefix=token[:10]))
    db.flush()
    audit(db, "token_created", now, actor=actor, subject=user, address=address, prefix=token[:10])
    db.flush()
    return token


def revoke_tokens(db: Session, user: User, now: datetime, prefix: str | None = None, *,
                  actor: User | None = None, address: str | None = None, audited: bool = True) -> int:
    query = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if prefix:
        query = query.where(ApiToken.prefix == prefix[:10])
    tokens = list(db.scalars(query))
    for token in tokens:
        token.revoked_at = now
    if audited:
        audit(db, "tokens_revoked", now, actor=actor, subject=user, address=address, count=len(tokens),
              prefixes=[t.prefix for t in tokens])
    db.flush()
    return len(tokens)


class _VerifiedTokens:
    """Token hashes already verified in this process, at most `size` (cachetools' LRU, behind a lock: the
    server's threads share it): the token row id each one was found at, so that a request reads its
    token and user by primary key."""

    def __init__(self, size: int = 1024):
        self._ids, self._lock = LRUCache(maxsize=size), Lock()

    def get(self, digest: str) -> int | None:
        with self._lock:
            return self._ids.get(digest)

    def put(self, digest: str, token_id: int) -> None:
        with self._lock:
            self._ids[digest] = token_id

    def drop(self, digest: str) -> None:
        with self._lock:
            self._ids.pop(digest, None)

    def __len__(self) -> int:
        return len(self._ids)


VERIFIED_TOKENS = _VerifiedTokens()
TOKEN_USE_EVERY = timedelta(minutes=5)


def user_for_token(db: Session, token: str, now: datetime) -> User | None:
    """The active user behind a live token, in one statement. The cache only says where the token was
    found: the same statement re-reads its revocation and the user's `active`, so revoking or
    deactivating takes effect on the next request, in every process."""
    digest = _hash_token(token)
    cached = VERIFIED_TOKENS.get(digest)
    found = _live_token(db, digest, cached) if cached is not None else None
    if found is None:
        VERIFIED_TOKENS.drop(digest)
        found = _live_token(db, digest)
    if found is None:
        return None
    user, token_id, last_used_at = found
    VERIFIED_TOKENS.put(digest, token_id)
    if last_used_at is None or now - last_used_at > TOKEN_USE_EVERY:
        _record_token_use(db, token_id, now)
    return user


def _live_token(db: Session, digest: str, token_id: int | None = None):
    """(user, token id, last use) of an unrevoked token of an active user; by id when it is known (the
    digest is checked too: the id may come from another database the process served)."""
    params = {"digest": digest} if token_id is None else {"digest": digest, "token_id": token_id}
    return db.execute(_live_token_query(token_id is not None), params).first()


@lru_cache(maxsize=2)
def _live_token_query(by_id: bool):
    """Built once: building the statement cost as much as running it."""
    query = (select(User, ApiToken.id, ApiToken.last_used_at).join(ApiToken, ApiToken.user_id == User.id)
             .where(ApiToken.token_hash == bindparam("digest"), ApiToken.revoked_at.is_(None), User.active.is_(True)))
    return query.where(ApiToken.id == bindparam("token_id")) if by_id else query


def _record_token_use(db: Session, token_id: int, now: datetime) -> None:
    """At most every five minutes. A reading request must stay a read: on SQLite a write in its
    deferred transaction would hold the database's write lock until the request ends, so the
    time is written in its own short transaction instead."""
    use = update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
    if db.get_bind().get_execution_options().get("write"):
        db.execute(use)
        return
    with side_transaction(db) as writer:
        writer.execute(use)


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


AUDIT_KINDS = ("login", "login_failed", "lockout", "logout", "user_created", "user_updated", "role_changed",
               "password_reset", "password_changed", "user_deactivated", "user_reactivated", "token_created",
               "tokens_revoked")


def audit_events(db: Session, kind: str | None = None, username: str | None = None,
                 since: datetime | None = None, until: datetime | None = None, limit: int = 500) -> list[AuditEvent]:
    """The audit trail, newest first, filtered by kind, user (typed or subject) and period."""
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    if kind:
        if kind not in AUDIT_KINDS:
            raise ValidationError(f"Type d'événement inconnu : {kind!r}.", "kind")
        query = query.where(AuditEvent.kind == kind)
    if username:
        query = query.where(AuditEvent.username == username.strip().lower()[:64])
    if since:
        query = query.where(AuditEvent.at >= since)
    if until:
        query = query.where(AuditEvent.at < until)
    return list(db.scalars(query))
