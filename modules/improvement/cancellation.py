"""What an activity starts in the improvement module, and how cancelling it reverses that.

Actions of a plan, and actions or problem sheets whose origin belongs to an activity (a
non-conformity, an audit's finding, a work order, an AIC meeting's problem…), exist because of
that activity: it cannot be deleted while they point to it. Cancelling it abandons its open
actions, with the cancellation's reason; problem sheets it opened are activities of their own and
stay (each names its origin, now shown cancelled)."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from modules.improvement.actions import set_status
from modules.improvement.models import OPEN_STATUSES, Action, ProblemSheet
from shopfloor import clock
from shopfloor.origins import activity_itself, origins, owning_activity_id
from shopfloor.registry import Effects


def _owned_by(db: Session, model, activity_id: int, *conditions) -> list:
    """Rows of `model` (actions or problem sheets) whose origin belongs to the activity."""
    registered = origins(db)
    itself = [key for key, o in registered.items() if o.owner is activity_itself]
    others = [key for key, o in registered.items() if o.owner is not None and key not in itself]
    query = select(model).where(or_(
        (model.origin_type.in_(itself)) & (model.origin_id == activity_id),
        model.origin_type.in_(others)), *conditions).order_by(model.id)
    cache: dict[tuple[str, int], int | None] = {}
    found = []
    for row in db.scalars(query):
        if row.origin_type in itself:
            found.append(row)
            continue
        key = (row.origin_type, row.origin_id)
        if key not in cache:
            cache[key] = owning_activity_id(db, *key)
        if cache[key] == activity_id:
            found.append(row)
    return found


def _actions(db: Session, activity, *conditions) -> list[Action]:
    planned = list(db.scalars(select(Action).where(Action.plan_id == activity.id, *conditions).order_by(Action.id)))
    seen = {a.id for a in planned}
    if activity.type == "improvement_plan":
        return planned
    return planned + [a for a in _owned_by(db, Action, activity.id, *conditions) if a.id not in seen]


def describe(db: Session, activity) -> list[str]:
    found = []
    actions = _actions(db, activity)
    if actions:
        still_open = sum(1 for a in actions if a.status in OPEN_STATUSES)
        found.append(f"{len(actions)} action(s) d'amélioration dont {still_open} ouverte(s)")
    sheets = [s for s in _owned_by(db, ProblemSheet, activity.id) if s.id != activity.id]
    if sheets:
        found.append("fiche(s) problème ouverte(s) depuis elle : " + ", ".join(f"n° {s.id}" for s in sheets))
    return found


def abandon_actions(db: Session, activity, cancellation) -> None:
    today = clock.paris_day(cancellation.now)
    for action in _actions(db, activity, Action.status.in_(OPEN_STATUSES)):
        set_status(action, "abandoned", today, f"Activité n° {activity.id} annulée : {cancellation.reason}"[:500])


EFFECTS = [Effects("improvement_actions", describe, abandon_actions, order=30)]
