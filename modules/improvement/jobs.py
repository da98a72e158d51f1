"""The late-actions job: flags open actions past due and notifies their owners once."""
from __future__ import annotations

from datetime import datetime

from flask import has_request_context, url_for
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from modules.improvement.actions import late_candidates, paris_today
from modules.improvement.models import Action
from shopfloor.notifications.services import notify_many
from shopfloor.registry import Job


def _action_url(action_id: int) -> str:
    if has_request_context():
        return url_for("improvement.action", action_id=action_id)
    return f"/improvement/actions/{action_id}"


def mark_late_actions(db: Session, now: datetime) -> str:
    """Safe to run twice: an action is flagged once per due date, and notifications are unique per key."""
    today = paris_today(now)
    rows = db.execute(select(Action.id, Action.owner_id, Action.title, Action.due)
                      .where(late_candidates(today))).all()
    if not rows:
        return "0 action en retard"
    notify_many(db, [{"user_id": owner_id, "key": f"improvement.action_late.{action_id}.{due.isoformat()}",
                      "message": f"Action en retard (échéance {due:%d/%m/%Y}) : {title}",
                      "url": _action_url(action_id)} for action_id, owner_id, title, due in rows], now)
    db.execute(update(Action).where(late_candidates(today)).values(late_since=today)
               .execution_options(synchronize_session=False))
    db.flush()
    return f"{len(rows)} action(s) en retard signalée(s)"


JOBS = [Job("improvement.late_actions", mark_late_actions, minutes=60)]
