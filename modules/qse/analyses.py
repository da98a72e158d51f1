"""Context analysis (QSE-1), regulatory reviews (QSE-3) and QSE planning with its Gantt (QSE-5)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from modules.qse.editing import editable
from modules.qse.models import (
    PESTEL, REG_COMPLIANCE, SWOT, ContextAnalysis, Planning, PlanningTask, RegulatoryReview, RegulatoryReviewItem,
    RegulatoryText)
from shopfloor import access
from shopfloor import validation as v
from shopfloor.auth.models import User
from shopfloor.errors import ValidationError
from shopfloor.evidence.activities import new_activity
from shopfloor.evidence.models import Activity

MAX_LINES = 30
MAX_PARTIES = 40
MAX_TASKS = 100


def _activity(cls, actor: User, now: datetime, data: dict, default_title: str, **fields):
    """A new analysis, review or planning: its title (or the default) and description from `data`."""
    return new_activity(cls, actor, now,
                        title=v.text(data, "title", required=False, max_length=200, default=default_title),
                        description=v.text(data, "description", required=False, max_length=3000), **fields)


def _lines(data: dict, field: str) -> list[str]:
    """A list of short texts: a JSON list, or one line per item (a form's textarea)."""
    value = data.get(field) or []
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list) or not all(isinstance(line, str) for line in value):
        raise ValidationError(f"Le champ « {field} » doit être une liste de textes.", field)
    lines = [line.strip() for line in value if line.strip()]
    if len(lines) > MAX_LINES or any(len(line) > 300 for line in lines):
        raise ValidationError(f"Le champ « {field} » : au plus {MAX_LINES} lignes de 300 caractères.", field)
    return lines


# -- context (QSE-1) ---------------------------------------------------------------------------

def _parties(data: dict) -> list[dict]:
    value = data.get("parties") or []
    if not isinstance(value, list) or len(value) > MAX_PARTIES:
        raise ValidationError(f"Le champ « parties » doit être une liste d'au plus {MAX_PARTIES} parties.", "parties")
    parties = []
    for index, row in enumerate(value):
        if not isinstance(row, dict):
            raise ValidationError(f"Partie intéressée n° {index + 1} : objet attendu.", "parties")
        if not str(row.get("party") or "").strip() and not str(row.get("needs") or "").strip():
            continue   # an empty line of the form
        try:
            parties.append({"party": v.text(row, "party", max_length=200), "needs": v.text(row, "needs", max_length=1000),
                            "priority": v.integer(row, "priority", minimum=1, maximum=3)})
        except ValidationError as exc:
            raise ValidationError(f"Partie intéressée n° {index + 1} : {exc.message}", "parties") from None
    return sorted(parties, key=lambda p: p["priority"])


def save_context(db: Session, actor: User, data: dict, now: datetime,
                 analysis: ContextAnalysis | None = None) -> ContextAnalysis:
    swot = {key: _lines(data, key) for key in SWOT}
    pestel = {key: _lines(data, key) for key in PESTEL}
    parties = _parties(data)
    if not any(swot.values()) and not any(pestel.values()) and not parties:
        raise ValidationError("Une analyse de contexte contient au moins une ligne SWOT, PESTEL ou une partie "
                              "intéressée.", "strengths")
    scope = v.text(data, "scope", required=False, max_length=300)
    if analysis is None:
        analysis = _activity(ContextAnalysis, actor, now, data, f"Analyse du contexte – {scope or 'site'}"[:200])
        db.add(analysis)
    else:
        editable(actor, analysis, "cette analyse")
        analysis.title = v.text(data, "title", required=False, max_length=200, default=analysis.title)
    analysis.scope, analysis.swot, analysis.pestel, analysis.parties = scope, swot, pestel, parties
    db.flush()
    return analysis


def get_context(db: Session, actor: User, analysis_id: int) -> ContextAnalysis:
    return access.visible(db, ContextAnalysis, actor, analysis_id, label="L'analyse de contexte")


# -- regulatory review (QSE-3) -----------------------------------------------------------------------

def create_regulatory_review(db: Session, actor: User, data: dict, now: datetime) -> RegulatoryReview:
    """items: [{"text_id", "compliance", "findings", "action"}]; an action is required when not compliant."""
    items = data.get("items")
    if not isinstance(items, list) or not items:
        raise ValidationError("Choisissez au moins un texte du registre à revoir.", "items")
    ids = [v.identifier(item if isinstance(item, dict) else {}, "text_id") for item in items]
    if len(set(ids)) != len(ids):
        raise ValidationError("Un même texte est revu deux fois.", "items")
    texts = {t.id: t for t in db.scalars(select(RegulatoryText).where(RegulatoryText.id.in_(ids)))}
    review = _activity(RegulatoryReview, actor, now, data, f"Revue réglementaire – {len(ids)} texte(s)",
                       conclusions=v.text(data, "conclusions", required=False, max_length=5000))
    for text_id, item in zip(ids, items):
        if text_id not in texts:
            raise ValidationError(f"Texte réglementaire n° {text_id} introuvable.", "text_id")
        compliance = v.choice(item, "compliance", tuple(k for k in REG_COMPLIANCE if k != "to_assess"))
        action = v.text(item, "action", required=False, max_length=2000)
        if compliance in ("partial", "non_compliant") and not action:
            raise ValidationError(f"« {texts[text_id].reference} » n'est pas conforme : indiquez l'action.", "action")
        review.items.append(RegulatoryReviewItem(text=texts[text_id], compliance=compliance, action=action,
                                                 findings=v.text(item, "findings", required=False, max_length=3000)))
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

def _task(row: dict, index: int) -> PlanningTask:
    try:
        name = v.text(row, "name", max_length=200)
        start = v.date_field(row, "start")
        milestone = v.boolean(row, "milestone")
        end = start if milestone else v.date_field(row, "end")
    except ValidationError as exc:
        raise ValidationError(f"Ligne {index + 1} du planning : {exc.message}", exc.field) from None
    if end < start:
        raise ValidationError(f"Ligne {index + 1} du planning : la fin précède le début.", "end")
    if (end - start) > timedelta(days=3 * 366):
        raise ValidationError(f"Ligne {index + 1} du planning : plus de trois ans.", "end")
    return PlanningTask(name=name, start=start, end=end, milestone=milestone,
                        responsible=v.text(row, "responsible", required=False, max_length=120))


def save_planning(db: Session, actor: User, data: dict, now: datetime, planning: Planning | None = None) -> Planning:
    rows = data.get("tasks")
    if not isinstance(rows, list):
        raise ValidationError("Le champ « tasks » doit être une liste d'activités.", "tasks")
    rows = [row for row in rows if not isinstance(row, dict) or any(str(val).strip() for val in row.values())]
    if not rows or len(rows) > MAX_TASKS:
        raise ValidationError(f"Un planning compte de 1 à {MAX_TASKS} activités ou jalons.", "tasks")
    tasks = [_task(row if isinstance(row, dict) else {}, index) for index, row in enumerate(rows)]
    horizon = v.text(data, "horizon", required=False, max_length=120)
    if planning is None:
        planning = _activity(Planning, actor, now, data, f"Planning QSE {horizon}".strip()[:200])
        db.add(planning)
    else:
        editable(actor, planning, "ce planning")
        planning.tasks.clear()
    planning.horizon = horizon
    planning.tasks.extend(tasks)
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
