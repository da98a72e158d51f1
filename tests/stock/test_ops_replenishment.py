"""Replenishment job, expiry flags, purchase requests, ABC, labels, shipping, rounds and the indicators."""
import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal

import pandas as pd
import pytest
from barcode.charsets.code128 import CODES as CODE128_PATTERNS
from sqlalchemy import func, select

from modules.stock import indicators, inputs, labels, layout, replenishment, rounds, shipping
from modules.stock.jobs import replenishment as replenishment_job
from modules.stock.models import LotFlag, Move, PurchaseProposal, PurchaseRequest
from shopfloor.errors import Conflict, ValidationError
from tests.conftest import fresh, login
from tests.stock.ops_store import OpsStore


@pytest.fixture
def shop(db, people, now):
    return OpsStore(db, people, now)


def _history(shop, now):
    """Screws: 30 u picked on each of 3 days in the last 90 days → 90 / 90 = 1 u per day on average."""
    lot = shop.lot(shop.screw, "S-1", received=now - timedelta(days=200))
    shop.put(shop.screw, lot, 200, "A-01-02-2", at=now - timedelta(days=150))
    for days_ago in (80, 40, 2):
        shop.take(shop.screw, lot, 30, "A-01-02-2", "L1", now - timedelta(days=days_ago))
    shop.take(shop.screw, lot, 50, "A-01-02-2", "L1", now - timedelta(days=120))  # outside the window
    shop.take(shop.screw, lot, 5, "A-01-02-2", "B-02-01-1", now - timedelta(days=3), reason="transfer")  # not demand
    return lot


def test_computed_reorder_point_from_a_hand_computed_history(db, shop, now):
    _history(shop, now)
    demand = replenishment.average_daily_demand(db, [shop.screw.id], now)
    assert demand[shop.screw.id] == pytest.approx(1.0)
    shop.screw.reorder_mode, shop.screw.safety_stock = "computed", Decimal(10)
    assert replenishment.reorder_point(shop.screw, demand[shop.screw.id]) == Decimal(15)  # 1 × 5 days + 10
    shop.glue.reorder_point = Decimal(4)
    assert replenishment.reorder_point(shop.glue, None) == Decimal(4)  # fixed


def test_job_run_twice_gives_the_same_proposals_and_flags(app, db, shop, now):
    lot = shop.lot(shop.screw, "S-1")
    shop.put(shop.screw, lot, 20, "A-01-02-2")
    shop.screw.reorder_point, shop.screw.reorder_qty = Decimal(50), Decimal(200)
    old = shop.lot(shop.glue, "G-OLD", expiry=now.date() - timedelta(days=2))
    soon = shop.lot(shop.glue, "G-SOON", expiry=now.date() + timedelta(days=10))
    later = shop.lot(shop.glue, "G-LATER", expiry=now.date() + timedelta(days=200))
    for glue_lot in (old, soon, later):
        shop.put(shop.glue, glue_lot, 3, "A-01-02-1")
    db.commit()
    with app.app_context():  # jobs run in an app context (the scheduler opens it)
        first = replenishment_job(db, now)
        db.commit()
        second = replenishment_job(db, now + timedelta(hours=1))
        db.commit()
    assert first == "1 proposition(s) d'achat, 0 close(s), 3 lot(s) signalé(s)"
    assert second == "0 proposition(s) d'achat, 0 close(s), 0 lot(s) signalé(s)"
    proposals = db.scalars(select(PurchaseProposal)).all()
    assert [(p.item_id, p.status, p.position_qty, p.suggested_qty) for p in proposals] == [
        (shop.screw.id, "open", Decimal(20), Decimal(200))]
    flags = sorted((f.lot.number, f.kind) for f in db.scalars(select(LotFlag)))
    assert flags == [("G-OLD", "disposal"), ("G-OLD", "expiring"), ("G-SOON", "expiring")]
    # stock back above the point (a purchase request on order counts): the open proposal is closed
    replenishment.create_purchase_request(db, shop.people.apprentice, now=now, proposal=proposals[0],
                                          qty=Decimal(200), due_date=now.date() + timedelta(days=5))
    assert proposals[0].status == "converted"
    with app.app_context():
        replenishment_job(db, now + timedelta(hours=2))
    assert db.scalar(select(func.count(PurchaseProposal.id)).where(PurchaseProposal.status == "open")) == 0


