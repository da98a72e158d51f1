"""A reception line received by mistake is corrected before put-away, by a reversing move, with who and why."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from modules.stock.lookup import item_by_sku
from modules.stock.models import Balance, Move, ReceptionLine
from shopfloor.referential.models import Competence
from tests.conftest import fresh, login
from tests.stock.test_ledger import _check_invariants

API = "/api/v1/stock/receptions"
WHY = "Recompté au quai : 3 cartons appartenaient à la livraison suivante."


def _dock(db, sku="VIS-M8", code="QUAI-01") -> Decimal:
    fresh(db)
    item = item_by_sku(db, sku)
    rows = db.scalars(select(Balance).join(Balance.location).where(Balance.item_id == item.id))
    value = sum((row.qty for row in rows if row.location.code == code), Decimal(0))
    db.rollback()
    return value


def _books_right(db, sku="VIS-M8"):
    fresh(db)
    _check_invariants(db, item_by_sku(db, sku).id)
    db.rollback()


def _received(store, qty=10, location="QUAI-01"):
    rec = store.receive("VIS-M8", qty, location=location)
    return rec.id, rec.lines[0].id


def _correct(client, people, rec_id, line_id, user=None, **payload):
    return client.post(f"{API}/{rec_id}/lines/{line_id}/correct", json=payload,
                       headers=people.headers(user or people.apprentice))


def test_a_line_is_corrected_before_put_away_by_a_reversing_move(client, db, people, store):
    rec_id, line_id = _received(store)
    response = _correct(client, people, rec_id, line_id, qty=7, reason=WHY)
    assert response.status_code == 200, response.json
    line = response.json["lines"][0]
    assert line["qty"] == 7
    assert line["correction"]["received_qty"] == 10 and line["correction"]["by"] == "appr"
    assert line["correction"]["reason"] == WHY
    assert _dock(db) == 7
    fresh(db)
    moves = list(db.scalars(select(Move).where(Move.activity_id == rec_id).order_by(Move.id)))
    assert [(m.reason, m.qty) for m in moves] == [("reception", 10), ("correction", 3)]
    assert moves[1].user_id == people.apprentice.id and WHY in moves[1].note and moves[1].to_location_id is None
    db.rollback()
    _books_right(db)

    # the corrected quantity is what is put away; then the line no longer corrects
    login(client, "appr", "clef-atelier-2026")
    put = client.post(f"/stock/receptions/{rec_id}/lines/{line_id}/putaway", data={"location": "A-01-02-1"})
    assert put.status_code == 302
    assert _dock(db) == 0 and _dock(db, code="A-01-02-1") == 7
    late = _correct(client, people, rec_id, line_id, qty=5, reason="Trop tard")
    assert late.status_code == 409 and "rangée" in late.json["error"]["message"]
    assert _dock(db, code="A-01-02-1") == 7
    _books_right(db)


def test_a_line_received_by_mistake_is_corrected_to_nothing(client, db, people, store):
    rec_id, line_id = _received(store, 4)
    response = _correct(client, people, rec_id, line_id, qty=0, reason="Mauvais article scanné")
    assert response.status_code == 200 and response.json["lines"][0]["qty"] == 0
    assert _dock(db) == 0
    login(client, "appr", "clef-atelier-2026")
    page = client.get(f"/stock/receptions/{rec_id}")
    assert "Corrigé" in page.text and "Mauvais article scanné" in page.text
    refused = client.post(f"/stock/receptions/{rec_id}/lines/{line_id}/putaway", data={"location": "A-01-02-1"})
    assert refused.status_code == 409
    again = _correct(client, people, rec_id, line_id, qty=0, reason="Encore")
    assert again.status_code == 422 and again.json["error"]["field"] == "qty"
    _books_right(db)


def test_bad_corrections_name_the_field_and_write_nothing(client, db, people, store):
    rec_id, line_id = _received(store, 6)
    for payload, field in (({"qty": 6, "reason": WHY}, "qty"), ({"qty": 9, "reason": WHY}, "qty"),
                           ({"qty": -1, "reason": WHY}, "qty"), ({"qty": "beaucoup", "reason": WHY}, "qty"),
                           ({"qty": "1.0005", "reason": WHY}, "qty"), ({"reason": WHY}, "qty"),
                           ({"qty": 2}, "reason"), ({"qty": 2, "reason": "   "}, "reason"),
                           ({"qty": 2, "reason": "x" * 301}, "reason"), ({"qty": 2, "reason": "a\x00b"}, "reason"),
                           ({"qty": "1e999999", "reason": WHY}, "qty"), ({"qty": "1e-999999", "reason": WHY}, "qty")):
        response = _correct(client, people, rec_id, line_id, **payload)
        assert response.status_code in (400, 422), (payload, response.json)
        assert response.json["error"]["field"] == field, payload
    other = _correct(client, people, rec_id, line_id, user=people.other_apprentice, qty=2, reason=WHY)
    assert other.status_code == 404
    missing = _correct(client, people, rec_id, line_id + 999, qty=2, reason=WHY)
    assert missing.status_code == 404 and missing.json["error"]["field"] == "line_id"
    assert _dock(db) == 6
    fresh(db)
    line = db.get(ReceptionLine, line_id)
    assert line.qty == 6 and line.corrected_at is None
    assert db.scalars(select(Move).where(Move.activity_id == rec_id)).all()[-1].reason == "reception"


def test_a_frozen_reception_is_not_corrected(client, db, people, store):
    rec_id, line_id = _received(store, 5)
    headers = people.headers(people.apprentice)
    evidence = client.post("/api/v1/evidence", json={"activity_id": rec_id, "competence": "LOG-1",
                                                     "statement": "J'ai reçu et contrôlé la livraison."},
                           headers=headers).json
    assert client.post(f"/api/v1/evidence/{evidence['id']}/submit", headers=headers).status_code == 200
    criterion = db.scalar(select(Competence).where(Competence.code == "LOG-1")).criteria[0].id
    assert client.post(f"/api/v1/evidence/{evidence['id']}/review", headers=people.headers(people.tutor),
                       json={"decision": "validate", "criteria": [criterion]}).status_code == 200
    response = _correct(client, people, rec_id, line_id, qty=2, reason=WHY)
    assert response.status_code == 409 and "LOG-1" in response.json["error"]["message"]
    assert _dock(db) == 5


def test_the_page_form_corrects_a_line_and_cancelling_the_reception_still_nets_to_nothing(client, db, people,
                                                                                        store):
    rec_id, line_id = _received(store, 8)
    login(client, "appr", "clef-atelier-2026")
    page = client.get(f"/stock/receptions/{rec_id}")
    assert "Corriger (reçu par erreur)" in page.text
    bad = client.post(f"/stock/receptions/{rec_id}/lines/{line_id}/correct", data={"qty": "8", "reason": WHY})
    assert bad.status_code == 422 and "inférieure" in bad.text
    done = client.post(f"/stock/receptions/{rec_id}/lines/{line_id}/correct", data={"qty": "5", "reason": WHY},
                       follow_redirects=True)
    assert done.status_code == 200 and "Corrigé" in done.text and WHY in done.text
    assert _dock(db) == 5

    cancelled = client.post(f"/api/v1/activities/{rec_id}/cancel", json={"reason": "Livraison d'un autre site"},
                            headers=people.headers(people.apprentice))
    assert cancelled.status_code == 200
    assert _dock(db) == 0
    refused = _correct(client, people, rec_id, line_id, qty=1, reason=WHY)
    assert refused.status_code == 409 and "annulée" in refused.json["error"]["message"]
    _books_right(db)
