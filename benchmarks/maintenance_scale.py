"""Maintenance at scale (issue #6): 2,000 pieces of equipment, 5,000 plans, 2,000,000 readings on SQLite.

Prints, median and p95:
1. one scheduler pass (first pass: generates; steady pass: nothing new), target < 5 s;
2. the KPI page of one piece of equipment (through the app), target < 300 ms, and the API /kpis call
   with its SQL statements, each beside the hand-written SQL doing the same work (failures, clipped
   downtime, backlog and parts cost in one aggregate, the preventive occurrences counted from their rows
   against their Paris due day), as a ratio (issue 19 target: /kpis <= 5x);
3. reading ingestion through the batch endpoint (1,000 readings a request), target >= 2,000 readings/s.
On SQLite, then on a throw-away PostgreSQL server (started as tests/conftest.py does).

    .venv/bin/python benchmarks/maintenance_scale.py [--readings 2000000] [--db all|sqlite|postgresql] [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from modules.maintenance import readings as rd, schedule   # noqa: E402
from modules.maintenance.models import Equipment, Plan, Reading, WorkOrder   # noqa: E402
from shopfloor import clock, create_app   # noqa: E402
from shopfloor.auth.models import User   # noqa: E402
from shopfloor.auth.services import UserInput, create_token, create_user   # noqa: E402
from shopfloor.models import metadata   # noqa: E402
from shopfloor.referential.services import load_referential   # noqa: E402
from benchmarks.common import Statements, postgres_database  # noqa: E402

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
EQUIPMENT, PLANS = 2000, 5000
PARAMS = ("hours", "temperature", "vibration", "pressure")


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def show(label, samples, unit="ms", scale=1000.0):
    print(f"{label:<48} median {statistics.median(samples) * scale:8.1f} {unit}   p95 {pct(samples, .95) * scale:8.1f} {unit}")


def build(app, readings_total: int):
    db = app.extensions["shopfloor_sessions"].open(write=True)
    load_referential(db)
    tutor = create_user(db, UserInput("tutor", "Théo Tuteur", "tutor", "clef-formateur-2026"))
    appr = create_user(db, UserInput("appr", "Alice Apprentie", "apprentice", "clef-atelier-2026", tutor="tutor",
                                     certifications=("MAINT",)))
    db.commit()
    rng = random.Random(6)
    db.execute(insert(Equipment), [{
        "code": f"EQ-{i:05d}", "name": f"Machine {i}", "level": "equipment", "technologies": ["mecanique"],
        "criticality": "ABC"[i % 3], "energies": ["electrique", "pneumatique"], "meters": ["hours"],
        "reference_values": {}, "documents": [], "maker": "", "model": "", "location": "", "active": True,
        "created_at": NOW} for i in range(EQUIPMENT)])
    ids = list(db.scalars(select(Equipment.id).order_by(Equipment.id)))
    plans = []
    for i in range(PLANS):
        eq = ids[i % EQUIPMENT]
        kind = ("calendar", "calendar", "usage", "condition", "predictive")[i % 5]
        base = {"equipment_id": eq, "title": f"Plan {i}", "kind": kind, "start": NOW - timedelta(days=rng.randint(0, 60)),
                "operations": [{"label": "Contrôle", "expected": 7, "min": 6.5, "max": 7.5}], "tools": "",
                "consumables": "", "authorisation": "", "running_check": False, "active": True, "lead_days": 3,
                "window_days": 30, "anchor": "scheduled", "direction": "above", "created_at": NOW}
        if kind == "calendar":
            base.update(interval_value=rng.choice((7, 14, 30)), interval_unit="days", next_due=base["start"])
        elif kind == "usage":
            base.update(interval_value=500, interval_unit="hours", parameter="hours")
        elif kind == "condition":
            base.update(parameter="vibration", threshold=7.0, checked_until=NOW - timedelta(days=30))
        else:
            base.update(parameter="temperature", threshold=95.0)
        plans.append(base)
    db.execute(insert(Plan), plans)
    db.commit()
    per_eq = readings_total // EQUIPMENT
    days = per_eq // len(PARAMS)
    started = time.perf_counter()
    chunk = []
    for eq in ids:
        drift = rng.uniform(0, 0.4)
        for d in range(days):
            at = NOW - timedelta(days=days - d)
            chunk += [
                {"equipment_id": eq, "parameter": "hours", "value": 1000 + 8 * d, "at": at, "source": "sensor"},
                {"equipment_id": eq, "parameter": "temperature", "value": 60 + drift * d % 40 + rng.random(), "at": at,
                 "source": "sensor"},
                {"equipment_id": eq, "parameter": "vibration", "value": 2 + rng.random() * (6 if d == days - 1 else 3),
                 "at": at, "source": "sensor"},
                {"equipment_id": eq, "parameter": "pressure", "value": 7 + rng.random() / 5, "at": at, "source": "sensor"},
            ]
        if len(chunk) >= 100_000:
            db.execute(insert(Reading), chunk)
            chunk = []
    if chunk:
        db.execute(insert(Reading), chunk)
    # a year of corrective history: 10 failures per machine
    history = []
    for eq in ids:
        for k in range(10):
            begin = NOW - timedelta(days=rng.randint(1, 360), hours=rng.randint(0, 23))
            history.append({"equipment_id": eq, "kind": "curative", "trigger": "request", "status": "closed",
                            "title": "Panne", "due": begin, "late": False, "skipped": [], "symptom": "",
                            "requested_at": begin, "downtime_start": begin,
                            "downtime_end": begin + timedelta(hours=rng.uniform(0.5, 8)), "running_check": False,
                            "hold_reason": "", "downtime_reason": "Panne", "report": "ok", "tests_done": "",
                            "ramp_up": "", "parts_cost": 0.0, "parts": [],
                            "diagnosis": {"failure_cause": rng.choice(("LUB", "ENC", "FAT", "MON"))}})
    db.execute(insert(WorkOrder), history)
    db.commit()
    count = db.scalar(select(func.count(Reading.id)))
    print(f"dataset: {EQUIPMENT} equipment, {PLANS} plans, {count:,} readings, {len(history):,} work orders "
          f"(readings inserted in {time.perf_counter() - started:.1f} s)")
    token = create_token(db, appr)
    db.commit()
    db.close()
    return token


def scheduler_passes(app):
    sessions = app.extensions["shopfloor_sessions"]
    samples = []
    for label, at in (("first", NOW), ("steady", NOW), ("steady", NOW), ("next day", NOW + timedelta(days=1))):
        db = sessions.open(write=True)
        started = time.perf_counter()
        result = schedule.run(db, at)
        db.commit()
        elapsed = time.perf_counter() - started
        db.close()
        samples.append(elapsed)
        print(f"scheduler pass ({label:<8}) {elapsed * 1000:8.0f} ms   created {len(result.created):5d}, "
              f"skipped {result.skipped}, replanned {result.replanned}, late {result.late}")
    return samples


# the hand-written floor: one aggregate statement, then the preventive rows counted against their Paris day
FLOOR_AGGREGATE = """
SELECT count(*) FILTER (WHERE {stopped}),
       coalesce(sum({hours}) FILTER (WHERE {stopped}), 0),
       count(*) FILTER (WHERE w.status IN ('requested', 'planned', 'in_progress', 'on_hold')),
       coalesce(sum(w.parts_cost) FILTER (WHERE w.finished_at >= :s AND w.finished_at < :e), 0)
