"""The late-actions job: flags open actions past due and notifies their owners once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from modules.improvement.actions import late_candidates
from modules.improvement.models import Action
from shopfloor import clock
from shopfloor.evidence.freeze import activity_ids_of, frozen_ids
from shopfloor.notifications.services import notify_many
from shopfloor.registry import Job
from shopfloor.urls import link


def mark_late_actions(db: Session, now: datetime) -> str:
    """Safe to run twice: an action is flagged once per due date, and notifications are unique per key."""
    today = clock.paris_day(now)
    rows = db.execute(select(Action.id, Action.owner_id, Action.title, Action.due)
                      .where(late_candidates(today))).all()
    if not rows:
        return "0 action en retard"
    notify_many(db, [{"user_id": owner_id, "key": f"improvement.action_late.{action_id}.{due.isoformat()}",
                      "message": f"Action en retard (échéance {due:%d/%m/%Y}) : {title}",
                      "url": link("improvement.action", action_id=action_id)} for action_id, owner_id, title, due in rows], now)
    # `late_since` only remembers that the owner was told; a frozen action (its plan, problem sheet,
    # non-conformity… is validated evidence) is never written: it stays a candidate, and the
    # notification's unique key keeps its owner from being told twice.
    actions = db.scalars(select(Action).where(Action.id.in_([row[0] for row in rows]))).all()
    owners = {action.id: activity_ids_of(action.owning_activity) for action in actions}
    frozen = frozen_ids(db, set().union(*owners.values()))   # locked: no validation slips in before the flush
    for action in actions:
        if not owners[action.id] & frozen:
            action.late_since = today
    db.flush()
    return f"{len(rows)} action(s) en retard signalée(s)"


JOBS = [Job("improvement.late_actions", mark_late_actions, minutes=60)]
