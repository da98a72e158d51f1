"""Maintenance analysis (MAINT-5): KPIs and Pareto of failures over a period, conclusions, an improvement
proposal, and a progress action measured before and after on one indicator (MAINT-6).

The proposal and the progress action are actions of the improvement module whose origin is
("maintenance_analysis", analysis id); the progress action is the one carrying an indicator."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, object_session

from modules.maintenance import readings as rd
from modules.maintenance.equipment import get_equipment
from modules.maintenance.models import Analysis
from shopfloor import validation as v
from shopfloor.auth.models import User
from shopfloor.auth.services import can_see_apprentice
from shopfloor.errors import Conflict, Forbidden, NotFound, ValidationError
from shopfloor.evidence.services import ensure_editable

ORIGIN = "maintenance_analysis"
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

def create_analysis(db: Session, actor: User, data: dict, now: datetime) -> Analysis:
    """Freeze the KPIs and the Pareto of failures by cause of the scope over [from, to] (Paris days)."""
    today = v.to_paris(now).date()
    first = v.date_field(data, "from")
    last = v.date_field(data, "to", default=today)
    if last < first:
        raise ValidationError("La fin de période (« to ») doit suivre son début.", "to")
    if last > today:
        raise ValidationError("La période analysée ne peut pas finir dans le futur.", "to")
    equipment = get_equipment(db, data["equipment"]) if str(data.get("equipment") or "").strip() else None
    start, end = rd.day_bounds(first)[0], rd.day_bounds(last)[1]
    ids = [equipment.id] if equipment else rd.team_equipment_ids(db, None)
    kpis = rd.compute_kpis(db, ids, start, end, now).as_dict()
    pareto = [[cause, count] for cause, count in rd.pareto_failures(db, start, end, "cause", equipment_ids=ids)]
    scope = equipment.code if equipment else "parc"
    title = v.text(data, "title", required=False) or f"Analyse maintenance {scope} du {first:%d/%m/%Y} au {last:%d/%m/%Y}"
    analysis = Analysis(author=actor, title=title, performed_at=now, site_id=actor.site_id, team_id=actor.team_id,
                        equipment=equipment, period_start=start, period_end=end, kpis=kpis, pareto=pareto,
                        conclusions=v.text(data, "conclusions", required=False, max_length=5000))
    db.add(analysis)
    db.flush()
    return analysis


def visible_analysis(db: Session, actor: User, analysis_id: int) -> Analysis:
    analysis = db.get(Analysis, analysis_id)
    if analysis is None:
        raise NotFound(f"Analyse {analysis_id} introuvable.", "analysis_id")
    if not can_see_apprentice(actor, analysis.author):
        raise Forbidden("Cette analyse n'est pas la vôtre ni celle d'un de vos apprentis.", "analysis_id")
    return analysis


def list_analyses(db: Session, actor: User, limit: int = LIST_LIMIT) -> list[Analysis]:
    query = select(Analysis).options(joinedload(Analysis.author), joinedload(Analysis.equipment))
    if actor.role == "tutor":
        query = query.join(User, Analysis.author_id == User.id).where(User.tutor_id == actor.id)
    elif actor.role != "admin":
        query = query.where(Analysis.author_id == actor.id)
    return list(db.scalars(query.order_by(Analysis.performed_at.desc(), Analysis.id.desc()).limit(limit)))


def _editable_by_author(actor: User, analysis: Analysis) -> None:
    if actor.id != analysis.author_id:
        raise Forbidden("Seul l'auteur de l'analyse peut la compléter.", "analysis_id")
    ensure_editable(analysis)


def update_conclusions(db: Session, actor: User, analysis: Analysis, data: dict) -> Analysis:
    _editable_by_author(actor, analysis)
    analysis.conclusions = v.text(data, "conclusions", max_length=5000)
    db.flush()
    return analysis


# -- proposal and progress action (improvement module) -----------------------------

def actions(db: Session, analysis: Analysis):
    from modules.improvement.services import origin_actions
    return origin_actions(db, ORIGIN, analysis.id)


def proposals(db: Session, analysis: Analysis):
    return [a for a in actions(db, analysis) if not a.eff_indicator]


def progress_action(db: Session, analysis: Analysis):
    return next((a for a in actions(db, analysis) if a.eff_indicator), None)


def _new_action(db: Session, actor: User, analysis: Analysis, data: dict, now: datetime, pdca: str):
    from modules.improvement.services import create_action
    return create_action(db, actor, title=v.text(data, "title"), deliverable=v.text(data, "deliverable", max_length=500),
                         owner=actor, due=v.date_field(data, "due"), now=now, origin=(ORIGIN, analysis.id),
                         pdca=pdca, kind="corrective")


def propose(db: Session, actor: User, analysis: Analysis, data: dict, now: datetime):
    """An improvement proposal drawn from the analysis (an action to do, PDCA « plan »)."""
    _editable_by_author(actor, analysis)
    return _new_action(db, actor, analysis, data, now, pdca="plan")


def start_progress(db: Session, actor: User, analysis: Analysis, data: dict, now: datetime):
    """The progress action: its indicator's value before is the one computed for the analysed period."""
    from modules.improvement.services import update_action
    _editable_by_author(actor, analysis)
    if progress_action(db, analysis) is not None:
        raise Conflict("Cette analyse a déjà son action de progrès.", "indicator")
    key = v.choice(data, "indicator", tuple(INDICATORS))
    before = analysis.kpis.get(key)
    if before is None:
        raise ValidationError(f"« {indicator_label(key)} » n'est pas calculable sur la période analysée "
                              "(aucune panne ou aucun préventif) : choisissez un autre indicateur.", "indicator")
    target = float(v.decimal(data, "target"))
    action = _new_action(db, actor, analysis, data, now, pdca="do")
    return update_action(db, actor, action, now, effectiveness={
        "indicator": indicator_label(key), "before": before, "target": target})


