"""Safety and environment events: accidents, near-misses, first aid; days without accident; waste by kind."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from modules.qse.inputs import NewEvent
from modules.qse.pagination import Page, paginate
from modules.qse.models import SafetyEvent
from modules.stock import services as stock
from shopfloor import clock
from shopfloor.auth.models import User


def create_event(db: Session, actor: User, spec: NewEvent, now: datetime) -> SafetyEvent:
    event = SafetyEvent(kind=spec.kind, at=spec.at, description=spec.description, place=spec.place,
                        lost_days=spec.lost_days, team_id=actor.team_id, site_id=actor.site_id,
                        reported_by_id=actor.id, created_at=now)
    db.add(event)
    db.flush()
    return event


def events_page(db: Session, actor: User, *, kind: str = "", page: int = 1) -> Page:
    """Every logged-in user reads the safety log of their team; tutors and admins read all of it."""
    conditions = []
    if actor.role == "apprentice":
        conditions.append(SafetyEvent.team_id == actor.team_id if actor.team_id is not None
                          else SafetyEvent.reported_by_id == actor.id)
    if kind:
        conditions.append(SafetyEvent.kind == kind)
    query = (select(SafetyEvent).options(joinedload(SafetyEvent.reported_by)).where(*conditions)
             .order_by(SafetyEvent.at.desc(), SafetyEvent.id.desc()))
    return paginate(db, query, page, select(func.count(SafetyEvent.id)).where(*conditions))


def days_without_accident(db: Session, day: date, team_id: int | None) -> int | None:
    """Whole days since the last accident up to `day` (Paris); None when no accident was ever recorded."""
    query = select(func.max(SafetyEvent.at)).where(SafetyEvent.kind == "accident",
                                                   SafetyEvent.at < clock.day_bounds(day)[1])
    if team_id is not None:
        query = query.where(SafetyEvent.team_id == team_id)
    last = db.scalar(query)
    if last is None:
        return None
    return (day - clock.paris_day(last)).days


def count_in_month(db: Session, kind: str, day: date, team_id: int | None) -> int:
    first, after = clock.days_bounds(day.replace(day=1), day)
    query = select(func.count(SafetyEvent.id)).where(SafetyEvent.kind == kind, SafetyEvent.at >= first,
                                                     SafetyEvent.at < after)
    if team_id is not None:
        query = query.where(SafetyEvent.team_id == team_id)
    return db.scalar(query) or 0


def waste_by_kind(db: Session, start: date, end: date) -> list[tuple[str, float]]:
    """Waste brought back by the stock module's collection rounds, by item, over the Paris days start..end."""
    return stock.waste_by_item(db, start, end)


def as_json(event: SafetyEvent) -> dict:
    return {"id": event.id, "kind": event.kind, "at": event.at.isoformat(), "description": event.description,
            "place": event.place, "lost_days": event.lost_days, "team_id": event.team_id}
