"""Readings (meters and measured parameters) and the maintenance KPIs computed from the history."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import pandas as pd
from sqlalchemy import and_, bindparam, case, func, insert, or_, select
from sqlalchemy.orm import Session

from modules.maintenance.inputs import NewReading
from modules.maintenance.models import CORRECTIVE_KINDS, FAILURE_CAUSES, Equipment, Plan, Reading, WorkOrder
from shopfloor import clock
from shopfloor.auth.models import User
from shopfloor.errors import ValidationError

def add_readings(db: Session, actor: User | None, readings: list[NewReading], now: datetime,
                 source: str = "sensor") -> int:
    """Insert the readings (inputs.readings checked them) in one statement: sensors send batches."""
    codes = {r.equipment for r in readings}
    ids = dict(db.execute(select(Equipment.code, Equipment.id).where(Equipment.code.in_(codes))).all())
    rows = []
    for n, reading in enumerate(readings):
        if reading.equipment not in ids:
            prefix = f"readings[{n}]." if len(readings) > 1 else ""
            raise ValidationError(f"Équipement « {reading.equipment} » introuvable (mesure {n + 1}).",
                                  prefix + "equipment")
        rows.append({"equipment_id": ids[reading.equipment], "parameter": reading.parameter, "value": reading.value,
                     "at": reading.at, "source": source, "author_id": actor.id if actor else None})
    db.execute(insert(Reading), rows)
    return len(rows)


def series(db: Session, equipment: Equipment, parameter: str, start: datetime, end: datetime,
           limit: int = 5000) -> list[tuple[datetime, float]]:
    return list(db.execute(select(Reading.at, Reading.value).where(
        Reading.equipment_id == equipment.id, Reading.parameter == parameter, Reading.at >= start, Reading.at <= end)
        .order_by(Reading.at.desc()).limit(limit)).all())[::-1]


def parameters(db: Session, equipment: Equipment) -> list[str]:
    return list(db.scalars(select(Reading.parameter).where(Reading.equipment_id == equipment.id)
                           .group_by(Reading.parameter).order_by(Reading.parameter)))


# -- KPIs -------------------------------------------------------------------------

@dataclass
class Kpis:
    period_hours: float
    failures: int
    downtime_hours: float
    uptime_hours: float
    mtbf_hours: float | None
    mttr_hours: float | None
    availability: float | None        # percent
    pm_due: int
    pm_on_time: int
    pm_compliance: float | None       # percent
    backlog: int
    parts_cost: float

    def as_dict(self) -> dict:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


OPEN_STATUSES = ("requested", "planned", "in_progress", "on_hold")


def _scope(equipment_ids) -> list:
    return [] if equipment_ids is None else [WorkOrder.equipment_id.in_(equipment_ids)]


def _stopped_during(start: datetime, end: datetime):
    """Corrective WOs whose downtime overlaps the period."""
    return and_(WorkOrder.kind.in_(CORRECTIVE_KINDS), WorkOrder.downtime_start.is_not(None),
                WorkOrder.downtime_start < end, or_(WorkOrder.downtime_end.is_(None), WorkOrder.downtime_end > start))


def _preventive_due(start: datetime, end: datetime):
    return and_(WorkOrder.kind == "preventive", WorkOrder.due >= start, WorkOrder.due < end)


def failures_in(db: Session, start: datetime, end: datetime, equipment_ids=None):
    """Corrective WOs that stopped the equipment during the period (downtime clipped to it)."""
    return db.execute(select(WorkOrder.equipment_id, WorkOrder.downtime_start, WorkOrder.downtime_end)
                      .where(_stopped_during(start, end), *_scope(equipment_ids))).all()


def downtime_hours(rows, start: datetime, end: datetime) -> float:
    return sum(_hours(min(stop or end, end) - max(begin, start)) for _, begin, stop in rows)


def compute_kpis(db: Session, equipment_ids: list[int] | None, start: datetime, end: datetime, now: datetime) -> Kpis:
    """Two statements: the failures and preventive occurrences of the period (their downtime is clipped
    and their due day read in Paris, here), then the backlog and the parts cost, counted in SQL."""
    if end <= start:
        raise ValidationError("La fin de période doit suivre son début.", "to")
    end_eff = min(end, now)
    period = _hours(end_eff - start) * (len(equipment_ids) if equipment_ids is not None else 1)
    failures, preventive = _history(db, equipment_ids, start, end_eff)
    down = downtime_hours(failures, start, end_eff)
    uptime = max(period - down, 0.0)
    n = len(failures)
    due, on_time = _pm_counts(preventive, start, end_eff)
    backlog, cost = _backlog_and_cost(db, equipment_ids, start, end_eff)
    return Kpis(period_hours=period, failures=n, downtime_hours=down, uptime_hours=uptime,
                mtbf_hours=uptime / n if n else None, mttr_hours=down / n if n else None,
                availability=100 * uptime / period if period > 0 else None,
                pm_due=due, pm_on_time=on_time, pm_compliance=100 * on_time / due if due else None,
                backlog=backlog, parts_cost=float(cost))


def _history(db: Session, equipment_ids, start: datetime, end: datetime) -> tuple[list, list]:
    """(failure rows as `failures_in` gives them, preventive rows as `_pm_counts` reads them), in one query."""
    failures, preventive = [], []
    for kind, equipment_id, begin, stop, due, finished, skipped in db.execute(
            _kpi_statements(equipment_ids is not None)[0], _kpi_params(equipment_ids, start, end)):
        if kind == "preventive":
            preventive.append((due, finished, skipped))
        else:
            failures.append((equipment_id, begin, stop))
    return failures, preventive


def _backlog_and_cost(db: Session, equipment_ids, start: datetime, end: datetime) -> tuple[int, float]:
    backlog, cost = db.execute(_kpi_statements(equipment_ids is not None)[1],
                               _kpi_params(equipment_ids, start, end)).one()
    return backlog or 0, cost or 0.0


def _kpi_params(equipment_ids, start: datetime, end: datetime) -> dict:
    return {"start": start, "end": end, **({"ids": list(equipment_ids)} if equipment_ids is not None else {})}


@lru_cache(maxsize=2)
def _kpi_statements(scoped: bool):
    """The two KPI statements, built once (building them cost more than running them): the history of
    the period, then the backlog and parts cost."""
    start, end = bindparam("start"), bindparam("end")
    scope = [WorkOrder.equipment_id.in_(bindparam("ids", expanding=True))] if scoped else []
    history = (select(WorkOrder.kind, WorkOrder.equipment_id, WorkOrder.downtime_start, WorkOrder.downtime_end,
                      WorkOrder.due, WorkOrder.finished_at, WorkOrder.skipped)
               .where(or_(_stopped_during(start, end), _preventive_due(start, end)), *scope))
    open_now = WorkOrder.status.in_(OPEN_STATUSES)
    finished = and_(WorkOrder.finished_at >= start, WorkOrder.finished_at < end)
    cost = func.coalesce(func.sum(case((finished, WorkOrder.parts_cost))), 0.0)
    totals = select(func.count(case((open_now, 1))), cost).where(or_(open_now, finished), *scope)
    return history, totals


def pm_compliance_counts(db: Session, equipment_ids, start: datetime, end: datetime) -> tuple[int, int]:
    rows = db.execute(select(WorkOrder.due, WorkOrder.finished_at, WorkOrder.skipped)
                      .where(_preventive_due(start, end), *_scope(equipment_ids)))
    return _pm_counts(rows, start, end)


def _pm_counts(rows, start: datetime, end: datetime) -> tuple[int, int]:
    """Preventive occurrences due in the period (WOs and the occurrences skipped on them) and those
    done by the end of their due day (Paris)."""
    due = on_time = 0
    for wo_due, finished, skipped in rows:
        due += 1 + sum(1 for s in skipped or [] if _skip_in(s, start, end))
        deadline = clock.day_bounds(clock.paris_day(wo_due))[1]
        if finished is not None and finished < deadline:
            on_time += 1
    return due, on_time


def _skip_in(label: str, start: datetime, end: datetime) -> bool:
    try:
        moment = datetime.fromisoformat(label)
    except ValueError:
        return False   # a usage occurrence (meter value) has no date
    return start <= moment < end


def pareto_failures(db: Session, start: datetime, end: datetime, by: str, team_id: int | None = None,
                    equipment_ids: list[int] | None = None) -> list[tuple[str, int]]:
    """Failures counted by equipment or by coded cause, most frequent first (pandas)."""
    q = select(Equipment.code, Equipment.name, WorkOrder.diagnosis).join(Equipment).where(
        WorkOrder.kind.in_(CORRECTIVE_KINDS), WorkOrder.downtime_start.is_not(None),
        WorkOrder.downtime_start >= start, WorkOrder.downtime_start < end)
    if team_id is not None:
        q = q.where(Equipment.team_id == team_id)
    if equipment_ids is not None:
        q = q.where(WorkOrder.equipment_id.in_(equipment_ids))
    rows = db.execute(q).all()
    if not rows:
        return []
    frame = pd.DataFrame(rows, columns=["code", "name", "diagnosis"])
    if by == "equipment":
        frame["category"] = frame["code"] + " " + frame["name"]
    else:
        frame["category"] = frame["diagnosis"].map(
            lambda d: FAILURE_CAUSES.get((d or {}).get("failure_cause"), "Non diagnostiquée"))
    counts = frame["category"].value_counts()
    return [(str(k), int(c)) for k, c in counts.items()]


def thresholds(db: Session, equipment: Equipment, parameter: str) -> list[Plan]:
    return list(db.scalars(select(Plan).where(Plan.equipment_id == equipment.id, Plan.parameter == parameter,
                                              Plan.threshold.is_not(None))))


def team_equipment_ids(db: Session, team_id: int | None) -> list[int]:
    q = select(Equipment.id).where(Equipment.active.is_(True), Equipment.level.in_(("equipment", "subassembly")))
    if team_id is not None:
        q = q.where(Equipment.team_id == team_id)
    return list(db.scalars(q))

