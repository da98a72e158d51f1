"""Stock at the issue's scale: 5,000 items, 20,000 lots, 1,000,000 moves (+ consistent balances) on SQLite.

Prints median and p95 of a FEFO allocation (service call, rolled back) and of an item's balances read,
each beside one hand-written SQL query doing the same (ratio), then every GET page of the "stock"
blueprint through the test client as a logged-in tutor, flagging any over 200 ms.

    python benchmarks/stock_scale.py [--moves 1000000]
"""
from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, insert, select, text

from shopfloor import create_app
from shopfloor.auth.services import UserInput, create_user
from shopfloor.models import metadata
from shopfloor.referential.services import load_referential
from modules.stock import ledger, picking, reception as receiving
from modules.stock.models import Balance, Item, Location, Lot, Move, Supplier

NOW = datetime.now(timezone.utc).replace(microsecond=0)
ITEMS, LOTS = 5000, 20000


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def timed(fn, runs):
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
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
    db.close()
    return {"moves": total, "lots": len(lot_rows), "items": len(item_ids), "balances": len(balances), "ids": ids,
            "fefo_items": item_ids[0::3]}


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


def measure_services(app, data, runs: int) -> None:
    sessions = app.extensions["shopfloor_sessions"]
    rng = random.Random(7)
    with app.app_context():
        db = sessions.open(write=True)
        appr = db.scalar(select(receiving.User).where(receiving.User.username == "appr"))
        line = db.scalar(select(Location).where(Location.code == "L1"))

        def fefo():
            item = db.get(Item, rng.choice(data["fefo_items"]))
            try:
                picking.allocate(db, appr, requests=[(item, Decimal(1))], destination=line, now=NOW)
            finally:
                db.rollback()

        def fefo_sql():
            db.execute(FEFO_SQL, {"item": rng.choice(data["fefo_items"]), "limit": NOW.date()}).all()
            db.rollback()

        def balances():
            ledger.balance_rows(db, item_id=rng.choice(data["fefo_items"]))
            db.rollback()

        def balances_sql():
            db.execute(BALANCES_SQL, {"item": rng.choice(data["fefo_items"])}).all()
            db.rollback()

        for label, service, sql, target in (("FEFO allocation (service, rolled back)", fefo, fefo_sql, 20),
                                            ("item balances read (ledger.balance_rows)", balances, balances_sql, 10)):
            timed(service, 20)
            med, p95 = timed(service, runs)
            smed, sp95 = timed(sql, runs)
            flag = "OK" if med < target else f"OVER TARGET ({target} ms)"
            print(f"{label:45s} median {med:7.2f} ms  p95 {p95:7.2f} ms | one SQL query median {smed:6.2f} ms "
                  f"p95 {sp95:6.2f} ms | ratio {med / smed:5.1f}x  [{flag}, target < {target} ms]")
        db.close()


def measure_pages(app, data, runs: int) -> None:
    client = app.test_client()
    client.post("/login", data={"username": "tutor", "password": "clef-formateur-2026"})
    ids = data["ids"]
    print(f"\nGET pages of blueprint stock as a tutor ({runs} runs each):")
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
        print(f"  {url:55s} {status}  median {med:7.1f} ms  p95 {p95:7.1f} ms{flag}")
    print(f"pages over 200 ms (p95): {slow}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--moves", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="stock-bench-"))
    app = create_app({"INSTANCE_PATH": str(folder), "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
                      "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False, "TESTING": True})
    start = time.perf_counter()
    with app.app_context():
        data = build(app, args.moves)
    print(f"dataset: {data['items']} items, {data['lots']} lots, {data['moves']} moves, {data['balances']} balances "
          f"built in {time.perf_counter() - start:.0f} s ({folder})")
    measure_services(app, data, args.runs)
    measure_pages(app, data, max(5, args.runs // 10))


if __name__ == "__main__":
    main()
