"""Context analysis (QSE-1), regulatory reviews (QSE-3) and QSE planning with its Gantt (QSE-5)."""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from modules.qse.editing import editable
from modules.qse.inputs import ContextInput, PlanningInput, RegulatoryReviewInput
from modules.qse.models import (
    ContextAnalysis, Planning, PlanningTask, RegulatoryReview, RegulatoryReviewItem, RegulatoryText)
from shopfloor import access
from shopfloor.auth.models import User
from shopfloor.errors import ValidationError
from shopfloor.evidence.activities import new_activity
from shopfloor.evidence.models import Activity


def _activity(cls, actor: User, now: datetime, title: str, description: str, **fields):
    """A new analysis, review or planning with its title and description."""
    return new_activity(cls, actor, now, title=title, description=description, **fields)


# -- context (QSE-1) ---------------------------------------------------------------------------

def save_context(db: Session, actor: User, spec: ContextInput, now: datetime,
                 analysis: ContextAnalysis | None = None) -> ContextAnalysis:
    if analysis is None:
        title = spec.title or f"Analyse du contexte – {spec.scope or 'site'}"[:200]
        analysis = _activity(ContextAnalysis, actor, now, title, spec.description)
        db.add(analysis)
    else:
        editable(actor, analysis, "cette analyse")
        analysis.title = spec.title or analysis.title
    analysis.scope, analysis.swot, analysis.pestel, analysis.parties = spec.scope, spec.swot, spec.pestel, spec.parties
    db.flush()
    return analysis


def get_context(db: Session, actor: User, analysis_id: int) -> ContextAnalysis:
    return access.visible(db, ContextAnalysis, actor, analysis_id, label="L'analyse de contexte")


# -- regulatory review (QSE-3) -----------------------------------------------------------------------

def create_regulatory_review(db: Session, actor: User, spec: RegulatoryReviewInput, now: datetime
                             ) -> RegulatoryReview:
    """Each reviewed text is in the register; an action is required when one is not compliant."""
    ids = [item.text_id for item in spec.items]
    texts = {t.id: t for t in db.scalars(select(RegulatoryText).where(RegulatoryText.id.in_(ids)))}
    review = _activity(RegulatoryReview, actor, now, spec.title or f"Revue réglementaire – {len(ids)} texte(s)",
                       spec.description, conclusions=spec.conclusions)
    for item in spec.items:
        if item.text_id not in texts:
            raise ValidationError(f"Texte réglementaire n° {item.text_id} introuvable.", "text_id")
        if item.compliance in ("partial", "non_compliant") and not item.action:
            raise ValidationError(f"« {texts[item.text_id].reference} » n'est pas conforme : indiquez l'action.",
                                  "action")
        review.items.append(RegulatoryReviewItem(text=texts[item.text_id], compliance=item.compliance,
                                                 action=item.action, findings=item.findings))
    db.add(review)
    db.flush()
    return review


def get_regulatory_review(db: Session, actor: User, review_id: int) -> RegulatoryReview:
    return access.visible(db, RegulatoryReview, actor, review_id, label="La revue réglementaire")


def reviews_of_text(db: Session, text_id: int) -> list[RegulatoryReviewItem]:
    return list(db.scalars(select(RegulatoryReviewItem).join(RegulatoryReview)
                           .where(RegulatoryReviewItem.text_id == text_id)
                           .order_by(RegulatoryReview.performed_at.desc()).limit(20)))


# -- planning (QSE-5) ------------------------------------------------------------------------------

def save_planning(db: Session, actor: User, spec: PlanningInput, now: datetime,
                  planning: Planning | None = None) -> Planning:
    if planning is None:
        planning = _activity(Planning, actor, now, spec.title or f"Planning QSE {spec.horizon}".strip()[:200],
                             spec.description)
        db.add(planning)
    else:
        editable(actor, planning, "ce planning")
        planning.tasks.clear()
    planning.horizon = spec.horizon
    planning.tasks.extend(PlanningTask(name=t.name, start=t.start, end=t.end, milestone=t.milestone,
                                       responsible=t.responsible) for t in spec.tasks)
    db.flush()
    return planning


def get_planning(db: Session, actor: User, planning_id: int) -> Planning:
    return access.visible(db, Planning, actor, planning_id, label="Le planning")


def gantt_figure(planning: Planning, today) -> str:
    """Plotly JSON: one horizontal bar per activity (base = start), diamonds for milestones, a line for today."""
    import plotly.graph_objects as go

    tasks = sorted(planning.tasks, key=lambda t: (t.start, t.id or 0))
    labels = [f"{t.name}" + (f" ({t.responsible})" if t.responsible else "") for t in tasks]
    bars = [(label, t) for label, t in zip(labels, tasks) if not t.milestone]
    milestones = [(label, t) for label, t in zip(labels, tasks) if t.milestone]
    day_ms = 24 * 3600 * 1000
    figure = go.Figure()
    figure.add_trace(go.Bar(
        y=[label for label, _ in bars], base=[t.start.isoformat() for _, t in bars],
        x=[((t.end - t.start).days + 1) * day_ms for _, t in bars], orientation="h", name="Activités",
        marker={"color": "#1c7ed6"},
        hovertext=[f"{t.start:%d/%m/%Y} → {t.end:%d/%m/%Y}" for _, t in bars], hoverinfo="y+text"))
    figure.add_trace(go.Scatter(
        y=[label for label, _ in milestones], x=[t.start.isoformat() for _, t in milestones], mode="markers+text",
        marker={"symbol": "diamond", "size": 16, "color": "#e67700"}, name="Jalons",
        text=[f"{t.start:%d/%m}" for _, t in milestones], textposition="middle right"))
    figure.add_vline(x=today.isoformat(), line_dash="dot", line_color="#c92a2a")
    figure.update_layout(xaxis={"type": "date"}, yaxis={"autorange": "reversed", "categoryorder": "array",
                                                        "categoryarray": labels},
                         height=max(260, 40 * len(tasks) + 80), margin={"l": 260, "r": 20, "t": 20, "b": 40},
                         legend={"orientation": "h"}, barmode="overlay")
    return json.dumps(figure.to_plotly_json(), default=str)


def recent(db: Session, actor: User, limit: int = 10) -> list:
    """The latest context analyses, regulatory reviews and plannings `actor` may see, newest first."""
    query = (select(Activity).where(Activity.type.in_(("qse_context", "qse_regulatory_review", "qse_planning")),
                                    access.visible_filter(Activity, actor))
             .order_by(Activity.performed_at.desc()).limit(limit))
    return list(db.scalars(query))