def test_a_second_open_proposal_for_an_item_is_impossible(db, shop, now):
    shop.screw.reorder_point = Decimal(5)
    db.add(PurchaseProposal(item_id=shop.screw.id, status="open", position_qty=0, reorder_point=5, suggested_qty=10))
    db.flush()
    assert replenishment.propose_purchases(db, now)["created"] == 0  # the job sees it
    db.add(PurchaseProposal(item_id=shop.screw.id, status="open", position_qty=0, reorder_point=5, suggested_qty=10))
    with pytest.raises(Exception):
        db.flush()  # and the partial unique index refuses a racing second worker


def test_purchase_request_from_a_proposal_in_the_browser_forms(client, db, people, shop, now):
    shop.screw.reorder_point = Decimal(5)
    db.commit()
    replenishment.propose_purchases(db, now)
    db.commit()
    proposal = db.scalar(select(PurchaseProposal))
    login(client, "appr", "clef-atelier-2026")
    assert "VIS-M8" in client.get("/stock/replenishment").get_data(as_text=True)
    bad = client.post(f"/stock/proposals/{proposal.id}/request", data={"qty": "0", "due_date": "2030-01-01",
                                                                        "supplier": "Colles Durand"})
    assert bad.status_code == 422 and "qty" in bad.get_data(as_text=True)
    past = client.post(f"/stock/proposals/{proposal.id}/request", data={"qty": "40", "due_date": "2020-01-01",
                                                                         "supplier": "Colles Durand"})
    assert past.status_code == 422
    ok = client.post(f"/stock/proposals/{proposal.id}/request", data={"qty": "40", "due_date": "2030-01-01",
                                                                       "supplier": "Colles Durand"})
    assert ok.status_code == 302
    fresh(db)
    request = db.scalar(select(PurchaseRequest))
    assert (request.item_id, request.qty, request.author_id, request.status) == (shop.screw.id, 40, people.apprentice.id, "open")
    assert db.get(PurchaseProposal, proposal.id).status == "converted"
    assert client.post(f"/stock/proposals/{proposal.id}/request", data={"qty": "40", "due_date": "2030-01-01"}).status_code == 409
    client.post("/logout")
    login(client, "tutor2", "clef-formateur-2026")
    assert client.get(f"/stock/purchase-requests/{request.id}").status_code == 404


# -- ABC and layout -------------------------------------------------------------------

def test_abc_on_a_hand_example():
    # shares: 50, 25, 12, 8, 5, 0 → cumulative before: 0, 50, 75, 87, 95, 100
    measure = pd.Series({1: 50.0, 2: 25.0, 3: 12.0, 4: 8.0, 5: 5.0, 6: 0.0})
    result = layout.abc_classes(measure)
    assert result["abc_class"].to_dict() == {1: "A", 2: "A", 3: "A", 4: "B", 5: "C", 6: "C"}
    assert list(result.index) == [1, 2, 3, 4, 5, 6]
    assert result.loc[3, "cumulative_pct"] == 87.0
    assert layout.abc_classes(pd.Series({7: 90.0, 8: 10.0}))["abc_class"].to_dict() == {7: "A", 8: "B"}


def test_slotting_study_by_frequency_suggests_near_dock_and_applies(db, people, shop, now):
    screw_lot, glue_lot = shop.lot(shop.screw, "S-1"), shop.lot(shop.glue, "G-1", expiry=now.date() + timedelta(days=300))
    shop.put(shop.screw, screw_lot, 1000, "B-02-01-1")
    shop.put(shop.glue, glue_lot, 10, "A-01-02-1")
    for day in range(1, 9):
        shop.take(shop.screw, screw_lot, 10, "B-02-01-1", "L1", now - timedelta(days=day))
    shop.take(shop.glue, glue_lot, 1, "A-01-02-1", "L1", now - timedelta(days=1))
    study = layout.create_study(db, people.apprentice, basis="frequency", window_days=30, now=now)
    by_item = {line.item_id: line for line in study.lines}
    assert (by_item[shop.screw.id].picks, by_item[shop.screw.id].proposed_class) == (8, "A")
    assert by_item[shop.glue.id].proposed_class == "B" and by_item[shop.jack.id].proposed_class == "C"
    assert by_item[shop.screw.id].suggested_location.code == "A-01-01-1"  # free and near the dock
    assert layout.apply_study(db, people.tutor, study, now) == 3
    assert (shop.screw.abc_class, shop.glue.abc_class, shop.jack.abc_class) == ("A", "B", "C")
    with pytest.raises(Conflict):
        layout.apply_study(db, people.apprentice, study, now)
    aisles = {a.code: a for a in layout.store_map(db)}
    assert (aisles["A-01"].locations, aisles["A-01"].used) == (4, 1)
    assert aisles["A-01"].weight_kg == pytest.approx(9 * 1.2) and aisles["A-01"].capacity_kg == 100
    assert (aisles["B-02"].used_pct, layout.occupancy_level(aisles["B-02"].used_pct)) == (100.0, "high")


