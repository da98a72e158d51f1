"""Rules shared by the QSE registers: who sees and changes a record, Paris days, pagination."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopfloor.auth.models import User
from shopfloor.auth.services import can_see_apprentice
from shopfloor.errors import Forbidden, NotFound
from shopfloor.evidence.models import Activity
from shopfloor.evidence.services import ensure_editable
from shopfloor.validation import PARIS

PAGE_SIZE = 50


def paris_day(moment: datetime) -> date:
    return moment.astimezone(PARIS).date()


def day_start(day: date) -> datetime:
    """Midnight of a Paris day, as an aware datetime."""
    return datetime.combine(day, time(), PARIS)


def day_range(start: date, end: date):
    return day_start(start), day_start(end + timedelta(days=1))


def can_change(actor: User, record: Activity) -> bool:
    """The author, the author's tutor or an admin changes a QSE record."""
    return actor.id == record.author_id or (actor.role != "apprentice" and can_see_apprentice(actor, record.author))


def visible(db: Session, cls, actor: User, record_id: int, label: str, field: str = "id"):
    record = db.get(cls, record_id)
    if record is None:
        raise NotFound(f"{label} n° {record_id} introuvable.", field)
    if not can_see_apprentice(actor, record.author):
        raise Forbidden(f"{label} n° {record_id} n'est pas la vôtre ni celle d'un apprenti que vous suivez.", field)
    return record


def editable(actor: User, record: Activity, label: str) -> None:
    if not can_change(actor, record):
        raise Forbidden(f"Seuls l'auteur, son tuteur ou un administrateur modifient {label}.", "id")
    ensure_editable(record)


def author_filter(cls, actor: User):
    """The SQL condition matching the records `actor` may see (None: everything)."""
    if actor.role == "admin":
        return None
    people = [actor.id]
    if actor.role == "tutor":
        people += [a.id for a in actor.apprentices]
    return cls.author_id.in_(people)


@dataclass
class Page:
    rows: list
    page: int
    pages: int
    total: int


def paginate(db: Session, query, page: int, count_query=None) -> Page:
    """One page of `query` (already ordered) and the number of pages, in two queries."""
    page = max(1, page)
    total = db.scalar(count_query if count_query is not None else
                      select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    rows = list(db.scalars(query.limit(PAGE_SIZE).offset((min(page, pages) - 1) * PAGE_SIZE)).unique())
    return Page(rows, min(page, pages), pages, total)

