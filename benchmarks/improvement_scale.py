"""Improvement at scale: 50,000 actions and 5,000 problem sheets on SQLite.

Measures "my actions", a plan's follow-up and the late-actions job (targets: < 150 ms, < 150 ms, < 2 s),
and compares "my actions" with one hand-written SQL query. Run: python benchmarks/improvement_scale.py"""
from __future__ import annotations

import random
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import insert, text

from modules.improvement import services
from modules.improvement.jobs import mark_late_actions
from modules.improvement.models import Action, ActionPlan, ProblemSheet
from shopfloor import create_app
from shopfloor.auth.models import User
from shopfloor.db import Sessions, make_engine
from shopfloor.evidence.models import Activity
from shopfloor.models import metadata

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
TODAY = NOW.date()
USERS, ACTIONS, SHEETS, PLANS = 200, 50_000, 5_000, 500


def build(db) -> None:
    rng = random.Random(5)
    db.execute(insert(User), [{"id": i, "username": f"u{i}", "full_name": f"Utilisateur {i}", "password_hash": "x",
                               "role": "apprentice", "created_at": NOW} for i in range(1, USERS + 1)])
    activities = [{"id": i, "type": "improvement_problem", "author_id": rng.randint(1, USERS), "title": f"Fiche {i}",
                   "description": "", "performed_at": NOW - timedelta(days=rng.randint(1, 700)), "created_at": NOW,
                   "updated_at": NOW} for i in range(1, SHEETS + 1)]
    activities += [{"id": SHEETS + i, "type": "improvement_plan", "author_id": rng.randint(1, USERS),
                    "title": f"Plan {i}", "description": "", "performed_at": NOW - timedelta(days=30),
                    "created_at": NOW, "updated_at": NOW} for i in range(1, PLANS + 1)]
    db.execute(insert(Activity.__table__), activities)
    db.execute(insert(ProblemSheet.__table__), [{"id": i, "method": rng.choice(["QRQC", "8D", "A3"]),
                                                 "status": rng.choice(["open", "closed"])} for i in range(1, SHEETS + 1)])
    db.execute(insert(ActionPlan.__table__), [{"id": SHEETS + i, "objective": "o", "scope": ""}
                                              for i in range(1, PLANS + 1)])
    rows = []
    for i in range(1, ACTIONS + 1):
        due = TODAY + timedelta(days=rng.randint(-200, 120))
        status = rng.choices(["todo", "in_progress", "done", "abandoned"], [3, 2, 6, 1])[0]
        rows.append({"id": i, "title": f"Action {i}", "deliverable": "livrable", "owner_id": rng.randint(1, USERS),
                     "created_by_id": rng.randint(1, USERS), "plan_id": SHEETS + rng.randint(1, PLANS),
                     "origin_type": "problem", "origin_id": rng.randint(1, SHEETS), "kind": "corrective",
                     "pdca": "do", "status": status, "planned_start": due - timedelta(days=20), "due": due,
                     "done_on": due if status == "done" else None, "abandon_reason": "x" if status == "abandoned" else "",
                     "eff_indicator": "", "created_at": NOW})
    for start in range(0, len(rows), 10_000):
        db.execute(insert(Action.__table__), rows[start:start + 10_000])
    db.commit()


def measure(label: str, work, runs: int = 30) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"{label:<44} median {statistics.median(times):7.2f} ms   p95 {p95:7.2f} ms")
    return times


def main() -> None:
    path = Path(tempfile.mkdtemp()) / "bench.db"
    engine = make_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    sessions = Sessions(engine)
    db = sessions.open(write=True)
    started = time.perf_counter()
    build(db)
    print(f"dataset: {ACTIONS} actions, {SHEETS} sheets, {PLANS} plans, {USERS} users "
          f"built in {time.perf_counter() - started:.1f} s")
    db.close()

    rng = random.Random(1)
    db = sessions.open(write=False)
    users = [db.get(User, i) for i in range(1, USERS + 1)]

    def my_actions():
        db.expunge_all()
        services.my_actions(db, rng.choice(users), TODAY, "open")

    def my_actions_sql():
        db.execute(text("SELECT * FROM improvement_action WHERE owner_id = :o AND status IN ('todo','in_progress') "
                        "ORDER BY due, id LIMIT 200"), {"o": rng.randint(1, USERS)}).all()

    def plan_follow_up():
        db.expunge_all()
        plan = db.get(ActionPlan, SHEETS + rng.randint(1, PLANS))
        services.plan_follow_up(db, plan, TODAY)

    def plan_sql():
        db.execute(text("SELECT a.*, u.full_name FROM improvement_action a JOIN core_user u ON u.id = a.owner_id "
                        "WHERE a.plan_id = :p ORDER BY a.planned_start, a.due, a.id"),
                   {"p": SHEETS + rng.randint(1, PLANS)}).all()

    def sheet_actions():
        db.expunge_all()
        services.origin_actions(db, "problem", rng.randint(1, SHEETS))

    mine = measure("my actions (open, ORM)", my_actions)
    mine_sql = measure("my actions (hand-written SQL)", my_actions_sql)
    plan = measure("plan follow-up (~100 actions, ORM)", plan_follow_up)
    plan_raw = measure("plan follow-up (hand-written SQL)", plan_sql)
    measure("problem sheet's actions (ORM)", sheet_actions)
    print(f"ratio my actions ORM / SQL: {statistics.median(mine) / statistics.median(mine_sql):.1f}x; "
          f"plan follow-up ORM / SQL: {statistics.median(plan) / statistics.median(plan_raw):.1f}x")
    db.close()

    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "INSTANCE_PATH": str(path.parent / "instance")})
    for run in (1, 2):
        with app.app_context():   # as the scheduler runs every job (its links need the app)
            db = app.extensions["shopfloor_sessions"].open(write=True)
            start = time.perf_counter()
            detail = mark_late_actions(db, NOW)
            db.commit()
            print(f"late-actions job, run {run}: {(time.perf_counter() - start) * 1000:8.1f} ms  ({detail})")
            db.close()
    engine.dispose()


if __name__ == "__main__":
    main()
