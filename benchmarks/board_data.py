"""Board `/data` beside the hand-written SQL doing the same work (issue 19), on SQLite and PostgreSQL.

The demo's data, plus a team board of 12 indicators (8 typed by the team, 4 computed by modules) with a
year of daily values. For that board and for the demo's workshop board (level 2: it shows its teams'
typed indicators, worst safety event and mean of the others), prints, median over --runs:
- `GET /api/v1/boards/<id>/data` through the app (Flask test client, bearer token), and its SQL statements;
- `read.board_data` alone (the service);
- the hand-written floor: the month's values in one query, the lower boards' daily aggregate in one
  query, the open escalations and the team's actions, each written by hand, plus today's live module
  values computed by the modules' own functions (their SQL belongs to each module, and stays as it is);
- the ratios request / floor and service / floor (target <= 5x), and the board's own part (the service
  without the live module values) beside the hand-written SQL alone.

    .venv/bin/python benchmarks/board_data.py [--runs 50] [--db all|sqlite|postgresql] [--quick]
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboards import indicators as ind, read, services   # noqa: E402
from dashboards.models import Board, BoardRow, DailyValue, IndicatorDefinition   # noqa: E402
from shopfloor import clock, create_app   # noqa: E402
from shopfloor.auth.models import User   # noqa: E402
from shopfloor.auth.services import create_token   # noqa: E402
from shopfloor.demo import load_demo   # noqa: E402
from shopfloor.models import metadata   # noqa: E402
from shopfloor.referential.services import load_referential   # noqa: E402
from benchmarks.common import Statements, postgres_database  # noqa: E402

MODULE_KEYS = ["improvement.late_actions", "stock.stockouts", "stock.inventory_accuracy", "maintenance.open_breakdowns"]

FLOOR_VALUES = "SELECT indicator_key, day, value FROM aic_value WHERE board_id = :b AND day BETWEEN :f AND :l"
FLOOR_LOWER = """
WITH RECURSIVE lower(id) AS (SELECT id FROM aic_board WHERE parent_id = :b
                             UNION SELECT b.id FROM aic_board b JOIN lower ON b.parent_id = lower.id)
SELECT v.indicator_key, v.day,
       CASE WHEN v.indicator_key = 'aic.safety' THEN max(v.value) ELSE avg(v.value) END
FROM aic_value v WHERE v.board_id IN (SELECT id FROM lower) AND v.source = 'manual' AND v.day BETWEEN :f AND :l
GROUP BY v.indicator_key, v.day"""
FLOOR_ESCALATIONS = """
SELECT e.id, p.title, p.letter, p.category, f.name, e.reason, u.full_name, e.raised_at, e.answered_at, e.answer
FROM aic_escalation e JOIN aic_problem p ON p.id = e.problem_id JOIN aic_board f ON f.id = e.from_board_id
JOIN core_user u ON u.id = e.raised_by_id WHERE e.to_board_id = :b AND e.answered_at IS NULL
ORDER BY e.raised_at DESC LIMIT 50"""
FLOOR_ACTIONS = """
SELECT a.id, a.title, u.full_name, a.due, a.status, a.done_on FROM improvement_action a JOIN core_user u ON u.id = a.owner_id
WHERE (a.team_id = :t OR CAST(:t AS INTEGER) IS NULL) AND (a.status IN ('todo', 'in_progress')
       OR (a.status = 'done' AND a.done_on BETWEEN :monday AND :sunday))
