"""Generation of preventive work orders from plans: calendar, usage, condition and predictive.

One pass (`run(db, now)`) is safe to run twice or from two processes: the database holds
one WO per (plan, due) and at most one open WO per plan (partial unique index); an insert
losing that race is rolled back to its savepoint and skipped. Occurrences that fall due
while a plan's WO is still open are not piled up: they are recorded as skipped on it."""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modules.maintenance.models import OPEN_STATES, Plan, Reading, WorkOrder
from shopfloor.errors import ValidationError
from shopfloor.evidence.freeze import exclude_frozen, frozen_ids

PREDICTIVE_HORIZON = timedelta(days=60)   # a predicted WO is planned once its date is this close
MAX_SKIPS_RECORDED = 500


def add_interval(moment: datetime, plan: Plan, times: int = 1) -> datetime:
    n = int(plan.interval_value) * times
    if plan.interval_unit == "days":
        return moment + timedelta(days=n)
    if plan.interval_unit == "weeks":
        return moment + timedelta(weeks=n)
    if plan.interval_unit == "months":
        month = moment.month - 1 + n
        year, month = moment.year + month // 12, month % 12 + 1
        return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))
    raise ValidationError("Unité d'intervalle inconnue.", "interval_unit")


def initial_state(plan: Plan) -> None:
    if plan.kind == "calendar":
        plan.next_due = plan.start
    elif plan.kind == "condition":
        plan.checked_until = plan.start


@dataclass
class PassResult:
    created: list[int] = field(default_factory=list)
    new: list[WorkOrder] = field(default_factory=list)
    batch: bool = True
    skipped: int = 0
    replanned: int = 0
    late: int = 0


def run(db: Session, now: datetime) -> PassResult:
    """One scheduler pass over every active plan. The new WOs are flushed together; if another
    process created one of them meanwhile, the pass is redone one WO at a time."""
    try:
        with db.begin_nested():
            return _pass(db, now, batch=True)
    except IntegrityError:
        db.expire_all()
        return _pass(db, now, batch=False)


def _pass(db: Session, now: datetime, batch: bool) -> PassResult:
    result = PassResult()
    result.batch = batch
    open_wos = {wo.plan_id: wo for wo in db.scalars(
        select(WorkOrder).where(WorkOrder.plan_id.is_not(None), WorkOrder.status.in_(OPEN_STATES)))}
    plans = db.scalars(select(Plan).where(Plan.active.is_(True))).all()
    by_kind: dict[str, list[Plan]] = {}
    for plan in plans:
        by_kind.setdefault(plan.kind, []).append(plan)
    _calendar(db, by_kind.get("calendar", []), open_wos, now, result)
    _usage(db, by_kind.get("usage", []), open_wos, now, result)
    _condition(db, by_kind.get("condition", []), open_wos, now, result)
    _predictive(db, by_kind.get("predictive", []), open_wos, now, result)
    db.flush()
    result.created = [wo.id for wo in result.new]
    result.late = _flag_late(db, now)
    return result


def _create(db: Session, plan: Plan, due: datetime, trigger: str, open_wos: dict, result: PassResult,
            title_suffix: str = "") -> WorkOrder | None:
    wo = WorkOrder(equipment_id=plan.equipment_id, plan=plan, kind="preventive", trigger=trigger, status="planned",
                   title=(plan.title + title_suffix)[:200], due=due, running_check=plan.running_check, skipped=[])
    if result.batch:
        db.add(wo)
        open_wos[plan.id] = wo
        result.new.append(wo)
        return wo
    try:
        with db.begin_nested():
            db.add(wo)
            db.flush()
    except IntegrityError:
        # another pass (process) created this occurrence first
        db.expire(plan)
        return None
    open_wos[plan.id] = wo
    result.new.append(wo)
    return wo


def _skip(wo: WorkOrder, occurrence: datetime | str, result: PassResult) -> None:
    label = occurrence.isoformat() if isinstance(occurrence, datetime) else occurrence
    if label not in wo.skipped and len(wo.skipped) < MAX_SKIPS_RECORDED:
        wo.skipped = [*wo.skipped, label]
        result.skipped += 1


