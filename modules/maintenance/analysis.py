"""Maintenance analysis (MAINT-5): KPIs and Pareto of failures over a period, conclusions, an improvement
proposal, and a progress action measured before and after on one indicator (MAINT-6).

The proposal and the progress action are actions of the improvement module whose origin is
("maintenance_analysis", analysis id); the progress action is the one carrying an indicator."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from modules.improvement import services as improvement
from modules.maintenance import readings as rd
from modules.maintenance.inputs import NewAnalysis, NewProgress
from modules.maintenance.models import Analysis
from modules.maintenance.progress import ORIGIN, progress_action
from shopfloor import access, clock
from shopfloor.auth.models import User
from shopfloor.errors import Conflict, Forbidden, NotFound, ValidationError
from shopfloor.evidence.activities import new_activity
from shopfloor.evidence.services import ensure_editable

LABEL = "Analyse"   # how a 404 names one (« Analyse n° 12 introuvable. »)
LIST_LIMIT = 100
# indicator key (a Kpis field) → (label, unit); the label is what the improvement action records
INDICATORS = {
    "availability": ("Disponibilité", "%"),
    "mtbf_hours": ("MTBF", "h"),
    "mttr_hours": ("MTTR", "h"),
    "pm_compliance": ("Respect du préventif", "%"),
    "failures": ("Nombre de pannes", "pannes"),
    "downtime_hours": ("Temps d'arrêt", "h"),
}


def indicator_label(key: str) -> str:
    label, unit = INDICATORS[key]
    return f"{label} ({unit})"


def indicator_key(label: str) -> str | None:
    return next((k for k in INDICATORS if indicator_label(k) == label), None)


# -- creation and visibility -------------------------------------------------------

def create_analysis(db: Session, actor: User, request: NewAnalysis, now: datetime) -> Analysis:
    """Freeze the KPIs and the Pareto of failures by cause of the scope over the Paris days first..last."""
    equipment, first, last = request.equipment, request.first, request.last
    start, end = clock.days_bounds(first, last)
    ids = [equipment.id] if equipment else rd.team_equipment_ids(db, None)
    kpis = rd.compute_kpis(db, ids, start, end, now).as_dict()
    pareto = [[cause, count] for cause, count in rd.pareto_failures(db, start, end, "cause", equipment_ids=ids)]
    scope = equipment.code if equipment else "parc"
    title = request.title or f"Analyse maintenance {scope} du {first:%d/%m/%Y} au {last:%d/%m/%Y}"
    analysis = new_activity(Analysis, actor, now, title=title, equipment=equipment, period_start=start,
                            period_end=end, kpis=kpis, pareto=pareto, conclusions=request.conclusions)
    db.add(analysis)
    db.flush()
    return analysis


def list_analyses(db: Session, actor: User, limit: int = LIST_LIMIT) -> list[Analysis]:
    query = (select(Analysis).options(joinedload(Analysis.author), joinedload(Analysis.equipment))
             .where(access.visible_filter(Analysis, actor)))
    return list(db.scalars(query.order_by(Analysis.performed_at.desc(), Analysis.id.desc()).limit(limit)))


def editable_by_author(actor: User, analysis: Analysis) -> None:
    """Only its author completes an analysis, and only until it is validated evidence."""
    if actor.id != analysis.author_id:
        raise Forbidden("Seul l'auteur de l'analyse peut la compléter.", "analysis_id")
    ensure_editable(analysis)


def update_conclusions(db: Session, actor: User, analysis: Analysis, conclusions: str) -> Analysis:
    editable_by_author(actor, analysis)
    analysis.conclusions = conclusions
    db.flush()
    return analysis


# -- proposal and progress action (improvement module) -----------------------------

def _new_action(db: Session, actor: User, analysis: Analysis, action: improvement.NewAction, now: datetime, pdca: str):
    return improvement.create_action(db, actor, replace(action, pdca=pdca, kind="corrective"), owner=actor, now=now,
                                     origin=(ORIGIN, analysis.id))


def propose(db: Session, actor: User, analysis: Analysis, action: improvement.NewAction, now: datetime):
    """An improvement proposal drawn from the analysis (an action to do, PDCA « plan »)."""
    editable_by_author(actor, analysis)
    return _new_action(db, actor, analysis, action, now, pdca="plan")


def start_progress(db: Session, actor: User, analysis: Analysis, progress: NewProgress, now: datetime):
    """The progress action: its indicator's value before is the one computed for the analysed period."""
    editable_by_author(actor, analysis)
    if progress_action(db, analysis) is not None:
        raise Conflict("Cette analyse a déjà son action de progrès.", "indicator")
    key = progress.indicator
    before = analysis.kpis.get(key)
    if before is None:
        raise ValidationError(f"« {indicator_label(key)} » n'est pas calculable sur la période analysée "
                              "(aucune panne ou aucun préventif) : choisissez un autre indicateur.", "indicator")
    action = _new_action(db, actor, analysis, progress.action, now, pdca="do")
    return improvement.update_action(db, actor, action, now, effectiveness=improvement.Effectiveness(
        indicator_label(key), {"before": before, "target": progress.target}))


def record_after(db: Session, actor: User, analysis: Analysis, after: float, now: datetime):
    """Mark the progress action done and record the indicator's value after it."""
    editable_by_author(actor, analysis)
    action = progress_action(db, analysis)
    if action is None:
        raise NotFound("Cette analyse n'a pas encore d'action de progrès.", "after")
    status = "done" if action.status != "done" else None
    return improvement.update_action(db, actor, action, now, status=status, effectiveness=improvement.Effectiveness(numbers={"after": after}))


def suggested_after(db: Session, analysis: Analysis, action, now: datetime) -> tuple[float | None, datetime]:
    """The indicator measured on the same scope from the action's start to now (None if not computable)."""
    key = indicator_key(action.eff_indicator)
    start = clock.paris_midnight(action.started_on or action.planned_start)   # shown as a Paris day
    if key is None or now - start < timedelta(hours=1):
        return None, start
    ids = [analysis.equipment_id] if analysis.equipment_id else rd.team_equipment_ids(db, None)
    return getattr(rd.compute_kpis(db, ids, start, now, now), key), start
