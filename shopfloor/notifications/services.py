"""Notify a user once per key; count, list and mark notifications read."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shopfloor.auth.models import User
from shopfloor.errors import ValidationError
from shopfloor.notifications.models import Notification

MAX_KEY = 200


def _check(key: str, message: str) -> None:
    if not key or len(key) > MAX_KEY:
        raise ValidationError(f"Clé de notification vide ou de plus de {MAX_KEY} caractères.", "key")
    if not (message or "").strip():
        raise ValidationError("Le message de la notification est obligatoire.", "message")


def notify(db: Session, user: User, key: str, message: str, url: str, now: datetime) -> Notification | None:
    """The new notification, or None when this user was already notified with this key."""
    _check(key, message)
    if db.scalar(select(Notification.id).where(Notification.user_id == user.id, Notification.key == key)):
        return None
    inserted = notify_many(db, [{"user_id": user.id, "key": key, "message": message, "url": url or ""}], now)
    if not inserted:
        return None  # a concurrent transaction notified first
    return db.scalar(select(Notification).where(Notification.user_id == user.id, Notification.key == key))


def notify_many(db: Session, rows: list[dict], now: datetime) -> int:
    """Bulk notify (jobs): rows of {user_id, key, message, url}; existing (user, key) pairs are skipped.
    Returns how many were inserted (the number asked when the driver cannot tell)."""
    if not rows:
        return 0
    for row in rows:
        _check(row["key"], row["message"])
    values = [dict(row, created_at=now, url=row.get("url") or "") for row in rows]
    dialect = sqlite if db.get_bind().dialect.name == "sqlite" else postgresql
    statement = dialect.insert(Notification).on_conflict_do_nothing(index_elements=["user_id", "key"])
    db.flush()
    connection = db.connection()
    if len(values) == 1:
        return connection.execute(statement.values(values[0])).rowcount
    result = connection.execute(statement, values)   # executemany, batched
    return result.rowcount if result.rowcount is not None and result.rowcount >= 0 else len(values)


def unread_count(db: Session, user: User) -> int:
    return db.scalar(select(func.count()).select_from(Notification)
                     .where(Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def recent(db: Session, user: User, limit: int = 100, unread_only: bool = False) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return list(db.scalars(query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


def mark_read(db: Session, user: User, now: datetime, notification_id: int | None = None) -> int:
    """Mark one (by id) or all of the user's unread notifications read; returns how many changed."""
    statement = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        statement = statement.where(Notification.id == notification_id)
    result = db.execute(statement.values(read_at=now).execution_options(synchronize_session=False))
    db.flush()
    return result.rowcount or 0