ORDER BY a.due, a.id"""


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def build(app) -> tuple[dict[str, int], str]:
    """Demo data and the 12-indicator board; returns the boards to measure by label, and an API token."""
    db = app.extensions["shopfloor_sessions"].open(write=True)
    load_referential(db)
    db.commit()
    with app.app_context():
        load_demo(app, db, clock.now())
    db.commit()
    admin = db.scalar(select(User).where(User.username == "admin"))
    today = clock.paris_day()
    keys = []
    for n in range(8):
        key = f"equipe.bench_{n}"
        db.add(IndicatorDefinition(key=key, label=f"Indicateur saisi {n}", letter="QCDPMS"[n % 6], unit="u",
                                   higher_is_better=n % 2 == 0, created_by_id=admin.id))
        keys.append(key)
    team_board = db.scalar(select(Board).where(Board.level == 1, Board.parent_id.is_not(None)).order_by(Board.id))
    workshop = db.get(Board, team_board.parent_id)
    board = Board(name="Banc 12 indicateurs", level=1, team_id=team_board.team_id, site_id=team_board.site_id,
                  created_on=today - timedelta(days=365),
                  rows=[BoardRow(letter="SQCDPM"[i % 6], indicator_key=k, target=5, threshold=8 if i % 2 else 2,
                                 position=i) for i, k in enumerate(keys + MODULE_KEYS)])
    db.add(board)
    db.flush()
    rng = random.Random(1)
    db.execute(insert(DailyValue), [
        {"board_id": board.id, "indicator_key": k, "day": today - timedelta(days=d), "value": rng.uniform(0, 10),
         "source": "manual" if k in keys else "snapshot", "comment": ""}
        for k in keys + MODULE_KEYS for d in range(1, 366)])
    token = create_token(db, db.scalar(select(User).where(User.username == "lucas")))
    db.commit()
    boards = {"team board, 12 indicators": board.id,
              f"workshop board ({len(workshop.rows)} rows, level 2)": workshop.id}
    db.close()
    return boards, token



def floor(app, board_id: int, runs: int) -> tuple[float, float, int]:
    """The board's own reads by hand, plus the live module values as the modules compute them."""
    sessions = app.extensions["shopfloor_sessions"]
    today = clock.paris_day()
    monday = today - timedelta(days=today.weekday())
    db = sessions.open(write=False)
    board = db.get(Board, board_id)
    params = {"b": board_id, "f": clock.month_start(today), "l": today, "t": board.team_id,
              "monday": monday, "sunday": monday + timedelta(days=6)}
    catalog = ind.catalog(db)
    live = [catalog[r.indicator_key] for r in board.rows
            if r.indicator_key in catalog and not catalog[r.indicator_key].manual]
    sql, modules = [], []
    with sessions.engine.connect() as conn:
        for _ in range(runs):
            started = time.perf_counter()
            conn.execute(text(FLOOR_VALUES), params).all()
            if board.level > 1:
                conn.execute(text(FLOOR_LOWER), params).all()
            conn.execute(text(FLOOR_ESCALATIONS), params).all()
            conn.execute(text(FLOOR_ACTIONS), params).all()
            conn.rollback()
            sql.append(time.perf_counter() - started)
            started = time.perf_counter()
            for info in live:
                services.compute(info, db, today, board)
            modules.append(time.perf_counter() - started)
    db.close()
    return statistics.median(sql), statistics.median(modules), len(live)


def measure(app, label: str, board_id: int, token: str, runs: int, counter: Statements) -> None:
    client = app.test_client()
    url = f"/api/v1/boards/{board_id}/data"
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(url, headers=headers).status_code == 200
    request, service = [], []
    sessions = app.extensions["shopfloor_sessions"]
    today = clock.paris_day()
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        request.append(time.perf_counter() - started)
        assert response.status_code == 200, response.data
        db = sessions.open(write=False)
        board = db.get(Board, board_id)
        started = time.perf_counter()
        read.board_data(db, board, today, today)
        service.append(time.perf_counter() - started)
        db.close()
    statements = counter.during(lambda: client.get(url, headers=headers))
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    sql, modules, live = floor(app, board_id, runs)
    bottom = sql + modules
    req, svc = statistics.median(request), statistics.median(service)
    print(f"  {label}")
    print(f"    GET /data          median {req * 1000:7.2f} ms  p95 {pct(request, .95) * 1000:7.2f} ms  "
          f"{len(statements)} statements ({len(writes)} writes)")
    print(f"    board_data alone   median {svc * 1000:7.2f} ms")
    print(f"    hand-written SQL   median {sql * 1000:7.2f} ms (values, teams below, escalations, actions)")
    print(f"    live module values median {modules * 1000:7.2f} ms ({live} indicators, the modules' own functions)")
    print(f"    ratio to SQL + live values: request {req / bottom:5.1f}x, service {svc / bottom:5.1f}x "
          f"(target <= 5x); the board's own part (service - live values) / SQL {(svc - modules) / sql:5.1f}x")
    if os.environ.get("BOARD_BENCH_STATEMENTS"):
        print("\n".join("      " + " ".join(s.split())[:160] for s in statements))


def run(backend: str, url: str, instance: Path, runs: int) -> None:
    print(f"{backend} (load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}):")
    app = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": url, "SECRET_KEY": "bench"})
    metadata.create_all(app.extensions["shopfloor_sessions"].engine)
    boards, token = build(app)
    counter = Statements(app.extensions["shopfloor_sessions"].engine)
    for label, board_id in boards.items():
        measure(app, label, board_id, token, runs, counter)
    app.extensions["shopfloor_sessions"].engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--db", choices=("all", "sqlite", "postgresql"), default="all")
    parser.add_argument("--quick", action="store_true", help="10 runs, for development")
    args = parser.parse_args()
    runs = 10 if args.quick else args.runs
    with tempfile.TemporaryDirectory(prefix="shopfloor-board-bench-") as tmp:
        tmp = Path(tmp)
        if args.db in ("all", "sqlite"):
            (tmp / "instance-sqlite").mkdir()
            run("sqlite", f"sqlite:///{tmp / 'bench.db'}", tmp / "instance-sqlite", runs)
        if args.db in ("all", "postgresql"):
            with postgres_database("board_bench") as url:
                (tmp / "instance-pg").mkdir()
                run("postgresql", url, tmp / "instance-pg", runs)


if __name__ == "__main__":
    main()
