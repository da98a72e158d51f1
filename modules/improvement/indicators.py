"""What the improvement module gives the AIC boards."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from modules.improvement.actions import week_bounds
from modules.improvement.models import OPEN_STATUSES, Action, Idea, ProblemSheet
from shopfloor import clock
from shopfloor.registry import Indicator


def _count(db: Session, query) -> int:
    return db.scalar(select(func.count()).select_from(query.subquery())) or 0


def late_actions(db: Session, day: date, team_id: int | None) -> float:
    query = select(Action.id).where(Action.status.in_(OPEN_STATUSES), Action.due < day)
    return _count(db, query.where(Action.team_id == team_id) if team_id is not None else query)


def actions_done_week(db: Session, day: date, team_id: int | None) -> float:
    monday, _ = week_bounds(day)
    query = select(Action.id).where(Action.status == "done", Action.done_on >= monday, Action.done_on <= day)
    return _count(db, query.where(Action.team_id == team_id) if team_id is not None else query)


def open_problems(db: Session, day: date, team_id: int | None) -> float:
    query = select(ProblemSheet.id).where(ProblemSheet.status == "open")
    return _count(db, query.where(ProblemSheet.team_id == team_id) if team_id is not None else query)


def ideas_submitted(db: Session, day: date, team_id: int | None) -> float:
    """Ideas submitted over the 30 days ending on `day` (Paris days)."""
    start, end = clock.days_bounds(day - timedelta(days=29), day)
    query = select(Idea.id).where(Idea.created_at >= start, Idea.created_at < end)
    return _count(db, query.where(Idea.team_id == team_id) if team_id is not None else query)


INDICATORS = [
    Indicator("improvement.late_actions", "Actions en retard", "D", "actions", False, late_actions),
    Indicator("improvement.actions_done_week", "Actions faites cette semaine", "D", "actions", True, actions_done_week),
    Indicator("improvement.open_problems", "Fiches problème ouvertes", "Q", "fiches", False, open_problems),
    Indicator("improvement.ideas_submitted", "Idées déposées (30 jours)", "M", "idées", True, ideas_submitted),
]
