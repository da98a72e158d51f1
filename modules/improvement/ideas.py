"""The idea box: anyone suggests, a tutor or admin answers."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from modules.improvement.inputs import IdeaAnswer, NewIdea
from modules.improvement.models import Idea
from shopfloor import access
from shopfloor.auth.models import User
from shopfloor.errors import Forbidden

IDEA_LABELS = {"submitted": "Déposée", "accepted": "Retenue", "rejected": "Non retenue", "done": "Mise en œuvre"}


def submit_idea(db: Session, actor: User, now: datetime, spec: NewIdea) -> Idea:
    idea = Idea(author=actor, team_id=actor.team_id, title=spec.title, description=spec.description, created_at=now)
    db.add(idea)
    db.flush()
    return idea


def answer_idea(db: Session, actor: User, idea: Idea, answer: IdeaAnswer) -> Idea:
    if actor.role not in ("tutor", "admin"):
        raise Forbidden("Seul un tuteur ou un administrateur répond aux idées.", "idea_id")
    idea.status, idea.answer = answer.status, answer.answer
    db.flush()
    return idea


def list_ideas(db: Session, actor: User, limit: int = 100) -> list[Idea]:
    """Tutors and admins see every idea; others their own and their team's (Idea.__access__)."""
    return list(db.scalars(select(Idea).options(joinedload(Idea.author)).where(access.visible_filter(Idea, actor))
                           .order_by(Idea.created_at.desc(), Idea.id.desc()).limit(limit)))
