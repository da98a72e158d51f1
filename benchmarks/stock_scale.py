"""Stock at the issue's scale: 5,000 items, 20,000 lots, 1,000,000 moves (+ consistent balances), on SQLite
and on a throw-away PostgreSQL server (started as tests/conftest.py does).

Prints median and p95 of each operation beside hand-written SQL doing the same work on the same rows, as
a ratio, and the SQL statements each one sends:
- FEFO allocation through the service layer (lock, candidates, pick list, lines, reservation), rolled back;
  the hand-written SQL does the same statements by hand and rolls back too (issue 19 target: <= 10x on
  SQLite, <= 2.5x on PostgreSQL);
- the same committed, and `POST /api/v1/stock/picks` through the app (token check and JSON included);
- an item's balances read (ledger.balance_rows);
- confirming and cancelling a one-line pick through the API, beside the hand-written SQL of the same work;
then every GET page of the "stock" blueprint through the test client as a logged-in tutor (--pages),
flagging any over 200 ms.

    .venv/bin/python benchmarks/stock_scale.py [--moves 1000000] [--db all|sqlite|postgresql] [--quick] [--pages]
"""
from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shopfloor import clock, create_app   # noqa: E402
from shopfloor.auth.services import UserInput, create_token, create_user   # noqa: E402
from shopfloor.models import metadata   # noqa: E402
from shopfloor.referential.services import load_referential   # noqa: E402
from modules.stock import ledger, picking, reception as receiving   # noqa: E402
from modules.stock.lookup import checked_location, item_row_and_location   # noqa: E402
from modules.stock.models import Balance, Item, Location, Lot, Move, Supplier   # noqa: E402
from benchmarks.common import Statements, percentile, postgres_database  # noqa: E402

NOW = datetime.now(timezone.utc).replace(microsecond=0)  # the clock is frozen there while measuring
ITEMS, LOTS = 5000, 20000


def timed(fn, runs):
    """Median and p95 in ms; `fn` may answer its own duration in seconds (to leave its setup out)."""
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        own = fn()
        out.append((own if isinstance(own, float) else time.perf_counter() - start) * 1000)
    return statistics.median(out), percentile(out, 0.95)