def _calendar(db: Session, plans: list[Plan], open_wos: dict, now: datetime, result: PassResult) -> None:
    for plan in plans:
        if plan.next_due is None:   # from completion: waits for the open WO to be done
            continue
        open_wo = open_wos.get(plan.id)
        if open_wo is None and plan.next_due - timedelta(days=plan.lead_days) <= now:
            if _create(db, plan, plan.next_due, "calendar", open_wos, result) is None:
                continue
            open_wo = open_wos[plan.id]
            plan.next_due = add_interval(plan.next_due, plan) if plan.anchor == "scheduled" else None
        if open_wo is not None and plan.anchor == "scheduled":
            while plan.next_due is not None and plan.next_due <= now:
                _skip(open_wo, plan.next_due, result)
                plan.next_due = add_interval(plan.next_due, plan)


def latest_values(db: Session, pairs: set[tuple[int, str]]) -> dict[tuple[int, str], tuple[float, datetime]]:
    """The last reading of each (equipment, parameter)."""
    if not pairs:
        return {}
    equipment_ids = {e for e, _ in pairs}
    parameters = {p for _, p in pairs}
    last = (select(Reading.equipment_id, Reading.parameter, func.max(Reading.at).label("at"))
            .where(Reading.equipment_id.in_(equipment_ids), Reading.parameter.in_(parameters))
            .group_by(Reading.equipment_id, Reading.parameter).subquery())
    rows = db.execute(select(Reading.equipment_id, Reading.parameter, Reading.value, Reading.at).join(
        last, and_(Reading.equipment_id == last.c.equipment_id, Reading.parameter == last.c.parameter,
                   Reading.at == last.c.at)))
    return {(e, p): (value, at) for e, p, value, at in rows}


def _usage(db: Session, plans: list[Plan], open_wos: dict, now: datetime, result: PassResult) -> None:
    meters = latest_values(db, {(p.equipment_id, p.parameter) for p in plans})
    for plan in plans:
        reading = meters.get((plan.equipment_id, plan.parameter))
        if reading is None:
            continue
        value, at = reading
        if plan.next_meter is None:
            # first reading seen: the counter starts here
            plan.next_meter = value + plan.interval_value
            continue
        open_wo = open_wos.get(plan.id)
        if open_wo is None and value >= plan.next_meter:
            unit = "h" if plan.parameter == "hours" else "cycles"
            if _create(db, plan, min(at, now), "usage", open_wos, result,
                       f" ({plan.next_meter:g} {unit})") is None:
                continue
            open_wo = open_wos[plan.id]
            plan.next_meter = plan.next_meter + plan.interval_value if plan.anchor == "scheduled" else None
        if open_wo is not None and plan.anchor == "scheduled":
            while plan.next_meter is not None and value >= plan.next_meter:
                _skip(open_wo, f"{plan.next_meter:g} {plan.parameter}", result)
                plan.next_meter += plan.interval_value


def _crossed(plan: Plan, value: float) -> bool:
    return value >= plan.threshold if plan.direction == "above" else value <= plan.threshold


def _condition(db: Session, plans: list[Plan], open_wos: dict, now: datetime, result: PassResult) -> None:
    if not plans:
        return
    # the extreme value of the readings each plan has not evaluated yet, in one query
    rows = db.execute(
        select(Plan.id, func.max(Reading.value), func.min(Reading.value), func.max(Reading.at))
        .join(Reading, and_(Reading.equipment_id == Plan.equipment_id, Reading.parameter == Plan.parameter,
                            Reading.at > Plan.checked_until, Reading.at <= now))
        .where(Plan.id.in_([p.id for p in plans])).group_by(Plan.id)).all()
    fresh = {plan_id: (high, low, at) for plan_id, high, low, at in rows}
    for plan in plans:
        if plan.id not in fresh:
            continue
        high, low, at = fresh[plan.id]
        plan.checked_until = at
        value = high if plan.direction == "above" else low
        if not _crossed(plan, value):
            continue
        open_wo = open_wos.get(plan.id)
        if open_wo is not None:
            _skip(open_wo, at, result)
        else:
            _create(db, plan, at, "condition", open_wos, result, f" ({plan.parameter} {value:g})")


