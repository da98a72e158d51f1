"""Reception: checks, anomalies and decisions, quarantine and its release, put-away rules, API contract."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from modules.stock import reception as receiving
from modules.stock.lookup import item_by_sku, supplier_by_name
from modules.stock.models import Balance, Move, Reception
from shopfloor import clock
from modules.stock import inputs as stock_inputs
from modules.stock.reception import LineInput
from shopfloor.errors import Conflict, Forbidden, ValidationError
from tests.conftest import fresh


def day(now: datetime, days: int) -> date:
    """A date relative to the test clock's Paris day, for the services called with `now`. (The HTTP handlers
    read the real clock: the API tests take their dates from `store.day`, relative to the real day.)"""
    return clock.paris_day(now) + timedelta(days=days)


def _post(client, people, payload, user=None):
    return client.post("/api/v1/stock/receptions", json=payload, headers=people.headers(user or people.apprentice))


def test_api_non_conforming_line_lands_in_quarantine_whatever_location_it_names(client, db, people, store):
    response = _post(client, people, {"supplier": "Colles Durand", "delivery_note": "bl-2026-118", "carrier":
                                      "Transports Martin", "lines": [
        {"sku": "COL-100", "qty": 12, "lot": "C2611", "expiry": store.day(100).isoformat(), "location": "QUAI-01",
         "conforming": True},
        {"sku": "COL-100", "qty": 3, "lot": "C2612", "expiry": store.day(100).isoformat(), "location": "A-01-01-1",
         "conforming": False, "reason": "Pots écrasés"}]})
    assert response.status_code == 201, response.json
    body = response.json
    assert [(line["location"], line["conforming"], line["decision"]) for line in body["lines"]] == [
        ("QUAI-01", True, "accept"), ("QUAR-01", False, "quarantine")]
    assert [(a["kind"], a["decision"]) for a in body["anomalies"]] == [("damaged", "quarantine")]
    fresh(db)
    rec = db.get(Reception, body["id"])
    assert rec.delivery_note == "BL-2026-118" and rec.carrier.name == "Transports Martin" and rec.closed_at
    assert "LOG-6" in rec.proposed_competences(("LOG-1", "LOG-2"))
    balances = client.get("/api/v1/stock/balances?sku=col-100", headers=people.headers(people.apprentice)).json
    assert {(b["lot"], b["location"], b["qty"]) for b in balances} == {("C2611", "QUAI-01", 12), ("C2612", "QUAR-01", 3)}
    assert set(balances[0]) == {"sku", "lot", "expiry", "location", "qty", "reserved"}
    # quarantined stock is not pickable
    refused = client.post("/api/v1/stock/picks", json={"sku": "COL-100", "qty": 1, "destination": "L1"},
                          headers=people.headers(people.apprentice))
    assert refused.status_code == 409  # the conforming lot is still on the dock, not in storage


def test_quality_checks_create_anomalies_with_default_decisions(db, people, store, now):
    supplier = supplier_by_name(db, "Colles Durand")
    rec = receiving.receive(db, people.apprentice, supplier=supplier, delivery_note="BL-9", now=now, documents_ok=False,
                            lines=[LineInput("COL-100", Decimal(5), lot="OLD", expiry=day(now, -3)),
                                   LineInput("COL-100", Decimal(5), lot="SHORTLIFE", expiry=day(now, 20)),
                                   LineInput("VIS-M8", Decimal(90), note_qty=Decimal(100)),
                                   LineInput("CART-40", Decimal(10), labels_ok=False),
                                   LineInput("VIS-M8", Decimal(5), packaging_ok=False, decision="return")])
    kinds = [(a.kind, a.decision) for a in rec.anomalies]
    assert kinds == [("missing_documents", "reservations"), ("expired", "quarantine"),
                     ("short_shelf_life", "quarantine"), ("short", "reservations"), ("labels", "quarantine"),
                     ("damaged", "return")]
    assert [line.location.code for line in rec.lines] == ["QUAR-01", "QUAR-01", "QUAI-01", "QUAR-01", "QUAR-01"]
    assert "VIS-M8" in rec.reservations and "Documents manquants" in rec.reservations
    returned = db.scalar(select(Move).where(Move.reason == "return_supplier"))
    assert returned.qty == 5 and returned.to_location_id is None
    # an expired lot is never accepted into free stock, even when asked
    forced = receiving.receive(db, people.apprentice, supplier=supplier, delivery_note="BL-9B", now=now,
                               lines=[LineInput("COL-100", Decimal(1), lot="OLD2", expiry=day(now, -3),
                                                decision="accept", location="A-01-02-1")])
    assert (forced.lines[0].decision, forced.lines[0].location.code) == ("quarantine", "QUAR-01")


def test_lot_expiry_capture_rules(db, people, store, now):
    supplier = supplier_by_name(db, "Colles Durand")
    rec = receiving.open_reception(db, people.apprentice, supplier=supplier, delivery_note="BL-10", now=now)
    with pytest.raises(ValidationError) as missing_lot:
        receiving.add_line(db, people.apprentice, rec, LineInput("COL-100", Decimal(1), expiry=day(now, 90)), now)
    assert missing_lot.value.field == "lot"
    with pytest.raises(ValidationError) as missing_expiry:
        receiving.add_line(db, people.apprentice, rec, LineInput("COL-100", Decimal(1), lot="A1"), now)
    assert missing_expiry.value.field == "expiry"
    line = receiving.add_line(db, people.apprentice, rec, LineInput("VIS-M8", Decimal(4)), now)
    assert line.lot.number == f"R{rec.id}-1"  # system lot for an untracked item
    with pytest.raises(ValidationError) as bad_place:
        receiving.add_line(db, people.apprentice, rec, LineInput("VIS-M8", Decimal(4), location="EXP-01"), now)
    assert bad_place.value.field == "location"


def test_expected_receipt_short_over_and_wrong_item(db, people, store, now):
    supplier = supplier_by_name(db, "Colles Durand")
    expected = receiving.create_expected(db, supplier=supplier, spec=stock_inputs.expected_receipt(
        {"reference": "cde-77", "kind": "order", "lines": "VIS-M8;100\nCART-40 20"}))
    rec = receiving.receive(db, people.apprentice, supplier=supplier, delivery_note="BL-77", now=now, expected=expected,
                            lines=[LineInput("VIS-M8", Decimal(80)), LineInput("COL-100", Decimal(2), lot="W",
                                                                              expiry=day(now, 100))])
    kinds = sorted((a.kind, a.item.sku) for a in rec.anomalies)
    assert kinds == [("short", "CART-40"), ("short", "VIS-M8"), ("wrong_item", "COL-100")]
    assert expected.status == "received"
    with pytest.raises(ValidationError):
        stock_inputs.expected_lines("VIS-M8")
    with pytest.raises(Conflict):
        receiving.add_line(db, people.apprentice, rec, LineInput("VIS-M8", Decimal(1)), now)  # closed


def test_put_away_suggestion_rules_and_scan(db, people, store, now):
    from modules.stock import inputs, masterdata
    masterdata.create_item(db, inputs.item({"sku": "SOLV-1", "name": "Solvant", "hazardous": True}))
    masterdata.create_item(db, inputs.item({"sku": "ADH-FROID", "name": "Adhésif", "temp_min": 2, "temp_max": 8}))
    masterdata.create_item(db, inputs.item({"sku": "FAST", "name": "Rapide", "abc_class": "A"}))
    masterdata.create_item(db, inputs.item({"sku": "LOURD", "name": "Lourd", "unit_weight_kg": 20}))
    suggest = lambda sku, qty=1: receiving.suggest_location(db, item_by_sku(db, sku), Decimal(qty)).code  # noqa: E731
    assert suggest("SOLV-1") == "H-01-01-1"
    assert suggest("ADH-FROID") == "F-01-01-1"
    assert suggest("FAST") == "A-01-01-1"  # near the dock
    assert suggest("VIS-M8") != "A-01-01-1"
    rec = store.receive("LOURD", 3, location="QUAI-01")
    line = db.merge(rec).lines[0]
    with pytest.raises(ValidationError) as too_heavy:
        receiving.put_away(db, people.apprentice, line, "B-02-01-2", now)  # 60 kg > 50 kg
    assert "charge maximale" in too_heavy.value.message
    with pytest.raises(ValidationError):
        receiving.put_away(db, people.apprentice, line, "L1", now)
    receiving.put_away(db, people.apprentice, line, "a-01-02-1", now)
    assert line.put_away_location.code == "A-01-02-1"
    with pytest.raises(Conflict):
        receiving.put_away(db, people.apprentice, line, "A-01-02-1", now)


def test_only_tutor_or_admin_releases_quarantine(db, people, store, now):
    store.receive("COL-100", 4, lot="Q1", expiry=day(now, 100), conforming=False, reason="Étiquette illisible")
    row = db.scalar(select(Balance).join(Balance.location).where(Balance.qty > 0))
    assert row.location.code == "QUAR-01"
    with pytest.raises(Forbidden):
        receiving.release_quarantine(db, people.apprentice, balance_id=row.id, decision="release", qty=Decimal(4),
                                     now=now, location_code="A-01-02-1")
    receiving.release_quarantine(db, people.tutor, balance_id=row.id, decision="release", qty=Decimal(3), now=now,
                                 location_code="A-01-02-1")
    receiving.release_quarantine(db, people.admin, balance_id=row.id, decision="scrap", qty=Decimal(1), now=now)
    reasons = [m.reason for m in db.scalars(select(Move).order_by(Move.id))]
    assert reasons[-2:] == ["release", "scrap"]
    assert db.scalar(select(func.sum(Balance.qty)).join(Balance.location).where(Balance.location.has(kind="quarantine"))) == 0


def test_quarantine_pages_and_release_by_http(client, db, people, store):
    from tests.conftest import login
    store.receive("COL-100", 4, lot="Q1", expiry=store.day(100), conforming=False, reason="Pots fendus")
    row_id = db.scalar(select(Balance.id).where(Balance.qty > 0))
    login(client, "appr", "clef-atelier-2026")
    assert "Q1" in client.get("/stock/quarantine").get_data(as_text=True)
    assert client.post(f"/stock/quarantine/{row_id}/release", data={"decision": "release", "qty": "4",
                                                                    "location": "A-01-02-1"}).status_code == 403
    client.post("/logout")
    login(client, "tutor", "clef-formateur-2026")
    response = client.post(f"/stock/quarantine/{row_id}/release", data={"decision": "release", "qty": "9",
                                                                        "location": "A-01-02-1"})
    assert response.status_code == 409 and "disponible" in response.get_data(as_text=True)
    ok = client.post(f"/stock/quarantine/{row_id}/release", data={"decision": "release", "qty": "4",
                                                                  "location": "A-01-02-1"})
    assert ok.status_code == 302
    fresh(db)
    assert db.scalar(select(Balance.qty).where(Balance.id == row_id)) == 0


def test_api_reception_bad_input_names_the_field_and_writes_nothing(client, db, people, store):
    cases = [({"supplier": "Inconnu", "delivery_note": "X", "lines": [{"sku": "VIS-M8", "qty": 1}]}, "supplier"),
             ({"supplier": "Colles Durand", "delivery_note": "X", "lines": []}, "lines"),
             ({"supplier": "Colles Durand", "delivery_note": "X", "lines": [{"sku": "VIS-M8", "qty": 0}]}, "lines[0].qty"),
             ({"supplier": "Colles Durand", "delivery_note": "X", "lines": [{"sku": "VIS-M8", "qty": 1},
                                                                           {"sku": "NOPE", "qty": 1}]}, "lines[1].sku"),
             ({"supplier": "Colles Durand", "delivery_note": "X", "lines": [
                 {"sku": "COL-100", "qty": 1, "lot": "A", "expiry": "31/12/2026"}]}, "lines[0].expiry"),
             ({"supplier": "Colles Durand", "delivery_note": "", "lines": [{"sku": "VIS-M8", "qty": 1}]}, "delivery_note")]
    for payload, field in cases:
        response = _post(client, people, payload)
        assert response.status_code == 422 and response.json["error"]["field"] == field, (field, response.json)
    assert client.post("/api/v1/stock/receptions", data="{oops", headers=dict(
        people.headers(people.apprentice), **{"Content-Type": "application/json"})).status_code == 400
    fresh(db)
    assert db.scalar(select(func.count()).select_from(Move)) == 0
    assert db.scalar(select(func.count()).select_from(Reception)) == 0


def test_reception_visibility(client, people, store):
    rec_id = _post(client, people, {"supplier": "Colles Durand", "delivery_note": "BL-V",
                                    "lines": [{"sku": "VIS-M8", "qty": 1}]}).json["id"]
    url = f"/api/v1/stock/receptions/{rec_id}"
    assert client.get(url, headers=people.headers(people.tutor)).status_code == 200
    assert client.get(url, headers=people.headers(people.other_apprentice)).status_code == 404
    assert client.get(url, headers=people.headers(people.other_tutor)).status_code == 404
