"""The idea box: anyone suggests, a tutor or admin answers."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from modules.improvement.models import IDEA_STATUSES, Idea
from shopfloor import access
from shopfloor.auth.models import User
from shopfloor.errors import Forbidden, ValidationError
from shopfloor.validation import text

IDEA_LABELS = {"submitted": "Déposée", "accepted": "Retenue", "rejected": "Non retenue", "done": "Mise en œuvre"}


def submit_idea(db: Session, actor: User, *, title: str, description: str, now: datetime) -> Idea:
    values = {"title": title, "description": description}
    idea = Idea(author=actor, team_id=actor.team_id, title=text(values, "title"),
                description=text(values, "description", required=False, max_length=5000), created_at=now)
    db.add(idea)
    db.flush()
    return idea


def answer_idea(db: Session, actor: User, idea: Idea, status: str, answer: str = "") -> Idea:
    if actor.role not in ("tutor", "admin"):
        raise Forbidden("Seul un tuteur ou un administrateur répond aux idées.", "idea_id")
    if status not in IDEA_STATUSES:
        raise ValidationError(f"Statut attendu : {', '.join(IDEA_STATUSES)}.", "status")
    if status == "rejected" and not (answer or "").strip():
        raise ValidationError("Expliquez pourquoi l'idée n'est pas retenue.", "answer")
    idea.status, idea.answer = status, (answer or "").strip()[:2000]
    db.flush()
    return idea


def list_ideas(db: Session, actor: User, limit: int = 100) -> list[Idea]:
    """Tutors and admins see every idea; others their own and their team's (Idea.__access__)."""
    return list(db.scalars(select(Idea).options(joinedload(Idea.author)).where(access.visible_filter(Idea, actor))
                           .order_by(Idea.created_at.desc(), Idea.id.desc()).limit(limit)))