def record_after(db: Session, actor: User, analysis: Analysis, data: dict, now: datetime):
    """Mark the progress action done and record the indicator's value after it."""
    from modules.improvement.services import update_action
    _editable_by_author(actor, analysis)
    action = progress_action(db, analysis)
    if action is None:
        raise NotFound("Cette analyse n'a pas encore d'action de progrès.", "after")
    after = float(v.decimal(data, "after"))
    status = "done" if action.status != "done" else None
    return update_action(db, actor, action, now, status=status, effectiveness={"after": after})


def suggested_after(db: Session, analysis: Analysis, action, now: datetime) -> tuple[float | None, datetime]:
    """The indicator measured on the same scope from the action's start to now (None if not computable)."""
    key = indicator_key(action.eff_indicator)
    start = rd.day_bounds(action.started_on or action.planned_start)[0]
    if key is None or now - start < timedelta(hours=1):
        return None, start
    ids = [analysis.equipment_id] if analysis.equipment_id else rd.team_equipment_ids(db, None)
    return getattr(rd.compute_kpis(db, ids, start, now, now), key), start


# -- evidence ---------------------------------------------------------------------

def has_measured_progress(analysis: Analysis) -> bool:
    db = object_session(analysis)
    action = progress_action(db, analysis) if db is not None and analysis.id else None
    return bool(action and action.effectiveness_recorded)


def _number(value, unit: str) -> str:
    return "—" if value is None else f"{value:.1f} {unit}".strip()


def summary_rows(analysis: Analysis) -> list[tuple[str, str]]:
    k = analysis.kpis
    last_day = v.to_paris(analysis.period_end - timedelta(seconds=1)).date()
    rows = [("Périmètre", analysis.scope_label),
            ("Période", f"du {v.to_paris(analysis.period_start):%d/%m/%Y} au {last_day:%d/%m/%Y}"),
            ("Pannes", str(k.get("failures", 0))),
            ("Disponibilité", _number(k.get("availability"), "%")),
            ("MTBF / MTTR", f"{_number(k.get('mtbf_hours'), 'h')} / {_number(k.get('mttr_hours'), 'h')}"),
            ("Respect du préventif", _number(k.get("pm_compliance"), "%"))]
    if analysis.pareto:
        rows.append(("Pareto des causes", ", ".join(f"{cause} ({count})" for cause, count in analysis.pareto[:5])))
    if analysis.conclusions:
        rows.append(("Conclusions", analysis.conclusions))
    db = object_session(analysis)
    if db is None or analysis.id is None:
        return rows
    for action in proposals(db, analysis):
        rows.append(("Proposition d'amélioration", f"{action.title} — {action.deliverable}"))
    progress = progress_action(db, analysis)
    if progress is not None:
        after = f", après {progress.eff_after:g}" if progress.eff_after is not None else ""
        rows.append(("Action de progrès", f"{progress.title} — {progress.eff_indicator} : avant "
                     f"{progress.eff_before:g}, cible {progress.eff_target:g}{after}"))
    return rows
