"""The origins and Pareto sources the improvement module registers for itself."""
from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from modules.improvement.models import CATEGORY_LABELS, OPEN_STATUSES, Action, Cause, ProblemSheet
from shopfloor import clock
from shopfloor.origins import activity_itself, origins
from shopfloor.registry import Origin, ParetoSource
from shopfloor.auth.models import User
from shopfloor.urls import link


def _period(start: date, end: date):
    """Sheets performed on the Paris days start..end."""
    first, after = clock.days_bounds(start, end)
    return ProblemSheet.performed_at >= first, ProblemSheet.performed_at < after


def resolve_problem(db: Session, record_id: int):
    sheet = db.get(ProblemSheet, record_id)
    if sheet is None:
        return None
    return sheet.title, link("improvement.problem", problem_id=record_id)


def late_by_owner(db: Session, start: date, end: date, team_id: int | None) -> list[tuple[str, float]]:
    """Actions due in the period that were (or still are) late: done after their due date or still open."""
    late = ((Action.status.in_(OPEN_STATUSES) & (Action.due < func.current_date()))
            | ((Action.status == "done") & (Action.done_on > Action.due)))
    query = (select(User.full_name, func.count(Action.id)).join(User, User.id == Action.owner_id)
             .where(Action.due >= start, Action.due <= end, late).group_by(User.full_name))
    if team_id is not None:
        query = query.where(Action.team_id == team_id)
    return [(name, float(count)) for name, count in db.execute(query)]


def problems_by_origin(db: Session, start: date, end: date, team_id: int | None) -> list[tuple[str, float]]:
    query = (select(ProblemSheet.origin_type, func.count(ProblemSheet.id))
             .where(*_period(start, end))
             .group_by(ProblemSheet.origin_type))
    if team_id is not None:
        query = query.where(ProblemSheet.team_id == team_id)
    labels = {key: o.label for key, o in origins(db).items()}
    counts: Counter = Counter()
    for origin_type, count in db.execute(query):
        counts[labels.get(origin_type, origin_type) if origin_type else "Terrain (sans origine)"] += count
    return [(label, float(count)) for label, count in counts.items()]


def causes_by_family(db: Session, start: date, end: date, team_id: int | None) -> list[tuple[str, float]]:
    query = (select(Cause.category, func.sum(Cause.weight + 1)).join(ProblemSheet, ProblemSheet.id == Cause.sheet_id)
             .where(*_period(start, end))
             .group_by(Cause.category))
    if team_id is not None:
        query = query.where(ProblemSheet.team_id == team_id)
    return [(CATEGORY_LABELS.get(cat, cat), float(total or 0)) for cat, total in db.execute(query)]


ORIGINS = [Origin("problem", "Fiche problème", resolve_problem, owner=activity_itself)]
PARETO_SOURCES = [
    ParetoSource("improvement.late_by_owner", "Actions en retard par responsable", late_by_owner),
    ParetoSource("improvement.problems_by_origin", "Fiches problème par origine", problems_by_origin),
    ParetoSource("improvement.causes_by_family", "Causes Ishikawa par famille 5M (poids des votes + 1)", causes_by_family),
]