FROM maint_work_order w WHERE w.equipment_id = :eq"""
STOPPED = ("w.kind IN ('curative', 'palliative') AND w.downtime_start IS NOT NULL AND w.downtime_start < :e "
           "AND (w.downtime_end IS NULL OR w.downtime_end > :s)")
HOURS = {"sqlite": "(julianday(min(coalesce(w.downtime_end, :e), :e)) - julianday(max(w.downtime_start, :s))) * 24",
         "postgresql": "extract(epoch FROM least(coalesce(w.downtime_end, :e), :e) "
                       "- greatest(w.downtime_start, :s)) / 3600"}
FLOOR_PREVENTIVE = ("SELECT w.due, w.finished_at, w.skipped FROM maint_work_order w WHERE w.equipment_id = :eq "
                    "AND w.kind = 'preventive' AND w.due >= :s AND w.due < :e")


def floor_kpis(conn, backend: str, eq: int, start: datetime, end: datetime) -> tuple:
    """The same KPIs by hand: UTC bounds as each database stores them (naive; text on SQLite)."""
    s, e = (m.astimezone(timezone.utc).replace(tzinfo=None) for m in (start, end))
    if backend == "sqlite":
        s, e = (m.strftime("%Y-%m-%d %H:%M:%S.%f") for m in (s, e))
    aggregate = conn.execute(text(FLOOR_AGGREGATE.format(stopped=STOPPED, hours=HOURS[backend])),
                             {"eq": eq, "s": s, "e": e}).one()
    due = on_time = 0
    for wo_due, finished, skipped in conn.execute(text(FLOOR_PREVENTIVE), {"eq": eq, "s": s, "e": e}):
        if backend == "sqlite":
            wo_due, finished = (v and datetime.fromisoformat(v) for v in (wo_due, finished))
            skipped = json.loads(skipped) if skipped else []
        due += 1 + sum(1 for label in skipped or () if _skip_within(label, start, end))
        if finished is not None and _aware(finished) < clock.day_bounds(clock.paris_day(_aware(wo_due)))[1]:
            on_time += 1
    return (*aggregate, due, on_time)


def _skip_within(label: str, start: datetime, end: datetime) -> bool:
    try:
        return start <= _aware(label) < end
    except ValueError:
        return False   # a usage occurrence is labelled by its meter value


def _aware(moment) -> datetime:
    moment = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)



def kpi_page(app, token, backend: str, runs: int):
    client = app.test_client()
    client.post("/login", data={"username": "appr", "password": "clef-atelier-2026"})
    code = "EQ-01000"
    headers = {"Authorization": f"Bearer {token}"}
    api_url = f"/api/v1/maintenance/kpis?equipment={code}&from=2025-11-20&to=2026-11-20"
    page, api, service, sql, sheet = [], [], [], [], []
    sessions = app.extensions["shopfloor_sessions"]
    engine = sessions.engine
    eq = sessions.open(write=False).scalar(select(Equipment.id).where(Equipment.code == code))
    start, end = clock.days_bounds(datetime(2025, 11, 20).date(), datetime(2026, 11, 20).date())
    check = None
    for _ in range(runs):
        started = time.perf_counter()
        assert client.get(f"/maintenance/kpis?equipment={code}&from=2025-11-20&to=2026-11-20").status_code == 200
        page.append(time.perf_counter() - started)
        started = time.perf_counter()
        response = client.get(api_url, headers=headers)
        api.append(time.perf_counter() - started)
        assert response.status_code == 200
        db = sessions.open(write=False)
        started = time.perf_counter()
        kpis = rd.compute_kpis(db, [eq], start, end, clock.now())
        service.append(time.perf_counter() - started)
        db.close()
        with engine.connect() as conn:
            started = time.perf_counter()
            check = floor_kpis(conn, backend, eq, start, min(end, clock.now()))
            sql.append(time.perf_counter() - started)
        started = time.perf_counter()
        assert client.get(f"/maintenance/equipment/{code}").status_code == 200
        sheet.append(time.perf_counter() - started)
    assert (kpis.failures, kpis.backlog, kpis.pm_due, kpis.pm_on_time) == (check[0], check[2], check[4], check[5]), \
        (kpis, check)
    assert abs(kpis.downtime_hours - float(check[1])) < 1e-3, (kpis, check)
    counter = Statements(engine)
    db = sessions.open(write=False)
    in_service = counter.count(lambda: rd.compute_kpis(db, [eq], start, end, clock.now()))
    db.close()
    in_request = counter.count(lambda: client.get(api_url, headers=headers))
    floor = statistics.median(sql)
    show("KPI page, one equipment (HTML, Pareto of causes)", page)
    show("GET /api/v1/maintenance/kpis, one equipment", api)
    show("compute_kpis (the service alone)", service)
    show("hand-written SQL, same KPIs (2 statements)", sql)
    print(f"{'ratio API / SQL, service / SQL (median)':<48} {statistics.median(api) / floor:8.1f} x "
          f"{statistics.median(service) / floor:8.1f} x   (target API <= 5x)")
    print(f"{'SQL statements: compute_kpis, whole request':<48} {in_service:8d}   {in_request:8d}")
    show("equipment sheet (readings chart, plans, KPIs)", sheet)


def ingestion(app, token):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    rates = []
    for batch in range(20):
        readings = [{"equipment": f"EQ-{(batch * 37 + i) % EQUIPMENT:05d}", "parameter": "pressure",
                     "value": 7.1, "at": (NOW - timedelta(seconds=i + batch * 1000)).isoformat()} for i in range(1000)]
        started = time.perf_counter()
        response = client.post("/api/v1/maintenance/readings", json={"readings": readings}, headers=headers)
        elapsed = time.perf_counter() - started
        assert response.status_code == 201, response.json
        rates.append(1000 / elapsed)
    print(f"{'batch ingestion (1,000 readings a request)':<48} median {statistics.median(rates):8.0f} /s   "
          f"p5 {pct(rates, .05):8.0f} /s")


def run(backend: str, url: str, folder: Path, readings: int, runs: int, reuse: bool = False):
    print(f"-- {backend} (load average {' '.join(f'{x:.2f}' for x in os.getloadavg())})")
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": str(folder),
                      "WTF_CSRF_ENABLED": False})
    if reuse:
        db = app.extensions["shopfloor_sessions"].open(write=True)
        db.execute(text("DELETE FROM maint_work_order WHERE plan_id IS NOT NULL"))
        db.execute(text("UPDATE maint_plan SET next_meter = NULL, predicted_crossing = NULL, "
                        "next_due = CASE WHEN kind = 'calendar' THEN start END"))
        db.commit()
        token = create_token(db, db.scalar(select(User).where(User.username == "appr")))
        db.commit()
        db.close()
    else:
        metadata.create_all(app.extensions["shopfloor_sessions"].engine)
        token = build(app, readings)
    scheduler_passes(app)
    kpi_page(app, token, backend, runs)
    ingestion(app, token)
    app.extensions["shopfloor_sessions"].engine.dispose()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--readings", type=int, default=2_000_000)
    parser.add_argument("--keep", help="build the SQLite dataset in this directory and keep it (reused when present)")
    parser.add_argument("--db", choices=("all", "sqlite", "postgresql"), default="all")
    parser.add_argument("--quick", action="store_true", help="100,000 readings and 10 runs, for development")
    args = parser.parse_args()
    readings, runs = (100_000, 10) if args.quick else (args.readings, 30)
    with tempfile.TemporaryDirectory() as tmp:
        if args.db in ("all", "sqlite"):
            folder = Path(args.keep or tmp) / "sqlite"
            folder.mkdir(parents=True, exist_ok=True)
            run("sqlite", f"sqlite:///{folder}/bench.db", folder, readings, runs, reuse=(folder / "bench.db").exists())
        if args.db in ("all", "postgresql"):
            with postgres_database("maintenance_bench") as url:
                folder = Path(tmp) / "pg"
                folder.mkdir()
                run("postgresql", url, folder, readings, runs)


if __name__ == "__main__":
    main()
