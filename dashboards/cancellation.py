"""What an AIC meeting starts outside itself, and how cancelling it reverses that.

Its problems sit on the board's Pareto and its escalations wait on the next level's board: a meeting
with any cannot be deleted. Cancelling it answers its open escalations with the cancellation's reason,
so no board above waits for a meeting that did not happen; actions and problem sheets started from
its problems are handled by the improvement module's own effects."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboards.models import Escalation, Problem
from shopfloor.registry import Effects


def _open_escalations(db: Session, meeting) -> list[Escalation]:
    return list(db.scalars(select(Escalation).join(Problem, Problem.id == Escalation.problem_id)
                           .where(Problem.meeting_id == meeting.id, Escalation.answered_at.is_(None))
                           .order_by(Escalation.id)))


def describe(db: Session, meeting) -> list[str]:
    found = []
    problems = db.scalar(select(func.count()).select_from(Problem).where(Problem.meeting_id == meeting.id))
    if problems:
        found.append(f"{problems} problème(s) sur le tableau")
    if escalations := _open_escalations(db, meeting):
        found.append(f"{len(escalations)} escalade(s) en attente au niveau supérieur")
    return found


def answer_escalations(db: Session, meeting, cancellation) -> None:
    for escalation in _open_escalations(db, meeting):
        escalation.answer = f"Réunion annulée : {cancellation.reason}"
        escalation.answered_by_id, escalation.answered_at = cancellation.actor.id, cancellation.now


EFFECTS = [Effects("aic_meeting", describe, answer_escalations, types=("aic_meeting",), order=40)]
