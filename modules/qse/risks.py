"""Risks and opportunities (QSE-2): quality, OHS (DUERP) and environment, likelihood × severity, heat map."""
from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from modules.qse.inputs import RiskInput
from modules.qse.models import Risk
from modules.qse.pagination import Page, paginate
from shopfloor import access, clock
from shopfloor.auth.models import User
from shopfloor.errors import ValidationError
from shopfloor.evidence.activities import new_activity

SCALE = (1, 2, 3, 4)
LIKELIHOOD_LABELS = {1: "Improbable", 2: "Possible", 3: "Probable", 4: "Très probable"}
SEVERITY_LABELS = {1: "Faible", 2: "Moyenne", 3: "Grave", 4: "Très grave"}


def level(score: int) -> str:
    """Priority of a score on the 4 × 4 grid: the DUERP's usual three bands."""
    return "high" if score >= 9 else "medium" if score >= 4 else "low"


LEVEL_LABELS = {"high": "Prioritaire", "medium": "À traiter", "low": "Acceptable"}


def create_risk(db: Session, actor: User, values: RiskInput, now: datetime) -> Risk:
    """A risk as parsed by inputs.risk; a DUERP line names its work unit, a review date is not past."""
    if values.category == "ohs" and not values.work_unit:
        raise ValidationError("Un risque santé-sécurité (DUERP) se rattache à une unité de travail.", "work_unit")
    if values.review_on is not None and values.review_on < clock.paris_day(now):
        raise ValidationError("La date de revue ne peut pas être passée.", "review_on")
    risk = new_activity(Risk, actor, now, **asdict(values), score=values.likelihood * values.severity)
    db.add(risk)
    db.flush()
    return risk


def get_risk(db: Session, actor: User, risk_id: int) -> Risk:
    return access.visible(db, Risk, actor, risk_id, label="Le risque")


def _conditions(actor: User, category: str, process: str, min_score: int | None) -> list:
    conditions = [access.visible_filter(Risk, actor)]
    if category:
        conditions.append(Risk.category == category)
    if process:
        conditions.append(Risk.process == process)
    if min_score:
        conditions.append(Risk.score >= min_score)
    return conditions


def register(db: Session, actor: User, *, category: str = "", process: str = "", min_score: int | None = None,
             page: int = 1) -> Page:
    conditions = _conditions(actor, category, process, min_score)
    query = (select(Risk).options(joinedload(Risk.author)).where(*conditions)
             .order_by(Risk.score.desc(), Risk.id.desc()))
    return paginate(db, query, page, select(func.count()).select_from(Risk).where(*conditions))


def heat_counts(db: Session, actor: User, *, category: str = "", process: str = "") -> dict[tuple[int, int], int]:
    conditions = _conditions(actor, category, process, None)
    rows = db.execute(select(Risk.likelihood, Risk.severity, func.count()).select_from(Risk).where(*conditions)
                      .group_by(Risk.likelihood, Risk.severity))
    return {(likelihood, severity): count for likelihood, severity, count in rows}


def heat_map_figure(counts: dict[tuple[int, int], int]) -> str:
    """Plotly JSON: severity across, likelihood up, colour = score band, text = number of risks."""
    import plotly.graph_objects as go

    z = [[likelihood * severity for severity in SCALE] for likelihood in SCALE]
    text = [[str(counts.get((likelihood, severity), 0)) for severity in SCALE] for likelihood in SCALE]
    figure = go.Figure(go.Heatmap(
        z=z, x=[SEVERITY_LABELS[s] for s in SCALE], y=[LIKELIHOOD_LABELS[p] for p in SCALE], text=text,
        texttemplate="%{text}", textfont={"size": 22}, showscale=False, zmin=1, zmax=16,
        colorscale=[[0, "#2e7d32"], [0.2, "#9ccc65"], [0.45, "#ffb300"], [0.7, "#ef6c00"], [1, "#c62828"]],
        hovertemplate="Probabilité %{y}<br>Gravité %{x}<br>%{text} risque(s)<extra></extra>"))
    figure.update_layout(margin={"l": 110, "r": 10, "t": 10, "b": 60}, height=360,
                         xaxis={"title": "Gravité"}, yaxis={"title": "Probabilité"})
    return json.dumps(figure.to_plotly_json(), default=str)


def processes(db: Session) -> list[str]:
    return list(db.scalars(select(Risk.process).distinct().order_by(Risk.process).limit(200)))


def as_json(risk: Risk) -> dict:
    return {"id": risk.id, "score": risk.score, "level": level(risk.score), "title": risk.title,
            "process": risk.process, "category": risk.category, "kind": risk.kind, "description": risk.description,
            "likelihood": risk.likelihood, "severity": risk.severity, "work_unit": risk.work_unit,
            "hazard": risk.hazard, "existing_measures": risk.existing_measures,
            "residual_score": risk.residual_score, "treatment": risk.treatment,
            "review_on": risk.review_on.isoformat() if risk.review_on else None}
