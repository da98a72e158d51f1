"""Generation of preventive work orders on a fixed clock: the four plan kinds, anchors, skips, idempotence."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from modules.maintenance import schedule
from modules.maintenance.models import WorkOrder

DAY = timedelta(days=1)


def _orders(db, plan):
    return db.scalars(select(WorkOrder).where(WorkOrder.plan_id == plan.id).order_by(WorkOrder.id)).all()


def _run(db, at):
    result = schedule.run(db, at)
    db.commit()
    return result


def test_calendar_from_scheduled_date_records_skipped_occurrences(db, shop, now):
    plan = shop.plan(kind="calendar", interval_days=7, start=now.isoformat(), title="Graissage hebdomadaire",
                     operations=[{"label": "Graisser les glissières"}])
    assert len(_run(db, now).created) == 1
    assert _run(db, now).created == []            # a second pass creates nothing
    [wo] = _orders(db, plan)
    assert wo.due == now and wo.status == "planned" and wo.kind == "preventive"
    result = _run(db, now + 15 * DAY)             # still open: the days 7 and 14 are skipped, not piled up
    assert result.created == [] and result.skipped == 2
    assert wo.skipped == [(now + 7 * DAY).isoformat(), (now + 14 * DAY).isoformat()]
    assert wo.late is True
    shop.do(wo, now + 16 * DAY)
    assert _run(db, now + 16 * DAY).created == []  # the next occurrence stays on the schedule: day 21
    assert len(_run(db, now + 21 * DAY).created) == 1
    assert _orders(db, plan)[-1].due == now + 21 * DAY


def test_calendar_from_completion_counts_from_the_last_completion(db, shop, now):
    plan = shop.plan(kind="calendar", interval_days=7, start=now.isoformat(), anchor="completion")
    _run(db, now)
    [wo] = _orders(db, plan)
    assert _run(db, now + 30 * DAY).skipped == 0
    shop.do(wo, now + 30 * DAY)
    assert plan.next_due == now + 30 * DAY + timedelta(minutes=30) + 7 * DAY
    assert _run(db, now + 36 * DAY).created == []
    assert len(_run(db, now + 38 * DAY).created) == 1


def test_calendar_lead_days_and_months(db, shop, now):
    plan = shop.plan(kind="calendar", interval_months=1, start=(now + 5 * DAY).isoformat(), lead_days=7)
    assert len(_run(db, now).created) == 1        # generated a week ahead of its date
    assert _orders(db, plan)[0].due == now + 5 * DAY
    assert plan.next_due == (now + 5 * DAY).replace(month=12)


def test_usage_plan_follows_the_hour_meter(db, shop, now):
    plan = shop.plan(kind="usage", interval_hours=250)
    shop.reading("hours", 1000, now - 10 * DAY)
    _run(db, now - 10 * DAY)
    assert plan.next_meter == 1250
    shop.reading("hours", 1200, now - 5 * DAY)
    assert _run(db, now - 5 * DAY).created == []
    shop.reading("hours", 1260, now - DAY)
    assert len(_run(db, now).created) == 1
    assert plan.next_meter == 1500
    shop.reading("hours", 1510, now)
    assert _run(db, now).skipped == 1            # the 1500 h occurrence while the 1250 h WO is open


def test_condition_plan_triggers_on_a_reading_crossing_its_threshold(db, shop, now):
    plan = shop.plan(kind="condition", parameter="vibration", threshold=7.1, start=(now - 30 * DAY).isoformat())
    shop.reading("vibration", 3.2, now - 3 * DAY)
    assert _run(db, now - 3 * DAY).created == []
    shop.reading("vibration", 7.4, now - 2 * DAY)
    assert len(_run(db, now).created) == 1
    assert _run(db, now).created == []            # the same reading never triggers twice
    shop.reading("vibration", 8.0, now)
    assert _run(db, now).skipped == 1
    [wo] = _orders(db, plan)
    assert wo.trigger == "condition" and "7.4" in wo.title


def test_predictive_plan_moves_its_date_with_new_readings(db, shop, now):
    plan = shop.plan(kind="predictive", parameter="temperature", threshold=80, lead_days=5, window_days=30,
                     start=(now - 60 * DAY).isoformat())
    for day in range(20):                          # 50 °C rising 0.5 °C a day: 80 °C 60 days after the first
        shop.reading("temperature", 50 + 0.5 * day, now - (19 - day) * DAY)
    _run(db, now)
    first = now - 19 * DAY
    assert abs((plan.predicted_crossing - (first + 60 * DAY)).total_seconds()) < 60
    assert plan.next_due == plan.predicted_crossing - 5 * DAY
    [wo] = _orders(db, plan)                        # within the 60-day horizon: planned now
    assert wo.due == plan.next_due and wo.trigger == "predictive"
    before = wo.due
    for day in range(1, 6):                         # faster drift: the date comes closer
        shop.reading("temperature", 60 + 2 * day, now + day * DAY)
    result = _run(db, now + 5 * DAY)
    assert result.replanned == 1 and result.created == []
    assert wo.due < before and wo.due == plan.next_due


def test_predictive_plan_without_a_rising_trend_plans_nothing(db, shop, now):
    plan = shop.plan(kind="predictive", parameter="temperature", threshold=80, start=(now - 60 * DAY).isoformat())
    for day in range(10):
        shop.reading("temperature", 55 - 0.1 * day, now - (9 - day) * DAY)
    assert _run(db, now).created == []
    assert plan.predicted_crossing is None


def test_database_refuses_a_second_open_work_order_for_a_plan(db, shop, now):
    plan = shop.plan(kind="calendar", interval_days=7, start=now.isoformat())
    _run(db, now)
    db.add(WorkOrder(equipment_id=plan.equipment_id, plan_id=plan.id, kind="preventive", status="planned",
                     title="doublon", due=now + DAY))
    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()
    db.add(WorkOrder(equipment_id=plan.equipment_id, plan_id=plan.id, kind="preventive", status="done",
                     title="doublon", due=now))
    with pytest.raises(IntegrityError):            # one WO per occurrence, even closed
        db.flush()
    db.rollback()


def test_two_schedulers_on_stale_state_create_nothing_twice(app, db, shop, now):
    """A second process that read the plan before the first committed loses the insert, quietly."""
    plan = shop.plan(kind="calendar", interval_days=7, start=now.isoformat())
    other = app.extensions["shopfloor_sessions"].open(write=False)
    try:
        _run(db, now)
        stale = other.get(type(plan), plan.id)
        stale.next_due = now                       # what the other process saw before the first pass
        result = schedule.run(other, now)
        other.commit()
        assert result.created == []
    finally:
        other.close()
    db.rollback()
    assert len(_orders(db, plan)) == 1
