"""Load of the AIC boards (issue: AIC boards).

1. /data server time for a board of 12 indicators with a year of daily values behind it (SQLite),
   median and p95 over 50 requests through the app, beside one hand-written SQL query reading the
   same month of values.
2. The suite served by waitress on loopback with the demo data: 50 screens polling every 30 s and
   30 users working (board pages, /data, entries) for --seconds (default 120); prints the error count
   and p50/p95 response times.

    .venv/bin/python benchmarks/aic_load.py [--seconds 120]
"""
from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboards import screens  # noqa: E402
from dashboards.models import Board, BoardRow, DailyValue, IndicatorDefinition  # noqa: E402
from shopfloor import create_app  # noqa: E402
from shopfloor.auth.models import User  # noqa: E402
from shopfloor.auth.services import create_token  # noqa: E402
from shopfloor import clock
from shopfloor.demo import load_demo  # noqa: E402
from shopfloor.referential.services import load_referential  # noqa: E402


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def build(app) -> tuple[int, str, list[str]]:
    """Demo data, plus a 12-indicator board with a year of values; returns (board id, screen token, api tokens)."""
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
    module_keys = ["improvement.late_actions", "stock.stockouts", "stock.inventory_accuracy", "aic.safety"]
    team_board = db.scalar(select(Board).where(Board.name == "Logistique – AIC équipe"))
    board = Board(name="Banc 12 indicateurs", level=1, team_id=team_board.team_id, site_id=team_board.site_id,
                  created_on=today - timedelta(days=365),
                  rows=[BoardRow(letter="SQCDPM"[i % 6], indicator_key=k, target=5, threshold=8 if i % 2 else 2,
                                 position=i) for i, k in enumerate(keys + module_keys)])
    db.add(board)
    db.flush()
    rng = random.Random(1)
    rows = [{"board_id": board.id, "indicator_key": k, "day": today - timedelta(days=d), "value": rng.uniform(0, 10),
             "source": "manual" if k in keys or k == "aic.safety" else "snapshot", "comment": ""}
            for k in keys + module_keys for d in range(1, 366)]
    db.execute(insert(DailyValue), rows)
    screen, token = screens.create_screen(db, admin, name="Banc", board_ids=[board.id, team_board.id])
    lucas = db.scalar(select(User).where(User.username == "lucas"))
    api_tokens = [create_token(db, lucas) for _ in range(30)]
    db.commit()
    db.close()
    return board.id, token, api_tokens


def data_timing(app, board_id: int, token: str) -> None:
    client = app.test_client()
    url = f"/api/v1/boards/{board_id}/data"
    headers = {"Authorization": f"Bearer {token}"}
    client.get(url, headers=headers)   # first read may keep missing snapshots; measure steady state
    times = []
    for _ in range(50):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.data
    engine = app.extensions["shopfloor_sessions"].engine
    today = clock.paris_day()
    sql = text("SELECT indicator_key, day, value FROM aic_value WHERE board_id = :b AND day BETWEEN :f AND :l")
    raw = []
    with engine.connect() as conn:
        for _ in range(50):
            start = time.perf_counter()
            conn.execute(sql, {"b": board_id, "f": today.replace(day=1), "l": today}).all()
            raw.append((time.perf_counter() - start) * 1000)
    print(f"/data, 12 indicators, a year of values: median {statistics.median(times):.1f} ms, "
          f"p95 {pct(times, .95):.1f} ms (target < 150 ms)")
    print(f"  one SQL query for the month's values: median {statistics.median(raw):.2f} ms "
          f"(ratio {statistics.median(times) / statistics.median(raw):.0f}×: the rest is live module "
          f"indicators, actions, escalations and JSON)")


class Load:
    def __init__(self, port: int, seconds: float):
        self.port, self.deadline = port, time.monotonic() + seconds
        self.times: list[float] = []
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def request(self, conn: http.client.HTTPConnection, method: str, path: str, body=None, headers=None):
        start = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            response.read()
            ok = response.status < 400
            detail = f"{method} {path} → {response.status}"
        except Exception as exc:  # a refused or dropped connection is an error of the run
            ok, detail = False, f"{method} {path} → {type(exc).__name__}"
            conn.close()
        with self.lock:
            self.times.append((time.perf_counter() - start) * 1000)
            if not ok:
                self.errors.append(detail)

    def screen(self, token: str, offset: float) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        time.sleep(offset)
        while time.monotonic() < self.deadline:
            self.request(conn, "GET", f"/screen/{token}/data")
            time.sleep(30)

    def user(self, api_token: str, board_ids: list[int], seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Authorization": f"Bearer {api_token}"}
        today = clock.paris_day().isoformat()
        while time.monotonic() < self.deadline:
            board_id = rng.choice(board_ids)
            action = rng.random()
            if action < 0.6:
                self.request(conn, "GET", f"/api/v1/boards/{board_id}/data", headers=headers)
            elif action < 0.8:
                self.request(conn, "GET", "/api/v1/boards", headers=headers)
            else:
                body = json.dumps({"indicator": "equipe.bench_0", "date": today, "value": rng.randint(0, 10)})
                self.request(conn, "POST", f"/api/v1/boards/{board_ids[0]}/entries", body=body,
                             headers=headers | {"Content-Type": "application/json"})
            time.sleep(rng.uniform(1, 3))    # a person reads before the next click


def run_load(app, token: str, api_tokens: list[str], board_ids: list[int], seconds: float) -> None:
    from waitress.server import create_server
    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    port = server.effective_port
    threading.Thread(target=server.run, daemon=True).start()
    load = Load(port, seconds)
    threads = [threading.Thread(target=load.screen, args=(token, i * 30 / 50)) for i in range(50)]
    threads += [threading.Thread(target=load.user, args=(api_tokens[i], board_ids, i)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    server.close()
    print(f"load: 50 screens every 30 s + 30 users for {seconds:.0f} s: {len(load.times)} requests, "
          f"{len(load.errors)} errors, p50 {pct(load.times, .5):.1f} ms, p95 {pct(load.times, .95):.1f} ms "
          f"(target: no error, p95 < 300 ms)")
    for error in load.errors[:5]:
        print("  ", error)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=120)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        app = create_app({"INSTANCE_PATH": tmp, "DATABASE_URL": url, "SECRET_KEY": "bench"})
        from shopfloor.models import metadata
        metadata.create_all(app.extensions["shopfloor_sessions"].engine)
        board_id, token, api_tokens = build(app)
        data_timing(app, board_id, api_tokens[0])
        board_ids = [board_id] + [b for b in range(1, 5)]
        run_load(app, token, api_tokens, board_ids, args.seconds)


if __name__ == "__main__":
    main()
