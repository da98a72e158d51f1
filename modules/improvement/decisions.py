"""Decision tools: a weighted multi-criteria matrix and, per lever, cost, gain, ROI and payback time."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from modules.improvement.inputs import DecisionMatrix, NewDecision
from modules.improvement.models import DecisionStudy
from shopfloor import access
from shopfloor.auth.models import User
from shopfloor.errors import Forbidden
from shopfloor.evidence.activities import new_activity
from shopfloor.evidence.services import ensure_editable


def create_decision(db: Session, actor: User, now: datetime, spec: NewDecision) -> DecisionStudy:
    matrix = spec.matrix
    study = new_activity(DecisionStudy, actor, now, title=spec.title, question=matrix.question,
                         criteria=matrix.criteria, options=matrix.options, chosen=matrix.chosen)
    db.add(study)
    db.flush()
    return study


def check_may_change(actor: User, study: DecisionStudy) -> None:
    """The author changes a study while it is not frozen (the page checks it before reading the grid)."""
    if actor.id != study.author_id:
        raise Forbidden("Seul l'auteur de l'étude peut la modifier.", "decision_id")
    ensure_editable(study)


def update_decision(db: Session, actor: User, study: DecisionStudy, matrix: DecisionMatrix) -> DecisionStudy:
    check_may_change(actor, study)
    study.criteria, study.options = matrix.criteria, matrix.options
    study.question, study.chosen = matrix.question, matrix.chosen
    db.flush()
    return study


def list_decisions(db: Session, actor: User, limit: int = 100) -> list[DecisionStudy]:
    return list(db.scalars(select(DecisionStudy).where(access.visible_filter(DecisionStudy, actor))
                           .order_by(DecisionStudy.performed_at.desc()).limit(limit)))
