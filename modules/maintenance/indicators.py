"""AIC board indicators, and what maintenance registers with the improvement module."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from modules.maintenance import readings as rd
from modules.maintenance.models import CORRECTIVE_KINDS, OPEN_STATES, Analysis, Equipment, WorkOrder
from shopfloor import clock
from shopfloor.origins import activity_itself
from shopfloor.urls import link
from shopfloor.registry import Indicator, Origin, ParetoSource

WINDOW_DAYS = 30


def _window(day: date, days: int = WINDOW_DAYS):
    return clock.days_bounds(day - timedelta(days=days - 1), day)


def availability(db: Session, day: date, team_id: int | None) -> float | None:
    ids = rd.team_equipment_ids(db, team_id)
    if not ids:
        return None
    start, end = clock.day_bounds(day)
    rows = rd.failures_in(db, start, end, ids)
    period = 24.0 * len(ids)
    return round(100 * (period - rd.downtime_hours(rows, start, end)) / period, 1)


def pm_compliance(db: Session, day: date, team_id: int | None) -> float | None:
    ids = rd.team_equipment_ids(db, team_id)
    if not ids:
        return None
    due, on_time = rd.pm_compliance_counts(db, ids, *_window(day))
    return round(100 * on_time / due, 1) if due else None


def open_breakdowns(db: Session, day: date, team_id: int | None) -> float | None:
    q = select(func.count(WorkOrder.id)).join(Equipment).where(
        WorkOrder.kind.in_(CORRECTIVE_KINDS), WorkOrder.status.in_(OPEN_STATES),
        WorkOrder.requested_at < clock.day_bounds(day)[1])
    if team_id is not None:
        q = q.where(Equipment.team_id == team_id)
    return float(db.scalar(q) or 0)


def mttr(db: Session, day: date, team_id: int | None) -> float | None:
    ids = rd.team_equipment_ids(db, team_id)
    if not ids:
        return None
    start, end = _window(day)
    rows = [r for r in rd.failures_in(db, start, end, ids) if r[2] is not None]
    return round(rd.downtime_hours(rows, start, end) / len(rows), 2) if rows else None


INDICATORS = [
    Indicator("maintenance.availability", "Disponibilité des équipements", "P", "%", True, availability),
    Indicator("maintenance.pm_compliance", "Respect du préventif (30 j)", "D", "%", True, pm_compliance),
    Indicator("maintenance.open_breakdowns", "Pannes ouvertes", "P", "pannes", False, open_breakdowns),
    Indicator("maintenance.mttr", "MTTR (30 j)", "P", "h", False, mttr),
]


# -- Improvement hooks ------------------------------------------------------------

def resolve_work_order(db: Session, record_id: int):
    wo = db.get(WorkOrder, record_id)
    if wo is None:
        return None
    return f"OT-{wo.id} {wo.title}", link("maintenance.work_order", wo_id=record_id)


def resolve_analysis(db: Session, record_id: int):
    analysis = db.get(Analysis, record_id)
    if analysis is None:
        return None
    return analysis.title, link("maintenance.analysis", analysis_id=record_id)


def _pareto(by: str):
    def compute(db: Session, start: date, end: date, team_id: int | None):
        return rd.pareto_failures(db, *clock.days_bounds(start, end), by, team_id)
    return compute


def work_order_intervention(db: Session, record_id: int) -> int | None:
    """A work order's actions freeze with its intervention (the activity that is evidence)."""
    return db.scalar(select(WorkOrder.intervention_id).where(WorkOrder.id == record_id))


ORIGINS = [
    Origin("maintenance_work_order", "Ordre de travail maintenance", resolve_work_order, owner=work_order_intervention),
    Origin("maintenance_analysis", "Analyse de maintenance", resolve_analysis, owner=activity_itself),
]
PARETO_SOURCES = [
    ParetoSource("maintenance_failures_by_cause", "Pannes par cause", _pareto("cause")),
    ParetoSource("maintenance_failures_by_equipment", "Pannes par équipement", _pareto("equipment")),
]