def build(app, moves_wanted: int) -> dict:
    sessions = app.extensions["shopfloor_sessions"]
    metadata.create_all(sessions.engine)
    db = sessions.open(write=True)
    load_referential(db)
    tutor = create_user(db, UserInput("tutor", "Théo Tuteur", "tutor", "clef-formateur-2026"))
    appr = create_user(db, UserInput("appr", "Alice Apprentie", "apprentice", "clef-atelier-2026", tutor="tutor",
                                     certifications=("LOG",)))
    db.add(Supplier(name="Fournisseur bench", lead_time_days=5))
    db.commit()
    user_id, rng = appr.id, random.Random(4)
    conn = db.connection()
    locations = [{"code": f"{z}-{a:02d}-{r:02d}-{lv}", "kind": "storage", "zone": z, "aisle": f"{a:02d}",
                  "rack": f"{r:02d}", "level": str(lv), "hazardous_ok": z == "H", "near_dock": z == "A" and a == 1,
                  "categories": "", "active": True}
                 for z in "ABCDH" for a in range(1, 11) for r in range(1, 11) for lv in range(1, 5)]
    locations += [{"code": c, "kind": k, "zone": c.split("-")[0], "aisle": "", "rack": "", "level": "",
                   "hazardous_ok": False, "near_dock": False, "categories": "", "active": True}
                  for c, k in (("QUAI-01", "reception"), ("QUAR-01", "quarantine"), ("L1", "line"), ("L2", "line"),
                               ("EXP-01", "shipping"), ("REBUT", "scrap"))]
    conn.execute(insert(Location), locations)
    loc_ids = dict(conn.execute(select(Location.code, Location.id)).all())
    storage_ids = [loc_ids[loc["code"]] for loc in locations if loc["kind"] == "storage"]
    line_id = loc_ids["L1"]
    conn.execute(insert(Item), [{"sku": f"ART-{i:05d}", "name": f"Article {i}", "unit": "u", "category": "composant",
                                 "strategy": ("fefo", "fifo", "lifo")[i % 3], "lot_tracked": i % 3 == 0,
                                 "shelf_life_days": 365 if i % 3 == 0 else None, "removal_margin_days": 10,
                                 "unit_cost": Decimal("3.5"), "unit_weight_kg": Decimal("0.2"), "hazardous": False,
                                 "safety_stock": Decimal(0), "reorder_mode": "fixed", "active": True}
                                for i in range(ITEMS)])
    item_ids = list(conn.scalars(select(Item.id).order_by(Item.id)))
    lots = []
    for n in range(LOTS):
        item_index = n % ITEMS
        received = NOW - timedelta(days=400 - n // ITEMS * 60 - rng.randint(0, 30))
        lots.append({"item_id": item_ids[item_index], "number": f"L{n:06d}", "received_at": received,
                     "expiry": (received + timedelta(days=rng.randint(420, 900))).date() if item_index % 3 == 0 else None})
    conn.execute(insert(Lot), lots)
    lot_rows = conn.execute(select(Lot.id, Lot.item_id)).all()
    per_lot = max(2, moves_wanted // len(lot_rows))
    balances, moves, total = [], [], 0
    for lot_id, item_id in lot_rows:
        place = rng.choice(storage_ids)
        picks = per_lot - 1
        entry = picks + rng.randint(10, 80)
        at = NOW - timedelta(days=rng.randint(30, 300))
        moves.append({"item_id": item_id, "lot_id": lot_id, "from_location_id": None, "to_location_id": place,
                      "qty": entry, "reason": "reception", "note": "", "user_id": user_id, "at": at})
        for k in range(picks):
            moves.append({"item_id": item_id, "lot_id": lot_id, "from_location_id": place, "to_location_id": line_id,
                          "qty": 1, "reason": "pick", "note": "", "user_id": user_id,
                          "at": (at + timedelta(hours=k + 1))})
        balances.append({"item_id": item_id, "lot_id": lot_id, "location_id": place, "qty": entry - picks, "reserved": 0})
        balances.append({"item_id": item_id, "lot_id": lot_id, "location_id": line_id, "qty": picks, "reserved": 0})
        if len(moves) >= 50000:
            conn.execute(insert(Move), moves)
            total += len(moves)
            moves = []
    if moves:
        conn.execute(insert(Move), moves)
        total += len(moves)
    conn.execute(insert(Balance), balances)
    db.commit()
    conn = db.connection()
    conn.exec_driver_sql("ANALYZE")
    db.commit()
    # a few real activities for the detail pages, through the services
    supplier = db.scalar(select(Supplier))
    rec = receiving.receive(db, appr, supplier=supplier, delivery_note="BL-BENCH", now=NOW,
                            lines=[receiving.LineInput(sku="ART-00001", qty=Decimal(5), location="QUAI-01"),
                                   receiving.LineInput(sku="ART-00002", qty=Decimal(2), conforming=False, reason="abîmé")])
    pick = picking.allocate(db, appr, requests=[(db.get(Item, item_ids[1]), Decimal(3))],
                            destination=db.get(Location, line_id), now=NOW)
    picking.raise_call(db, appr, line_code="L2", sku="ART-00004", qty=Decimal(2), now=NOW)
    picking.add_programme_line(db, appr, line_code="L2", sku="ART-00004", qty=Decimal(2), needed_at=NOW)
    db.commit()
    ids = {"item_id": item_ids[3], "location_id": storage_ids[7], "reception_id": rec.id, "pick_id": pick.id,
           "line_id": rec.lines[0].id, "activity_id": rec.id}
    token = create_token(db, appr)
    db.commit()
    db.close()
    return {"moves": total, "lots": len(lot_rows), "items": len(item_ids), "balances": len(balances), "ids": ids,
            "fefo_items": item_ids[0::3], "item_ids": item_ids, "line_id": line_id, "token": token,
            "user_id": user_id}


FEFO_SQL = text("""
SELECT b.id, b.qty - b.reserved AS free, l.number, l.expiry
FROM stock_balance b JOIN stock_lot l ON l.id = b.lot_id JOIN stock_location loc ON loc.id = b.location_id
WHERE b.item_id = :item AND b.qty > b.reserved AND loc.kind = 'storage' AND loc.active
  AND (l.expiry IS NULL OR l.expiry >= :limit)
ORDER BY l.expiry IS NULL, l.expiry, l.received_at, l.id, loc.code""")
BALANCES_SQL = text("""
SELECT i.sku, l.number, l.expiry, loc.code, b.qty, b.reserved
FROM stock_balance b JOIN stock_item i ON i.id = b.item_id JOIN stock_lot l ON l.id = b.lot_id
JOIN stock_location loc ON loc.id = b.location_id
WHERE b.item_id = :item AND b.qty > 0
ORDER BY l.expiry IS NULL, l.expiry, l.received_at, l.id, loc.code""")
ACTIVITY_SQL = text("""
INSERT INTO core_activity (type, author_id, performed_at, title, description, created_at, updated_at)
VALUES ('stock_pick', :user, :now, :title, '', :now, :now) RETURNING id""")
PICK_SQL = text("INSERT INTO stock_pick_list (id, destination_id, status) VALUES (:id, :destination, 'allocated')")
LINE_SQL = text("""INSERT INTO stock_pick_line (pick_list_id, rank, item_id, lot_id, location_id, qty, released)
SELECT :pick, 0, b.item_id, b.lot_id, b.location_id, :qty, false FROM stock_balance b WHERE b.id = :balance""")
RESERVE_SQL = text("UPDATE stock_balance SET reserved = reserved + :qty WHERE id = :balance AND reserved + :qty <= qty")


def sql_pick(conn, backend: str, item_id: int, user_id: int, destination_id: int, qty: int = 1) -> None:
    """The hand-written floor of one FEFO pick of `qty` from its first lot: the same statements as the service
    (lock the item, candidates, activity, pick list, line, guarded reservation), nothing else."""
    lock = " FOR UPDATE" if backend == "postgresql" else ""
    conn.execute(text(f"SELECT id, strategy, removal_margin_days FROM stock_item WHERE id = :item{lock}"),
                 {"item": item_id}).one()
    first = conn.execute(FEFO_SQL, {"item": item_id, "limit": (NOW + timedelta(days=10)).date()}).first()
    naive = NOW.replace(tzinfo=None)
    pick_id = conn.execute(ACTIVITY_SQL, {"user": user_id, "now": naive, "title": "Prélèvement"}).scalar_one()
    conn.execute(PICK_SQL, {"id": pick_id, "destination": destination_id})
    conn.execute(LINE_SQL, {"pick": pick_id, "qty": qty, "balance": first.id})
    assert conn.execute(RESERVE_SQL, {"qty": qty, "balance": first.id}).rowcount == 1


FROZEN_SQL = text("SELECT 1 FROM core_evidence WHERE activity_id = :pick AND state = 'validated'")
LINES_SQL = text("""SELECT id, item_id, lot_id, location_id, qty FROM stock_pick_line
WHERE pick_list_id = :pick AND picked_at IS NULL AND NOT released""")
TAKE_SQL = text("""UPDATE stock_balance SET qty = qty - :qty, reserved = reserved - :qty
WHERE item_id = :item AND lot_id = :lot AND location_id = :location AND reserved >= :qty""")
TARGET_SQL = text("""INSERT INTO stock_balance (item_id, lot_id, location_id, qty, reserved)
VALUES (:item, :lot, :location, :qty, 0)
ON CONFLICT (item_id, lot_id, location_id) DO UPDATE SET qty = stock_balance.qty + excluded.qty""")
MOVE_SQL = text("""INSERT INTO stock_move (item_id, lot_id, from_location_id, to_location_id, qty, reason, note,
activity_id, user_id, at) VALUES (:item, :lot, :source, :target, :qty, 'pick', '', :pick, :user, :now)""")
RELEASE_SQL = text("""UPDATE stock_balance SET reserved = CASE WHEN reserved > :qty THEN reserved - :qty ELSE 0 END
WHERE item_id = :item AND lot_id = :lot AND location_id = :location""")


def _sql_open_pick(conn, backend: str, pick_id: int):
    """Lock the pick list, check it is open and not frozen, read its waiting lines and lock their items."""
    lock = " FOR UPDATE" if backend == "postgresql" else ""
    assert conn.execute(text(f"SELECT status FROM stock_pick_list WHERE id = :pick{lock}"),
                        {"pick": pick_id}).scalar_one() == "allocated"
    assert conn.execute(FROZEN_SQL, {"pick": pick_id}).first() is None
    lines = conn.execute(LINES_SQL, {"pick": pick_id}).all()
    conn.execute(text(f"SELECT id FROM stock_item WHERE id = :item{lock}"), {"item": lines[0].item_id}).all()
    return lines


def sql_confirm(conn, backend: str, pick_id: int, user_id: int, destination_id: int) -> None:
    """The hand-written floor of confirming a one-line pick: moves, balances, lines, the pick and its calls."""
    now = NOW.replace(tzinfo=None)
    for line in _sql_open_pick(conn, backend, pick_id):
        key = {"item": line.item_id, "lot": line.lot_id, "qty": int(line.qty)}
        assert conn.execute(TAKE_SQL, {**key, "location": line.location_id}).rowcount == 1
        conn.execute(TARGET_SQL, {**key, "location": destination_id})
        conn.execute(MOVE_SQL, {**key, "source": line.location_id, "target": destination_id, "pick": pick_id,
                                "user": user_id, "now": now})
    conn.execute(text("UPDATE stock_pick_line SET picked_at = :now WHERE pick_list_id = :pick AND picked_at IS NULL"),
                 {"pick": pick_id, "now": now})
    conn.execute(text("UPDATE stock_pick_list SET status = 'confirmed', confirmed_at = :now WHERE id = :pick"),
                 {"pick": pick_id, "now": now})
    conn.execute(text("UPDATE stock_line_call SET status = 'served', served_at = :now "
                      "WHERE pick_list_id = :pick AND status = 'picking'"), {"pick": pick_id, "now": now})


def sql_cancel(conn, backend: str, pick_id: int, *_ignored) -> None:
    """The hand-written floor of cancelling a one-line pick: reservations, lines, programme, calls, the pick."""
    now = NOW.replace(tzinfo=None)
    for line in _sql_open_pick(conn, backend, pick_id):
        conn.execute(RELEASE_SQL, {"item": line.item_id, "lot": line.lot_id, "location": line.location_id,
                                   "qty": int(line.qty)})
    conn.execute(text("UPDATE stock_pick_line SET released = true WHERE pick_list_id = :pick AND picked_at IS NULL"),
                 {"pick": pick_id})
    conn.execute(text("UPDATE stock_programme_line SET pick_list_id = NULL WHERE pick_list_id = :pick"), {"pick": pick_id})
    conn.execute(text("UPDATE stock_line_call SET status = 'open', pick_list_id = NULL "
                      "WHERE pick_list_id = :pick AND status = 'picking'"), {"pick": pick_id})
    conn.execute(text("UPDATE stock_pick_list SET status = 'cancelled', cancelled_at = :now WHERE id = :pick"),
                 {"pick": pick_id, "now": now})


def service_pick(db, actor, sku: str, destination: str = "L1"):
    """What POST /api/v1/stock/picks does below HTTP: one statement finds and locks the item and finds the
    destination, then the set-based allocation."""
    item, found = item_row_and_location(db, sku, destination)
    return picking.allocate_pick(db, actor, requests=[(item, Decimal(1))],
                                 destination=checked_location(found, destination, "destination"), now=NOW)



def line(label, med, p95, smed, sp95, target="", statements=""):
    ratio = f"{med / smed:5.1f}x" if smed else "   - "
    floor = f"SQL median {smed:6.2f} ms p95 {sp95:6.2f} ms" if smed else " " * 36
    print(f"  {label:44s} median {med:7.2f} ms  p95 {p95:7.2f} ms | {floor} | ratio {ratio} {statements} {target}")


def measure(app, data, backend: str, runs: int) -> None:
    sessions = app.extensions["shopfloor_sessions"]
    engine = sessions.engine
    counter = Statements(engine)
    rng = random.Random(7)
    skus = {item_id: f"ART-{index:05d}" for index, item_id in enumerate(data["item_ids"])}
    fefo = data["fefo_items"]
    with app.app_context():
        db = sessions.open(write=True)
        appr = db.scalar(select(receiving.User).where(receiving.User.username == "appr"))
        user_id, line_id = appr.id, data["line_id"]
        db.close()

        def fefo_service(commit):
            def run():
                db = sessions.open(write=True)
                try:
                    actor = db.get(receiving.User, user_id)  # the request's token check finds it: left out
                    start = time.perf_counter()
                    service_pick(db, actor, skus[rng.choice(fefo)])
                    db.commit() if commit else db.rollback()
                    return time.perf_counter() - start
                finally:
                    db.close()
            return run

        def fefo_sql(commit):
            def run():
                with engine.connect().execution_options(write=True) as conn:
                    sql_pick(conn, backend, rng.choice(fefo), user_id, line_id)
                    conn.commit() if commit else conn.rollback()
            return run

        def balances():
            db = sessions.open(write=False)
            ledger.balance_rows(db, item_id=rng.choice(fefo))
            db.close()

        def balances_sql():
            with engine.connect() as conn:
                conn.execute(BALANCES_SQL, {"item": rng.choice(fefo)}).all()

        client = app.test_client()
        headers = {"Authorization": f"Bearer {data['token']}"}

        def post_pick():
            response = client.post("/api/v1/stock/picks", headers=headers,
                                   json={"sku": skus[rng.choice(fefo)], "qty": 1, "destination": "L1"})
            assert response.status_code == 201, response.json

        target = "(target <= 10x)" if backend == "sqlite" else "(target <= 2.5x)"
        cases = (("FEFO allocation, service, rolled back", fefo_service(False), fefo_sql(False), target),
                 ("FEFO allocation, service, committed", fefo_service(True), fefo_sql(True), target),
                 ("POST /api/v1/stock/picks (test client)", post_pick, fefo_sql(True),
                  "(target <= 4 ms on SQLite, 8 statements)"),
                 ("item balances read (ledger.balance_rows)", balances, balances_sql, ""))
        for label, service, sql, goal in cases:
            timed(service, 30)
            timed(sql, 30)
            med, p95 = timed(service, runs)
            smed, sp95 = timed(sql, runs)
            statements = f"{counter.count(service):2d} vs {counter.count(sql):2d} statements"
            line(label, med, p95, smed, sp95, goal, statements)

        def allocated() -> int:
            response = client.post("/api/v1/stock/picks", headers=headers,
                                   json={"sku": skus[rng.choice(fefo)], "qty": 1, "destination": "L1"})
            return response.json["id"]

        def then(action):
            """POST /api/v1/stock/picks/<id>/<action> on a pick allocated just before (not timed)."""
            def run():
                url = f"/api/v1/stock/picks/{allocated()}/{action}"
                start = time.perf_counter()
                seen = counter.count(lambda: client.post(url, headers=headers, json={}))
                return time.perf_counter() - start, seen
            return run

        def by_hand(floor):
            def run():
                pick_id = allocated()
                with engine.connect().execution_options(write=True) as conn:
                    start = time.perf_counter()
                    seen = counter.count(lambda: (floor(conn, backend, pick_id, user_id, line_id), conn.commit()))
                    return time.perf_counter() - start, seen
            return run

        for action, floor in (("confirm", sql_confirm), ("cancel", sql_cancel)):
            count = max(10, runs // 3)
            samples, floors = [then(action)() for _ in range(count)], [by_hand(floor)() for _ in range(count)]
            times, sql_times = [t * 1000 for t, _ in samples], [t * 1000 for t, _ in floors]
            line(f"POST /api/v1/stock/picks/<id>/{action}", statistics.median(times), percentile(times, 0.95),
                 statistics.median(sql_times), percentile(sql_times, 0.95), "",
                 f"{samples[-1][1]:2d} vs {floors[-1][1]:2d} statements")


def measure_pages(app, data, runs: int) -> None:
    client = app.test_client()
    client.post("/login", data={"username": "tutor", "password": "clef-formateur-2026"})
    ids = data["ids"]
    print(f"  GET pages of blueprint stock as a tutor ({runs} runs each):")
    slow = 0
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint.split(".")[0] != "stock" or "GET" not in rule.methods:
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = re.sub(rf"<(?:int:)?{arg}>", str(ids.get(arg, 1)), url)
        status = client.get(url).status_code
        med, p95 = timed(lambda: client.get(url), runs)
        flag = "  <-- OVER 200 ms" if p95 > 200 else ""
        slow += bool(flag)
        print(f"    {url:55s} {status}  median {med:7.1f} ms  p95 {p95:7.1f} ms{flag}")
    print(f"  pages over 200 ms (p95): {slow}")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


@contextmanager
def databases(choice: str, folder: Path):
    """(backend, URL) of an empty database on each backend asked for."""
    with ExitStack() as stack:
        found = [("sqlite", f"sqlite:///{folder / 'bench.db'}")] if choice in ("all", "sqlite") else []
        if choice in ("all", "postgresql"):
            found.append(("postgresql", stack.enter_context(postgres_database("stock_bench"))))
        yield found


def bench_app(url: str, folder: Path):
    return create_app({"INSTANCE_PATH": str(folder), "DATABASE_URL": url, "SECRET_KEY": "bench",
                       "WTF_CSRF_ENABLED": False, "TESTING": True})


def built(backend: str, url: str, folder: Path, moves: int):
    (folder / backend).mkdir(parents=True, exist_ok=True)
    app = bench_app(url, folder / backend)
    start = time.perf_counter()
    with app.app_context():
        data = build(app, moves)
    print(f"-- {backend}: {data['items']} items, {data['lots']} lots, {data['moves']} moves, {data['balances']} "
          f"balances built in {time.perf_counter() - start:.0f} s (load average {load()})")
    return app, data


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--moves", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--db", choices=("all", "sqlite", "postgresql"), default="all")
    parser.add_argument("--quick", action="store_true", help="100,000 moves and 30 runs, for development")
    parser.add_argument("--pages", action="store_true", help="also time every GET page of the stock blueprint")
    args = parser.parse_args()
    moves, runs = (100_000, 30) if args.quick else (args.moves, args.runs)
    folder = Path(tempfile.mkdtemp(prefix="stock-bench-"))
    with databases(args.db, folder) as found:
        for backend, url in found:
            app, data = built(backend, url, folder, moves)
            with clock.frozen(NOW):
                measure(app, data, backend, runs)
                if args.pages:
                    measure_pages(app, data, max(5, runs // 10))
            print(f"   (load average after: {load()})")
            app.extensions["shopfloor_sessions"].engine.dispose()


if __name__ == "__main__":
    main()