# -- Labels ---------------------------------------------------------------------------

def _decode_code128(svg: str) -> str:
    """Read the bars back: module widths → Code 128 symbols → text (code set B, checksum verified)."""
    root = ET.fromstring(svg)
    bars = [(float(r.get("x")[:-2]), float(r.get("width")[:-2])) for r in root.iter("{http://www.w3.org/2000/svg}rect")
            if r.get("x")]
    module = min(width for _, width in bars)
    modules = []
    position = bars[0][0]
    for x, width in bars:
        modules += ["0"] * round((x - position) / module) + ["1"] * round(width / module)
        position = x + width
    pattern = "".join(modules)
    table = {code: value for value, code in enumerate(CODE128_PATTERNS)}
    symbols = [table[pattern[i:i + 11]] for i in range(0, len(pattern) - 13, 11)]
    assert pattern.endswith("1100011101011")  # stop
    start, data, checksum = symbols[0], symbols[1:-1], symbols[-1]
    assert start == 104  # start B
    assert (start + sum(i * v for i, v in enumerate(data, start=1))) % 103 == checksum
    return "".join(chr(v + 32) for v in data)


def test_location_label_is_a_decodable_code128_svg():
    svg = labels.code128_svg("A-01-02-3")
    assert svg.startswith("<svg") and "<?xml" not in svg
    assert _decode_code128(svg) == "A-01-02-3"