def predict_crossing(plan: Plan, times: list[datetime], values: list[float]) -> datetime | None:
    """Least-squares line through the window's readings; when it crosses the threshold."""
    if len(values) < 3:
        return None
    t0 = times[0]
    x = np.array([(t - t0).total_seconds() / 86400 for t in times])
    y = np.array(values, dtype=float)
    if np.ptp(x) == 0:
        return None
    slope, intercept = np.polyfit(x, y, 1)
    going_up = plan.direction == "above"
    if _crossed(plan, float(y[-1])):
        return times[-1]
    if (going_up and slope <= 0) or (not going_up and slope >= 0):
        return None
    days = (plan.threshold - intercept) / slope
    if days > 3650:
        return None
    return t0 + timedelta(days=float(days))


def _window_readings(db: Session, plans: list[Plan], now: datetime) -> dict[int, tuple[list, list]]:
    out: dict[int, tuple[list, list]] = {p.id: ([], []) for p in plans}
    if not plans:
        return out
    widest = max(p.window_days for p in plans)
    rows = db.execute(
        select(Plan.id, Reading.at, Reading.value)
        .join(Reading, and_(Reading.equipment_id == Plan.equipment_id, Reading.parameter == Plan.parameter))
        .where(Plan.id.in_([p.id for p in plans]), Reading.at > now - timedelta(days=widest), Reading.at <= now)
        .order_by(Plan.id, Reading.at))
    # readings from before the last completed WO describe the machine before its repair
    windows = {p.id: max(now - timedelta(days=p.window_days), p.checked_until or p.start - timedelta(days=3650))
               for p in plans}
    for plan_id, at, value in rows:
        if at > windows[plan_id]:
            out[plan_id][0].append(at)
            out[plan_id][1].append(value)
    return out


def _predictive(db: Session, plans: list[Plan], open_wos: dict, now: datetime, result: PassResult) -> None:
    for chunk in (plans[i:i + 500] for i in range(0, len(plans), 500)):
        readings = _window_readings(db, chunk, now)
        for plan in chunk:
            crossing = predict_crossing(plan, *readings[plan.id])
            plan.predicted_crossing = crossing
            plan.next_due = max(crossing - timedelta(days=plan.lead_days), plan.start) if crossing else None
            open_wo = open_wos.get(plan.id)
            if open_wo is not None:
                if open_wo.status == "planned" and plan.next_due and open_wo.due != plan.next_due:
                    open_wo.due = plan.next_due   # re-planned as the readings change
                    result.replanned += 1
            elif plan.next_due is not None and plan.next_due <= now + PREDICTIVE_HORIZON:
                _create(db, plan, plan.next_due, "predictive", open_wos, result)


def _flag_late(db: Session, now: datetime) -> int:
    """Flag the open work orders past due, except frozen ones (their intervention is validated
    evidence): the job never writes a frozen row. The interventions it may touch are locked first,
    so no validation commits between the check and the write."""
    past_due = and_(WorkOrder.status.in_(("requested", "planned", "on_hold")), WorkOrder.due < now,
                    WorkOrder.late.is_(False))
    frozen_ids(db, db.scalars(select(WorkOrder.intervention_id)
                              .where(past_due, WorkOrder.intervention_id.is_not(None))))
    flagged = db.execute(exclude_frozen(update(WorkOrder).where(past_due), WorkOrder.intervention_id)
                         .values(late=True).execution_options(synchronize_session="fetch"))
    return flagged.rowcount or 0


def on_completion(plan: Plan, wo: WorkOrder, meter_value: float | None) -> None:
    """A plan counting from the last completion starts its next interval when the WO is done."""
    if plan.kind == "predictive":
        plan.checked_until = wo.finished_at
    if plan.anchor != "completion":
        return
    done_at = wo.finished_at
    if plan.kind == "calendar":
        plan.next_due = add_interval(done_at, plan)
    elif plan.kind == "usage" and meter_value is not None:
        plan.next_meter = meter_value + plan.interval_value


def job(db: Session, now: datetime) -> None:
    run(db, now)

