"""Ledger invariants: never negative, balances = sum of moves (property test), concurrent picks."""
from __future__ import annotations

import threading
import time
from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from modules.stock import ledger, picking, reception as receiving
from modules.stock.lookup import location_by_code
from modules.stock.models import Balance, Move, PickLine, PickList
from shopfloor.errors import DomainError
from tests.conftest import fresh

STORAGE = ("A-01-01-1", "A-01-02-1", "B-02-01-1")

operations = st.lists(st.one_of(
    st.tuples(st.just("receive"), st.integers(1, 20), st.sampled_from(STORAGE)),
    st.tuples(st.just("pick"), st.integers(1, 30), st.just(None)),
    st.tuples(st.just("confirm"), st.integers(0, 5), st.just(None)),
    st.tuples(st.just("cancel"), st.integers(0, 5), st.just(None)),
    st.tuples(st.just("adjust_in"), st.integers(1, 10), st.sampled_from(STORAGE)),
    st.tuples(st.just("adjust_out"), st.integers(1, 10), st.sampled_from(STORAGE)),
    st.tuples(st.just("transfer"), st.integers(1, 15), st.sampled_from(STORAGE)),
), min_size=1, max_size=14)


def _apply(db, store, people, now, op, amount, code):
    item = store.screw
    if op == "receive":
        supplier = store.db.scalar(select(receiving.Supplier))
        receiving.receive(db, people.apprentice, supplier=supplier, delivery_note="BL-P", now=now,
                          lines=[receiving.LineInput(sku=item.sku, qty=Decimal(amount), location=code)])
    elif op == "pick":
        picking.allocate(db, people.apprentice, requests=[(item, Decimal(amount))],
                         destination=location_by_code(db, "L1"), now=now)
    elif op in ("confirm", "cancel"):
        open_picks = list(db.scalars(select(PickList).where(PickList.status == "allocated").order_by(PickList.id)))
        if open_picks:
            pick = open_picks[amount % len(open_picks)]
            (picking.confirm_all if op == "confirm" else picking.cancel)(db, people.apprentice, pick, now)
    else:
        ledger.lock_item(db, item.id)
        location = location_by_code(db, code)
        lots = list(db.scalars(select(receiving.Lot).where(receiving.Lot.item_id == item.id)))
        if not lots:
            return
        lot = lots[amount % len(lots)]
        other = location_by_code(db, STORAGE[(STORAGE.index(code) + 1) % len(STORAGE)])
        source, target = {"adjust_in": (None, location), "adjust_out": (location, None),
                          "transfer": (location, other)}[op]
        ledger.move(db, item=item, lot=lot, qty=Decimal(amount), source=source, target=target,
                    reason="adjustment" if op != "transfer" else "transfer", user=people.admin, at=now)


def _check_invariants(db, item_id):
    db.flush()
    expected = defaultdict(Decimal)
    for move in db.scalars(select(Move).where(Move.item_id == item_id)):
        if move.from_location_id:
            expected[(move.lot_id, move.from_location_id)] -= move.qty
        if move.to_location_id:
            expected[(move.lot_id, move.to_location_id)] += move.qty
    reserved = defaultdict(Decimal)
    for line in db.scalars(select(PickLine).join(PickList).where(PickList.status == "allocated",
                                                                 PickLine.picked_at.is_(None))):
        reserved[(line.lot_id, line.location_id)] += line.qty
    rows = list(db.scalars(select(Balance).where(Balance.item_id == item_id).execution_options(populate_existing=True)))
    for row in rows:
        key = (row.lot_id, row.location_id)
        assert row.qty == expected.pop(key, Decimal(0)), key
        assert row.reserved == reserved.pop(key, Decimal(0)), key
        assert 0 <= row.reserved <= row.qty
    assert all(value == 0 for value in expected.values()) and not reserved


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_balances_always_equal_the_sum_of_moves(db, people, store, now, ops):
    try:
        for op, amount, code in ops:
            savepoint = db.begin_nested()
            try:
                _apply(db, store, people, now, op, amount, code)
                savepoint.commit()
            except DomainError:
                savepoint.rollback()
            _check_invariants(db, store.screw.id)
    finally:
        db.rollback()


def test_a_balance_never_goes_negative_even_bypassing_the_ledger_checks(db, people, store, now):
    store.receive("VIS-M8", 3)
    row = db.scalar(select(Balance).where(Balance.qty > 0))
    row.qty = Decimal(-1)
    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()
    row = db.scalar(select(Balance).where(Balance.qty > 0))
    row.reserved = row.qty + 1
    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()


def test_ledger_refuses_taking_more_than_free_stock(db, people, store, now):
    store.receive("VIS-M8", 3)
    picking.allocate(db, people.apprentice, requests=[(store.screw, Decimal(2))], destination=location_by_code(db, "L1"),
                     now=now)
    lot = db.scalar(select(receiving.Lot))
    with pytest.raises(DomainError) as error:
        ledger.move(db, item=store.screw, lot=lot, qty=Decimal(2), source=location_by_code(db, "A-01-02-1"),
                    target=None, reason="consumption", user=people.admin, at=now)
    assert error.value.status == 409 and "1 disponible" in error.value.message


def test_two_concurrent_picks_asking_more_than_there_is(app, db, people, store, monkeypatch):
    """Each thread is its own request with its own session; the slow read widens the race window."""
    store.receive("VIS-M8", 10)
    headers = [people.headers(people.apprentice), people.headers(people.other_apprentice)]
    real_candidates = picking.candidates

    def slow_candidates(*args, **kwargs):
        found = real_candidates(*args, **kwargs)
        time.sleep(0.3)  # both pickers have read the stock before either writes, unless the item is locked
        return found

    monkeypatch.setattr(picking, "candidates", slow_candidates)
    barrier, results = threading.Barrier(2), [None, None]

    def pick(index):
        client = app.test_client()
        barrier.wait()
        results[index] = client.post("/api/v1/stock/picks", json={"sku": "VIS-M8", "qty": 6, "destination": "L1"},
                                     headers=headers[index])

    threads = [threading.Thread(target=pick, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201, 409], [r.json for r in results]
    refused = next(r for r in results if r.status_code == 409)
    assert "4 disponible" in refused.json["error"]["message"]
    fresh(db)
    row = db.scalar(select(Balance).where(Balance.item_id == store.screw.id, Balance.qty > 0))
    assert (row.qty, row.reserved) == (10, 6)
    assert db.scalar(select(PickList.id).where(PickList.status == "allocated")) is not None
    assert len(list(db.scalars(select(PickList)))) == 1