def test_qr_label_is_an_svg_and_bad_data_is_refused():
    svg = labels.qr_svg("COL-100")
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg") and root.find("{http://www.w3.org/2000/svg}path") is not None
    with pytest.raises(ValidationError):
        labels.code128_svg("Étiquette")


def test_label_sheets_render(client, db, people, shop, now):
    shop.lot(shop.glue, "G-7", expiry=now.date() + timedelta(days=30))
    db.commit()
    login(client, "appr", "clef-atelier-2026")
    sheet = client.get("/stock/labels/locations?prefix=A-01&format=code128").get_data(as_text=True)
    assert sheet.count('class="label code128"') == 4 and "@media print" in sheet and "A4" in sheet
    lots = client.get("/stock/labels/lots?sku=COL-100&format=qr").get_data(as_text=True)
    assert 'class="label qr"' in lots and "G-7" in lots
    missing = client.get("/stock/labels/lots?sku=NOPE")
    assert missing.status_code == 422 and "NOPE" in missing.get_data(as_text=True)


# -- Shipping and collection rounds ------------------------------------------------------

def test_shipment_prepare_check_load_depart_posts_exit_moves(db, people, shop, now):
    first = shop.lot(shop.jack, "V-1", received=now - timedelta(days=30))
    second = shop.lot(shop.jack, "V-2", received=now - timedelta(days=10))
    shop.put(shop.jack, first, 3, "A-01-02-2")
    shop.put(shop.jack, second, 10, "B-02-01-1")
    apprentice = people.apprentice
    order = shipping.create_shipment(db, apprentice, inputs.shipment(
        {"order_ref": "CDE-2026-118", "lines": [{"sku": "VER-50", "qty": 5, "customer": "Hydrauliq SA"}]}), now)
    with pytest.raises(Conflict):
        shipping.load(db, apprentice, order, now)  # not checked yet
    shipping.prepare(db, apprentice, order, now)
    assert [(p.lot.number, p.qty) for p in order.lines[0].picks] == [("V-1", 3), ("V-2", 2)]  # FIFO
    assert shop.qty(shop.jack, first, "EXP-01") == 3 and shop.qty(shop.jack, second, "EXP-01") == 2
    with pytest.raises(ValidationError, match="n'est pas sur la commande"):
        shipping.check_line(db, apprentice, order, sku="VIS-M8", qty=Decimal(5), now=now)
    with pytest.raises(ValidationError, match="commandé"):
        shipping.check_line(db, apprentice, order, sku="VER-50", qty=Decimal(4), now=now)
    shipping.check_line(db, apprentice, order, sku="VER-50", qty=Decimal(5), now=now)
    shipping.load(db, apprentice, order, now)
    moves = shipping.depart(db, apprentice, order, carrier="Transports Martin", truck="AB-123-CD", departed_at=None, now=now)
    assert [(m.lot.number, m.qty, m.from_location.code, m.to_location_id, m.reason) for m in moves] == [
        ("V-1", 3, "EXP-01", None, "shipment"), ("V-2", 2, "EXP-01", None, "shipment")]
    assert order.status == "shipped" and shop.qty(shop.jack, second, "B-02-01-1") == 8
    assert shop.qty(shop.jack, first, "EXP-01") == 0


def test_shipment_shortage_moves_nothing(db, people, shop, now):
    lot = shop.lot(shop.jack, "V-1")
    shop.put(shop.jack, lot, 2, "A-01-02-2")
    order = shipping.create_shipment(db, people.apprentice, inputs.shipment(
        {"order_ref": "CDE-1", "lines": [{"sku": "VER-50", "qty": 5, "customer": "Client"}]}), now)
    with pytest.raises(Conflict, match="2 disponible"):
        shipping.prepare(db, people.apprentice, order, now)
    assert db.scalar(select(func.count(Move.id)).where(Move.reason == "pick")) == 0


def test_collection_round_moves_line_stock_back(db, people, shop, now):
    lot = shop.lot(shop.jack, "V-9")
    shop.put(shop.jack, lot, 6, "L1", reason="collection")
    tour = rounds.create_round(db, people.apprentice, now)
    with pytest.raises(ValidationError) as wrong_target:
        rounds.collect(db, people.apprentice, tour, kind="finished", from_code="L1", to_code="DECH", sku="VER-50",
                       lot_number=None, qty=Decimal(1), now=now)
    assert wrong_target.value.field == "to"
    line = rounds.collect(db, people.apprentice, tour, kind="finished", from_code="L1", to_code="A-01-02-2",
                          sku="VER-50", lot_number=None, qty=Decimal(5), now=now)
    scrap = rounds.collect(db, people.apprentice, tour, kind="waste", from_code="L1", to_code="REBUT", sku="VER-50",
                           lot_number="V-9", qty=Decimal(1), now=now)
    assert shop.qty(shop.jack, lot, "A-01-02-2") == 5 and shop.qty(shop.jack, lot, "REBUT") == 1
    assert db.get(Move, line.move_id).reason == "collection" and db.get(Move, scrap.move_id).reason == "scrap"
    rounds.close_round(db, people.apprentice, tour, now)
    with pytest.raises(Conflict):
        rounds.collect(db, people.apprentice, tour, kind="waste", from_code="L1", to_code="DECH", sku="VER-50",
                       lot_number="V-9", qty=Decimal(1), now=now)


# -- Indicators -----------------------------------------------------------------------

def test_value_coverage_expired_and_stockouts_on_a_hand_example(db, people, shop, now):
    day = now.date()
    glue_old = shop.lot(shop.glue, "G-OLD", expiry=day - timedelta(days=1))
    glue_ok = shop.lot(shop.glue, "G-OK", expiry=day + timedelta(days=100))
    screw = shop.lot(shop.screw, "S-1")
    shop.put(shop.glue, glue_old, 2, "A-01-02-1", at=now - timedelta(days=20))   # 25 €
    shop.put(shop.glue, glue_ok, 10, "A-01-02-1", at=now - timedelta(days=20))   # 125 €
    shop.put(shop.screw, screw, 300, "A-01-02-2", at=now - timedelta(days=20))   # 30 €
    shop.take(shop.screw, screw, 300, "A-01-02-2", "L1", at=now - timedelta(hours=2))  # all screws to the line: out
    shop.take(shop.glue, glue_ok, 4, "A-01-02-1", None, at=now - timedelta(days=5), reason="consumption")  # −50 €
    shop.put(shop.screw, screw, 1000, "REBUT", at=now - timedelta(days=3), reason="scrap")  # scrap is not stock
    # value today: glue 2 + 6 in storage (100 €) + 300 screws at the line (30 €) = 130 €
    assert indicators.stock_value(db, day, None) == 130.0
    # the day before the consumption: +50 €
    assert indicators.stock_value(db, day - timedelta(days=6), None) == 180.0
    assert indicators.stock_value(db, day - timedelta(days=30), None) == 0.0
    # consumption out of storage over 30 days: 300 screws (30 €) + 4 glues (50 €) = 80 € → 80/30 € a day
    assert indicators.coverage_days(db, day, None) == round(130 / (80 / 30), 1)
    assert indicators.expired_value(db, day, None) == 25.0  # 2 glues of G-OLD
    assert indicators.expired_value(db, day - timedelta(days=10), None) == 0.0  # not yet expired then
    # screws were in demand today and none are left in storage; glue had no demand today
    assert indicators.stockouts(db, day, None) == 1.0
    assert indicators.stockouts(db, day - timedelta(days=5), None) == 0.0  # glue consumed that day, 6 left


def test_empty_store_indicators_say_no_data(db, now):
    for indicator in indicators.INDICATORS:
        assert indicator.compute(db, now.date(), None) is None, indicator.key


def test_accuracy_receptions_and_line_supply_indicators(db, people, shop, now):
    from modules.stock import counts
    from modules.stock.models import PickList, Reception, ReceptionLine
    lot = shop.lot(shop.screw, "S-1")
    shop.put(shop.screw, lot, 10, "A-01-02-2")
    shop.put(shop.screw, lot, 10, "A-01-02-1")
    count = counts.create_count(db, people.apprentice, scope="rack", value="A-01-02", now=now - timedelta(hours=3))
    for line in count.lines:
        qty = line.expected_qty if line.location.code == "A-01-02-1" else Decimal(9)
        for _ in range(2):  # 9 for 10 is over the 5 % threshold: counted, then recounted
            counts.record_line(db, people.apprentice, count, location_code=line.location.code, sku="VIS-M8",
                               lot_number="S-1", counted_qty=qty, now=now - timedelta(hours=3))
    counts.validate_count(db, people.tutor, count, now - timedelta(hours=2))
    assert indicators.inventory_accuracy(db, now.date(), None) == 50.0
    assert indicators.inventory_accuracy(db, now.date() - timedelta(days=1), None) is None

    def reception(lines):
        rec = Reception(author=people.apprentice, performed_at=now - timedelta(hours=1), title="Réception",
                        supplier_id=shop.supplier.id, delivery_note=f"BL-{len(lines)}")
        rec.lines = [ReceptionLine(item_id=shop.screw.id, lot_id=lot.id, location_id=shop.loc["QUAI-01"].id, qty=1,
                                   conforming=ok) for ok in lines]
        db.add(rec)
    reception([True, True, False])
    reception([True])
    db.flush()
    assert indicators.nonconforming_receptions(db, now.date(), None) == 25.0
    assert indicators.nonconforming_receptions(db, now.date() - timedelta(days=1), None) is None

    def pick(status, needed, confirmed=None):
        db.add(PickList(author=people.apprentice, performed_at=now - timedelta(hours=5), title="Prélèvement",
                        destination_id=shop.loc["L1"].id, status=status, needed_at=needed, confirmed_at=confirmed))
    pick("confirmed", now, now - timedelta(hours=1))       # on time
    pick("confirmed", now, now + timedelta(minutes=5))     # late
    pick("allocated", now - timedelta(hours=1))            # not served in time
    pick("cancelled", now)                                 # does not count
    db.flush()
    assert indicators.line_supply_on_time(db, now.date(), None) == pytest.approx(33.3)


def test_indicator_keys_are_the_contract():
    assert {i.key: (i.letter, i.unit, i.higher_is_better) for i in indicators.INDICATORS} == {
        "stock.stockouts": ("D", "ruptures", False), "stock.inventory_accuracy": ("Q", "%", True),
        "stock.nonconforming_receptions": ("Q", "%", False), "stock.line_supply_on_time": ("D", "%", True),
        "stock.value": ("C", "€", False), "stock.coverage_days": ("C", "j", False), "stock.expired": ("Q", "€", False)}

