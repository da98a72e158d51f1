"""Inventory counts through the API and the services: blind sheet, recount, validation, permissions."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from modules.stock import counts
from modules.stock.models import Count, CountLine, Move
from tests.conftest import fresh, login
from tests.stock.ops_store import OpsStore


@pytest.fixture
def shop(db, people, now):
    store = OpsStore(db, people, now)
    store.glue_a = store.lot(store.glue, "G-A", expiry=now.date() + timedelta(days=90))
    store.glue_b = store.lot(store.glue, "G-B", expiry=now.date() + timedelta(days=120))
    store.screw_lot = store.lot(store.screw, "S-1")
    store.put(store.glue, store.glue_a, 10, "A-01-02-1")
    store.put(store.glue, store.glue_b, 4, "A-01-02-1")
    store.put(store.screw, store.screw_lot, 500, "A-01-02-2")
    store.put(store.screw, store.screw_lot, 100, "B-02-01-1")
    db.commit()
    for user in (people.apprentice, people.other_apprentice, people.tutor, people.other_tutor, people.admin):
        people.token(user)  # before the app writes: this session's later writes need a fresh snapshot
    return store


def _create(client, people, **body):
    return client.post("/api/v1/stock/counts", json=body or {"scope": "rack", "value": "A-01-02"},
                       headers=people.headers(people.apprentice))


def _count(client, people, count_id, location, sku, qty, lot=None):
    payload = {"location": location, "sku": sku, "counted_qty": qty}
    if lot:
        payload["lot"] = lot
    return client.post(f"/api/v1/stock/counts/{count_id}/lines", json=payload, headers=people.headers(people.apprentice))


def test_a_rack_count_lists_what_is_there_without_the_expected_quantity(client, people, shop):
    response = _create(client, people)
    assert response.status_code == 201
    sheet = response.get_json()
    assert sheet["scope"] == "rack" and sheet["status"] == "open"
    assert [(l["location"], l["sku"], l["lot"]) for l in sheet["lines"]] == [
        ("A-01-02-1", "COL-100", "G-A"), ("A-01-02-1", "COL-100", "G-B"), ("A-01-02-2", "VIS-M8", "S-1")]
    assert all("expected_qty" not in line and "difference" not in line for line in sheet["lines"])
    again = client.get(f"/api/v1/stock/counts/{sheet['id']}", headers=people.headers(people.apprentice)).get_json()
    assert all("expected_qty" not in line for line in again["lines"])
    # the tutor who will validate sees the book quantities
    tutor_view = client.get(f"/api/v1/stock/counts/{sheet['id']}", headers=people.headers(people.tutor)).get_json()
    assert [line["expected_qty"] for line in tutor_view["lines"]] == [10, 4, 500]


def test_the_html_sheet_is_blind_for_the_counter(client, people, shop):
    count_id = _create(client, people).get_json()["id"]
    login(client, "appr", "clef-atelier-2026")
    page = client.get(f"/stock/counts/{count_id}").get_data(as_text=True)
    assert "A-01-02-1" in page and "COL-100" in page and 'id="location"' in page and "autofocus" in page
    assert "Attendu" not in page and ">500<" not in page
    client.post("/logout")
    login(client, "tutor", "clef-formateur-2026")
    page = client.get(f"/stock/counts/{count_id}").get_data(as_text=True)
    assert "Attendu" in page and "500" in page and "Valider l'inventaire" in page


def test_a_difference_over_the_threshold_asks_for_a_recount(client, people, shop):
    count_id = _create(client, people, scope="rack", value="A-01-02", threshold_pct=5, threshold_value=1000).get_json()["id"]
    small = _count(client, people, count_id, "A-01-02-2", "VIS-M8", 490)  # 2 %: under 5 %
    assert small.status_code == 201 and small.get_json()["status"] == "counted"
    big = _count(client, people, count_id, "a-01-02-1", "col-100", 7, lot="G-A")  # 30 %
    assert big.get_json() == {"location": "A-01-02-1", "sku": "COL-100", "lot": "G-A", "status": "recount",
                              "recount_required": True}
    recount = _count(client, people, count_id, "A-01-02-1", "COL-100", 8, lot="G-A")
    assert recount.get_json()["status"] == "recounted"
    fresh(shop.db)
    line = shop.db.scalar(select(CountLine).where(CountLine.count_id == count_id, CountLine.lot_id == shop.glue_a.id))
    assert (line.counted_qty, line.recount_qty, line.final_qty) == (7, 8, 8)


def test_the_value_threshold_also_asks_for_a_recount(db, people, shop, now):
    count = counts.create_count(db, people.apprentice, scope="rack", value="A-01-02", now=now,
                                threshold_pct=Decimal(50), threshold_value=Decimal(20))
    line = counts.record_line(db, people.apprentice, count, location_code="A-01-02-1", sku="COL-100", lot_number="G-A",
                              counted_qty=Decimal("8"), now=now)  # 20 % under 50 %, but 2 × 12.50 € = 25 € > 20 €
    assert line.status == "recount"


def test_validation_posts_adjustments_and_keeps_the_accuracy(client, people, shop):
    count_id = _create(client, people).get_json()["id"]
    _count(client, people, count_id, "A-01-02-1", "COL-100", 10, lot="G-A")
    _count(client, people, count_id, "A-01-02-1", "COL-100", 3, lot="G-B")   # −1 (25 %) → recount
    _count(client, people, count_id, "A-01-02-1", "COL-100", 3, lot="G-B")   # recount confirms
    _count(client, people, count_id, "A-01-02-2", "VIS-M8", 498)             # −2, under thresholds
    response = client.post(f"/api/v1/stock/counts/{count_id}/validate", headers=people.headers(people.tutor))
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert result["status"] == "validated"
    assert sorted((m["sku"], m["lot"], m["from"], m["to"], m["qty"], m["reason"]) for m in result["moves"]) == [
        ("COL-100", "G-B", "A-01-02-1", None, 1.0, "adjustment"), ("VIS-M8", "S-1", "A-01-02-2", None, 2.0, "adjustment")]
    assert result["accuracy_pct"] == pytest.approx(33.33)  # 1 line of 3 without difference
    # value: Σ|Δ€| = 12.50 + 0.20 ; Σ expected € = 10×12.5 + 4×12.5 + 500×0.1 = 225
    assert result["value_accuracy_pct"] == pytest.approx(round(100 - 12.7 * 100 / 225, 2))
    fresh(shop.db)
    assert shop.qty(shop.glue, shop.glue_b, "A-01-02-1") == 3
    assert shop.qty(shop.screw, shop.screw_lot, "A-01-02-2") == 498
    assert shop.qty(shop.screw, shop.screw_lot, "B-02-01-1") == 100  # out of scope, untouched
    moves = shop.db.scalars(select(Move).where(Move.reason == "adjustment")).all()
    assert {m.activity_id for m in moves} == {count_id} and {m.user_id for m in moves} == {people.tutor.id}
    assert "compté 3, attendu 4" in next(m.note for m in moves if m.lot_id == shop.glue_b.id)
    # validated: frozen for entries, and not validated twice
    assert _count(client, people, count_id, "A-01-02-1", "COL-100", 1, lot="G-A").status_code == 409
    assert client.post(f"/api/v1/stock/counts/{count_id}/validate", headers=people.headers(people.tutor)).status_code == 409


def test_found_stock_where_none_was_expected_is_a_positive_adjustment(client, people, shop):
    count_id = _create(client, people).get_json()["id"]
    _count(client, people, count_id, "A-01-02-1", "COL-100", 10, lot="G-A")
    _count(client, people, count_id, "A-01-02-1", "COL-100", 4, lot="G-B")
    _count(client, people, count_id, "A-01-02-2", "VIS-M8", 500)
    found = _count(client, people, count_id, "A-01-02-2", "COL-100", 2, lot="G-A")
    assert found.get_json()["status"] == "recount"  # nothing expected: any quantity is over the % threshold
    _count(client, people, count_id, "A-01-02-2", "COL-100", 2, lot="G-A")
    moves = client.post(f"/api/v1/stock/counts/{count_id}/validate", headers=people.headers(people.admin)).get_json()["moves"]
    assert [(m["to"], m["qty"], m["direction"]) for m in moves] == [("A-01-02-2", 2.0, "in")]
    fresh(shop.db)
    assert shop.qty(shop.glue, shop.glue_a, "A-01-02-2") == 2


@pytest.mark.parametrize("who,status", [("apprentice", 403), ("other_tutor", 404), ("tutor", 200), ("admin", 200)])
def test_only_the_tutor_or_an_admin_validates(client, people, shop, who, status):
    count_id = _create(client, people).get_json()["id"]
    for location, sku, lot, qty in [("A-01-02-1", "COL-100", "G-A", 10), ("A-01-02-1", "COL-100", "G-B", 4),
                                    ("A-01-02-2", "VIS-M8", None, 500)]:
        _count(client, people, count_id, location, sku, qty, lot=lot)
    response = client.post(f"/api/v1/stock/counts/{count_id}/validate", headers=people.headers(getattr(people, who)))
    assert response.status_code == status
    fresh(shop.db)
    assert shop.db.get(Count, count_id).status == ("validated" if status == 200 else "open")


def test_the_apprentice_cannot_validate_through_the_service_either(db, people, shop, now):
    count = counts.create_count(db, people.apprentice, scope="rack", value="A-01-02", now=now)
    from shopfloor.errors import Forbidden
    with pytest.raises(Forbidden, match="tuteur"):
        counts.validate_count(db, people.apprentice, count, now)


def test_only_the_author_enters_counts_and_others_do_not_see_the_count(client, people, shop):
    count_id = _create(client, people).get_json()["id"]
    other = client.post(f"/api/v1/stock/counts/{count_id}/lines", headers=people.headers(people.other_apprentice),
                        json={"location": "A-01-02-1", "sku": "COL-100", "lot": "G-A", "counted_qty": 1})
    assert other.status_code == 404
    assert client.get(f"/api/v1/stock/counts/{count_id}", headers=people.headers(people.other_tutor)).status_code == 404


def test_validation_waits_for_every_line_and_every_recount(client, people, shop):
    count_id = _create(client, people).get_json()["id"]
    _count(client, people, count_id, "A-01-02-1", "COL-100", 10, lot="G-A")
    response = client.post(f"/api/v1/stock/counts/{count_id}/validate", headers=people.headers(people.tutor))
    assert response.status_code == 409 and "pas encore comptée" in response.get_json()["error"]["message"]
    _count(client, people, count_id, "A-01-02-1", "COL-100", 1, lot="G-B")
    _count(client, people, count_id, "A-01-02-2", "VIS-M8", 500)
    response = client.post(f"/api/v1/stock/counts/{count_id}/validate", headers=people.headers(people.tutor))
    assert response.status_code == 409 and "recomptage" in response.get_json()["error"]["message"]
    fresh(shop.db)
    assert shop.db.scalar(select(func.count(Move.id)).where(Move.reason == "adjustment")) == 0


def test_stock_moving_after_a_line_was_counted_requires_a_recount(client, people, shop, now):
    count_id = _create(client, people).get_json()["id"]
    _count(client, people, count_id, "A-01-02-1", "COL-100", 10, lot="G-A")
    _count(client, people, count_id, "A-01-02-1", "COL-100", 4, lot="G-B")
    _count(client, people, count_id, "A-01-02-2", "VIS-M8", 500)
    # a picker takes 3 glues after they were counted
    fresh(shop.db)
    shop.take(shop.glue, shop.glue_a, 3, "A-01-02-1", "L1", now)
    shop.db.commit()
    response = client.post(f"/api/v1/stock/counts/{count_id}/validate", headers=people.headers(people.tutor))
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["field"] == "lines" and "A-01-02-1 COL-100 lot G-A" in error["message"]
    # recounted: the line takes the new book quantity (7) and the count validates without a false difference
    assert _count(client, people, count_id, "A-01-02-1", "COL-100", 7, lot="G-A").get_json()["status"] == "counted"
    result = client.post(f"/api/v1/stock/counts/{count_id}/validate", headers=people.headers(people.tutor)).get_json()
    assert result["moves"] == [] and result["accuracy_pct"] == 100.0
    fresh(shop.db)
    assert shop.qty(shop.glue, shop.glue_a, "A-01-02-1") == 7


def test_stock_moving_before_a_line_is_counted_is_taken_into_account(client, people, shop, now):
    count_id = _create(client, people).get_json()["id"]
    fresh(shop.db)
    shop.take(shop.screw, shop.screw_lot, 100, "A-01-02-2", "L1", now)  # after the sheet, before counting
    shop.db.commit()
    _count(client, people, count_id, "A-01-02-1", "COL-100", 10, lot="G-A")
    _count(client, people, count_id, "A-01-02-1", "COL-100", 4, lot="G-B")
    assert _count(client, people, count_id, "A-01-02-2", "VIS-M8", 400).get_json()["status"] == "counted"
    result = client.post(f"/api/v1/stock/counts/{count_id}/validate", headers=people.headers(people.tutor)).get_json()
    assert result["moves"] == []


@pytest.mark.parametrize("body,field", [
    ({"scope": "galaxy"}, "scope"), ({}, "scope"), ({"scope": "rack", "value": "Z-99-99"}, "value"),
    ({"scope": "rack", "value": "A-01"}, "value"), ({"scope": "abc", "value": "D"}, "value"),
    ({"scope": "zone", "value": "A", "threshold_pct": "beaucoup"}, "threshold_pct"),
    ({"scope": "zone", "value": "A", "threshold_value": -3}, "threshold_value"),
])
def test_bad_count_requests_name_the_field(client, people, shop, body, field):
    response = client.post("/api/v1/stock/counts", json=body, headers=people.headers(people.apprentice))
    assert response.status_code == 422 and response.get_json()["error"]["field"] == field
    fresh(shop.db)
    assert shop.db.scalar(select(func.count(Count.id))) == 0


@pytest.mark.parametrize("payload,field", [
    ({"location": "NOWHERE", "sku": "COL-100", "lot": "G-A", "counted_qty": 1}, "location"),
    ({"location": "B-02-01-1", "sku": "VIS-M8", "counted_qty": 1}, "location"),  # outside the rack
    ({"location": "A-01-02-1", "sku": "NOPE", "counted_qty": 1}, "sku"),
    ({"location": "A-01-02-1", "sku": "COL-100", "lot": "ZZZ", "counted_qty": 1}, "lot"),
    ({"location": "A-01-02-1", "sku": "COL-100", "counted_qty": 1}, "lot"),  # two lots there: scan the lot
    ({"location": "A-01-02-1", "sku": "COL-100", "lot": "G-A", "counted_qty": -1}, "counted_qty"),
    ({"location": "A-01-02-1", "sku": "COL-100", "lot": "G-A", "counted_qty": "dix"}, "counted_qty"),
    ({"location": "A-01-02-1", "sku": "COL-100", "lot": "G-A"}, "counted_qty"),
])
def test_bad_entries_name_the_field_and_write_nothing(client, people, shop, payload, field):
    count_id = _create(client, people).get_json()["id"]
    response = client.post(f"/api/v1/stock/counts/{count_id}/lines", json=payload,
                           headers=people.headers(people.apprentice))
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["field"] == field
    fresh(shop.db)
    assert shop.db.scalar(select(func.count(CountLine.id)).where(CountLine.count_id == count_id,
                                                                 CountLine.status != "to_count")) == 0


def test_abc_cycle_count_takes_the_items_due_by_class_frequency(db, people, shop, now):
    shop.glue.abc_class, shop.screw.abc_class = "A", "C"
    db.flush()
    first = counts.create_count(db, people.apprentice, scope="abc", value="", now=now - timedelta(days=40))
    assert {line.item_id for line in first.lines} == {shop.glue.id, shop.screw.id}  # never counted: both due
    for line in first.lines:
        counts.record_line(db, people.apprentice, first, location_code=line.location.code, sku=line.item.sku,
                           lot_number=line.lot.number, counted_qty=line.expected_qty, now=now - timedelta(days=40))
    counts.validate_count(db, people.tutor, first, now - timedelta(days=40))
    # 40 days later: the A item (monthly) is due again, the C item (yearly) is not
    second = counts.create_count(db, people.apprentice, scope="abc", value="", now=now)
    assert {line.item_id for line in second.lines} == {shop.glue.id}
    only_c = counts.create_count(db, people.apprentice, scope="abc", value="C", now=now)
    assert only_c.lines == []


def test_html_count_flow_with_errors_rerendered(client, people, shop):
    login(client, "appr", "clef-atelier-2026")
    response = client.post("/stock/counts", data={"scope": "rack", "value": "Z-99-99", "threshold_pct": "5"})
    assert response.status_code == 422 and "Aucun emplacement" in response.get_data(as_text=True)
    response = client.post("/stock/counts", data={"scope": "rack", "value": "A-01-02", "threshold_pct": "5",
                                                  "threshold_value": "100"})
    assert response.status_code == 302
    count_url = response.location
    count_id = int(count_url.rstrip("/").split("/")[-1])
    bad = client.post(f"/stock/counts/{count_id}/lines", data={"location": "A-01-02-1", "sku": "COL-100", "lot": "G-A",
                                                               "counted_qty": "-2"})
    assert bad.status_code == 422 and "counted_qty" in bad.get_data(as_text=True)
    ok = client.post(f"/stock/counts/{count_id}/lines", data={"location": "A-01-02-1", "sku": "COL-100", "lot": "G-A",
                                                              "counted_qty": "10"})
    assert ok.status_code == 302 and "location=A-01-02-1" in ok.location
    assert client.post(f"/stock/counts/{count_id}/validate").status_code == 403
