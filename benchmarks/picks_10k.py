"""10,000 picks in a row (issue 19), on SQLite and on a throw-away PostgreSQL server (started as
tests/conftest.py does), on the stock_scale.py dataset (the cost does not grow with the data: 200,000 moves by
default, --moves 1000000 for the issue's scale).

Prints, for each database:
- 10,000 FEFO picks through the service layer (what POST /api/v1/stock/picks runs below HTTP), each committed,
  beside the hand-written SQL doing the same statements (stock_scale.sql_pick), as a ratio;
- 10,000 `POST /api/v1/stock/picks` through HTTP on a real server (werkzeug's make_server, threaded, in its
  own process; --server waitress or both: waitress, in the venv, 4 threads) with 1 client, then 4 clients
  (threads with keep-alive connections): picks/s, median and p95.
Targets (issue 19, printed, never asserted): 10,000 picks <= 10 s on SQLite, <= 30 s on PostgreSQL; one client
<= 4 ms a pick on SQLite; 4 clients >= 250 picks/s and p95 <= 50 ms on both.

    .venv/bin/python benchmarks/picks_10k.py [--picks 10000] [--moves 200000] [--db all|sqlite|postgresql] [--quick]
"""
from __future__ import annotations

import argparse
import http.client
import json
import logging
import multiprocessing
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import stock_scale as scale  # noqa: E402

from shopfloor import clock  # noqa: E402
from shopfloor.auth.models import User  # noqa: E402


def p95(values):
    return scale.percentile(values, 0.95) * 1000


def report(label: str, picks: int, elapsed: float, latencies, target: str = "", floor: float | None = None):
    ratio = f" | ratio {elapsed / floor:5.1f}x the SQL" if floor else ""
    print(f"  {label:46s} {picks} picks in {elapsed:6.2f} s = {picks / elapsed:7.0f} picks/s  "
          f"median {statistics.median(latencies) * 1000:6.2f} ms  p95 {p95(latencies):6.2f} ms{ratio}  {target}")


def fefo_skus(data) -> list[str]:
    index = {item_id: n for n, item_id in enumerate(data["item_ids"])}
    return [f"ART-{index[item_id]:05d}" for item_id in data["fefo_items"]]


def service_picks(app, data, picks: int) -> tuple[float, list[float]]:
    """One worker's session, one transaction a pick, as a request would."""
    sessions = app.extensions["shopfloor_sessions"]
    skus, latencies = fefo_skus(data), []
    db = sessions.open(write=True)
    actor = db.get(User, data["user_id"])
    db.commit()
    started = time.perf_counter()
    for n in range(picks):
        begin = time.perf_counter()
        scale.service_pick(db, actor, skus[n % len(skus)])
        db.commit()
        latencies.append(time.perf_counter() - begin)
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed, latencies


def sql_picks(app, data, backend: str, picks: int) -> tuple[float, list[float]]:
    engine = app.extensions["shopfloor_sessions"].engine
    items, latencies = data["fefo_items"], []
    with engine.connect().execution_options(write=True) as conn:
        started = time.perf_counter()
        for n in range(picks):
            begin = time.perf_counter()
            scale.sql_pick(conn, backend, items[n % len(items)], data["user_id"], data["line_id"])
            conn.commit()
            latencies.append(time.perf_counter() - begin)
        elapsed = time.perf_counter() - started
    return elapsed, latencies


# -- A real server -----------------------------------------------------------------------------

def serve(url: str, folder: str, ports, kind: str) -> None:
    """The app on a threaded server on a free loopback port, in a process of its own: werkzeug's
    make_server, or waitress (in the venv) with 4 threads."""
    app = scale.bench_app(url, Path(folder))
    if kind == "waitress":
        from waitress.server import create_server
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth is 1" per request
        server = create_server(app, host="127.0.0.1", port=0, threads=4)
        ports.put(server.effective_port)
        server.run()
        return
    from werkzeug.serving import WSGIRequestHandler, make_server

    class KeepAlive(WSGIRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_request(self, *args, **kwargs):
            pass

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=KeepAlive)
    ports.put(server.server_port)
    server.serve_forever()


class Server:
    def __init__(self, url: str, folder: Path, kind: str):
        context = multiprocessing.get_context("spawn")
        ports = context.Queue()
        self.process = context.Process(target=serve, args=(url, str(folder), ports, kind), daemon=True)
        self.process.start()
        self.port = ports.get(timeout=120)

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(30)


def http_picks(port: int, token: str, skus: list[str], picks: int, clients: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    failures: list[str] = []
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def client(offset: int):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        for n in range(offset, picks, clients):
            body = json.dumps({"sku": skus[n % len(skus)], "qty": 1, "destination": "L1"})
            begin = time.perf_counter()
            conn.request("POST", "/api/v1/stock/picks", body=body, headers=headers)
            response = conn.getresponse()
            answer = response.read()
            mine.append(time.perf_counter() - begin)
            if response.status != 201:
                failures.append(f"{response.status} {answer[:200]!r}")
        conn.close()
        latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(offset,)) for offset in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        print(f"  !! {len(failures)} failed picks, first: {failures[0]}")
    return elapsed, latencies


def run(backend: str, url: str, folder: Path, moves: int, picks: int, servers: tuple[str, ...]) -> None:
    app, data = scale.built(backend, url, folder, moves)
    target = "(target <= 10 s)" if backend == "sqlite" else "(target <= 30 s)"
    with clock.frozen(scale.NOW), app.app_context():
        sql_elapsed, sql_latencies = sql_picks(app, data, backend, picks)
        elapsed, latencies = service_picks(app, data, picks)
    report("hand-written SQL, same statements, committed", picks, sql_elapsed, sql_latencies)
    report("service layer (lookups + allocate_pick), committed", picks, elapsed, latencies, target, sql_elapsed)
    app.extensions["shopfloor_sessions"].engine.dispose()
    for kind in servers:
        server = Server(url, folder / backend, kind)
        try:
            skus = fefo_skus(data)
            http_picks(server.port, data["token"], skus, 50, 1)  # warm up
            for clients, goal in ((1, "(target <= 4 ms a pick on SQLite)" if backend == "sqlite" else ""),
                                  (4, "(target >= 250 picks/s, p95 <= 50 ms)")):
                elapsed, latencies = http_picks(server.port, data["token"], skus, picks, clients)
                report(f"HTTP POST /picks, {kind}, {clients} client(s)", len(latencies), elapsed, latencies, goal)
        finally:
            server.stop()
    print(f"   (load average after: {scale.load()})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--picks", type=int, default=10_000)
    parser.add_argument("--moves", type=int, default=200_000)
    parser.add_argument("--db", choices=("all", "sqlite", "postgresql"), default="all")
    parser.add_argument("--quick", action="store_true", help="1,000 picks on 50,000 moves, for development")
    parser.add_argument("--server", choices=("werkzeug", "waitress", "both"), default="werkzeug")
    args = parser.parse_args()
    picks, moves = (1000, 50_000) if args.quick else (args.picks, args.moves)
    folder = Path(scale.tempfile.mkdtemp(prefix="picks-bench-"))
    print(f"{picks} picks a run (load average {scale.load()}, {os.cpu_count()} cores)")
    with scale.databases(args.db, folder) as found:
        for backend, url in found:
            run(backend, url, folder, moves, picks,
                ("werkzeug", "waitress") if args.server == "both" else (args.server,))


if __name__ == "__main__":
    main()
