"""Allocation by strategy, splits, exclusions, shortage, confirm by scan, cancel — services and API."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from modules.stock import picking
from modules.stock.lookup import item_by_sku, location_by_code
from modules.stock.models import Balance, Lot, LotFlag, Move, PickList
from shopfloor.errors import Conflict, ValidationError
from tests.conftest import fresh


def _pick(client, people, user=None, **payload):
    return client.post("/api/v1/stock/picks", json=payload, headers=people.headers(user or people.apprentice))


def _reserved(db, sku):
    fresh(db)
    item = item_by_sku(db, sku)
    return db.scalar(select(func.coalesce(func.sum(Balance.reserved), 0)).where(Balance.item_id == item.id))


def test_fefo_earliest_expiry_then_received_then_lot_id_and_no_expiry_last(client, db, people, store, now):
    store.receive("COL-100", 4, lot="L-LATE", expiry=store.day(200), location="A-01-01-1", when=now - timedelta(days=30))
    store.receive("COL-100", 3, lot="L-SOON-B", expiry=store.day(60), location="B-02-01-1", when=now - timedelta(days=5))
    store.receive("COL-100", 2, lot="L-SOON-A", expiry=store.day(60), location="A-01-02-1", when=now - timedelta(days=9))
    response = _pick(client, people, sku="COL-100", qty=8, destination="L1")
    assert response.status_code == 201, response.json
    lines = [(line["lot"], line["location"], line["qty"]) for line in response.json["lines"]]
    # same expiry: the earlier received first; the split ends on the late lot
    assert lines == [("L-SOON-A", "A-01-02-1", 2), ("L-SOON-B", "B-02-01-1", 3), ("L-LATE", "A-01-01-1", 3)]
    # the round follows the addresses
    assert [line["location"] for line in response.json["round"]] == ["A-01-01-1", "A-01-02-1", "B-02-01-1"]
    assert _reserved(db, "COL-100") == 8


def test_fefo_lot_without_expiry_comes_after_dated_lots_and_equal_dates_fall_to_lot_id(db, people, store, now):
    item = store.screw  # not lot tracked: fefo set below, lots without expiry allowed
    item.strategy = "fefo"
    db.commit()
    # FEFO items need an expiry at reception: arrange the undated lot directly through the ledger
    from modules.stock import ledger
    undated = Lot(item_id=item.id, number="SANS-DATE", expiry=None, received_at=now - timedelta(days=90))
    first = Lot(item_id=item.id, number="X1", expiry=store.day(30), received_at=now - timedelta(days=3))
    second = Lot(item_id=item.id, number="X2", expiry=store.day(30), received_at=now - timedelta(days=3))
    db.add_all([undated, first, second])
    db.flush()
    location = location_by_code(db, "A-01-02-1")
    for lot in (undated, second, first):
        ledger.move(db, item=item, lot=lot, qty=Decimal(5), source=None, target=location, reason="adjustment",
                    user=people.admin, at=now)
    db.commit()
    pick = picking.allocate(db, people.apprentice, requests=[(item, Decimal(12))],
                            destination=location_by_code(db, "L1"), now=now)
    assert [(line.lot.number, line.qty) for line in pick.lines] == [("X1", 5), ("X2", 5), ("SANS-DATE", 2)]


def test_fifo_and_lifo_orders(client, db, people, store, now):
    for days, location in ((20, "A-01-02-1"), (10, "B-02-01-1"), (2, "A-01-01-1")):
        store.receive("VIS-M8", 10, location=location, when=now - timedelta(days=days))
        store.receive("CART-40", 10, location=location, when=now - timedelta(days=days))
    fifo = _pick(client, people, sku="VIS-M8", qty=15, destination="L1").json
    assert [(line["location"], line["qty"]) for line in fifo["lines"]] == [("A-01-02-1", 10), ("B-02-01-1", 5)]
    lifo = _pick(client, people, sku="CART-40", qty=15, destination="L1").json
    assert [(line["location"], line["qty"]) for line in lifo["lines"]] == [("A-01-01-1", 10), ("B-02-01-1", 5)]


def test_expired_short_shelf_life_quarantine_and_reserved_stock_are_never_picked(client, db, people, store, now):
    store.receive("COL-100", 5, lot="OK", expiry=store.day(100), location="B-02-01-1")
    store.receive("COL-100", 5, lot="DAMAGED", expiry=store.day(20), conforming=False, reason="Pot fendu")
    item = item_by_sku(db, "COL-100")
    from modules.stock import ledger
    for number, expiry in (("MARGIN", store.day(5)), ("EXPIRED", store.day(-1))):
        lot = Lot(item_id=item.id, number=number, expiry=expiry, received_at=now - timedelta(days=100))
        db.add(lot)
        db.flush()
        ledger.move(db, item=item, lot=lot, qty=Decimal(5), source=None, target=location_by_code(db, "A-01-01-1"),
                    reason="adjustment", user=people.admin, at=now)
    db.commit()
    first = _pick(client, people, sku="COL-100", qty=3, destination="L1")
    assert first.status_code == 201
    assert [line["lot"] for line in first.json["lines"]] == ["OK"]
    assert {f["lot"] for f in first.json["flagged"]} == {"MARGIN", "EXPIRED"}
    fresh(db)
    flagged = {flag.lot.number: flag.reason for flag in db.scalars(select(LotFlag).where(LotFlag.kind == "disposal"))}
    assert set(flagged) == {"MARGIN", "EXPIRED"} and "périmé" in flagged["EXPIRED"]
    # 2 free left on lot OK: quarantine, expired, margin and reserved stock do not count
    second = _pick(client, people, sku="COL-100", qty=3, destination="L1")
    assert second.status_code == 409
    message = second.json["error"]["message"]
    assert "COL-100" in message and "2 disponible" in message and "rien n'a été réservé" in message
    assert _reserved(db, "COL-100") == 3


def test_shortage_on_one_item_reserves_nothing_for_the_others(db, people, store, now):
    store.receive("VIS-M8", 10)
    store.receive("CART-40", 1)
    with pytest.raises(Conflict) as error:
        picking.allocate(db, people.apprentice, requests=[(store.screw, Decimal(5)), (store.box, Decimal(2))],
                         destination=location_by_code(db, "L1"), now=now)
    assert "CART-40" in error.value.message and "1 disponible" in error.value.message
    db.rollback()
    assert _reserved(db, "VIS-M8") == 0 and db.scalar(select(func.count()).select_from(PickList)) == 0


def test_destination_must_be_line_side_and_bad_input_is_422(client, people, store):
    store.receive("VIS-M8", 10)
    assert _pick(client, people, sku="VIS-M8", qty=1, destination="A-01-01-1").json["error"]["field"] == "destination"
    assert _pick(client, people, sku="NOPE", qty=1, destination="L1").json["error"]["field"] == "sku"
    response = _pick(client, people, sku="VIS-M8", qty=-2, destination="L1")
    assert response.status_code == 422 and response.json["error"]["field"] == "qty"
    assert _pick(client, people, sku="VIS-M8", qty="abc", destination="L1").status_code == 422


def test_confirm_by_scan_moves_to_the_line_and_wrong_scans_are_refused(client, db, people, store, now):
    store.receive("COL-100", 4, lot="G1", expiry=store.day(50), location="B-02-01-1")
    store.receive("COL-100", 4, lot="G2", expiry=store.day(90), location="A-01-02-1")
    pick_id = _pick(client, people, sku="COL-100", qty=6, destination="L2").json["id"]
    url, headers = f"/api/v1/stock/picks/{pick_id}/confirm", people.headers(people.apprentice)
    wrong_place = client.post(url, json={"location": "A-01-01-1", "code": "G1"}, headers=headers)
    assert wrong_place.status_code == 422 and wrong_place.json["error"]["field"] == "location"
    wrong_lot = client.post(url, json={"location": "B-02-01-1", "code": "G2"}, headers=headers)
    assert wrong_lot.status_code == 422 and wrong_lot.json["error"]["field"] == "code"
    # lot-tracked: the reference alone is not enough
    assert client.post(url, json={"location": "B-02-01-1", "code": "COL-100"}, headers=headers).status_code == 422
    one = client.post(url, json={"location": "b-02-01-1", "code": "g1"}, headers=headers)
    assert one.status_code == 200 and one.json["status"] == "allocated"
    done = client.post(url, json={"location": "A-01-02-1", "code": "G2"}, headers=headers)
    assert done.json["status"] == "confirmed"
    fresh(db)
    rows = {(r["lot"], r["location"]): (r["qty"], r["reserved"]) for r in
            client.get("/api/v1/stock/balances?sku=COL-100", headers=headers).json}
    assert rows == {("G1", "L2"): (4, 0), ("G2", "L2"): (2, 0), ("G2", "A-01-02-1"): (2, 0)}
    assert client.post(f"/api/v1/stock/picks/{pick_id}/cancel", headers=headers).status_code == 409
    assert db.scalar(select(func.count()).select_from(Move).where(Move.reason == "pick")) == 2


def test_cancel_releases_and_untracked_item_confirms_with_its_reference(client, db, people, store):
    store.receive("VIS-M8", 10)
    headers = people.headers(people.apprentice)
    pick_id = _pick(client, people, sku="VIS-M8", qty=4, destination="L1").json["id"]
    assert _reserved(db, "VIS-M8") == 4
    assert client.post(f"/api/v1/stock/picks/{pick_id}/cancel", headers=headers).json["status"] == "cancelled"
    assert _reserved(db, "VIS-M8") == 0
    assert client.post(f"/api/v1/stock/picks/{pick_id}/confirm", headers=headers).status_code == 409
    other = _pick(client, people, sku="VIS-M8", qty=4, destination="L1").json["id"]
    scan = client.post(f"/api/v1/stock/picks/{other}/confirm", json={"location": "A-01-02-1", "code": "VIS-M8"},
                       headers=headers)
    assert scan.json["status"] == "confirmed"


def test_who_may_confirm_or_cancel(client, people, store):
    store.receive("VIS-M8", 10)
    pick_id = _pick(client, people, sku="VIS-M8", qty=1, destination="L1").json["id"]
    url = f"/api/v1/stock/picks/{pick_id}/cancel"
    assert client.post(url, headers=people.headers(people.other_apprentice)).status_code == 404
    assert client.post(url, headers=people.headers(people.other_tutor)).status_code == 404
    assert client.get(f"/api/v1/stock/picks/{pick_id}", headers=people.headers(people.other_apprentice)).status_code == 404
    assert client.post(url, headers=people.headers(people.tutor)).status_code == 200


def test_programme_and_line_calls_are_served_by_picks(db, people, store, now):
    store.receive("VIS-M8", 100)
    store.receive("CART-40", 20)
    first = picking.add_programme_line(db, people.apprentice, line_code="L1", sku="VIS-M8", qty=Decimal(30),
                                       needed_at=now + timedelta(hours=4))
    second = picking.add_programme_line(db, people.apprentice, line_code="L1", sku="CART-40", qty=Decimal(5),
                                        needed_at=now + timedelta(hours=2))
    elsewhere = picking.add_programme_line(db, people.apprentice, line_code="L2", sku="CART-40", qty=Decimal(5),
                                           needed_at=now + timedelta(hours=2))
    with pytest.raises(ValidationError):
        picking.pick_programme(db, people.apprentice, [first.id, elsewhere.id], now)
    pick = picking.pick_programme(db, people.apprentice, [first.id, second.id], now)
    assert pick.needed_at == now + timedelta(hours=2) and {line.item.sku for line in pick.lines} == {"VIS-M8", "CART-40"}
    with pytest.raises(Conflict):
        picking.pick_programme(db, people.apprentice, [first.id], now)
    call = picking.raise_call(db, people.apprentice, line_code="L2", sku="VIS-M8", qty=Decimal(10), now=now)
    assert [c.id for c in picking.call_queue(db)] == [call.id]
    served_by = picking.serve_call(db, people.apprentice, call.id, now + timedelta(minutes=5))
    assert call.status == "picking"
    picking.confirm_all(db, people.apprentice, served_by, now + timedelta(minutes=12))
    assert call.status == "served" and call.served_at == now + timedelta(minutes=12)
    picking.cancel(db, people.apprentice, pick, now)
    assert first.pick_list_id is None  # the need can be picked again
