"""The shipping and collection-round pages through HTTP: the whole flow, bad input (4xx, nothing written), roles."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from modules.stock.models import CollectionLine, CollectionRound, Move, Shipment
from tests.conftest import fresh, login
from tests.stock.ops_store import OpsStore


@pytest.fixture
def shop(db, people, now):
    store = OpsStore(db, people, now)
    store.jack_lot = store.lot(store.jack, "VJ-1")
    store.put(store.jack, store.jack_lot, 8, "B-02-01-1")
    store.put(store.jack, store.jack_lot, 5, "L1", reason="pick")
    db.commit()
    return store


def _count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_apprentice_ships_finished_goods_step_by_step(client, db, people, shop):
    login(client, "appr", "clef-atelier-2026")
    created = client.post("/stock/shipments", data={"order_ref": "CMD-7781", "sku": "VER-50", "qty": "6",
                                                    "customer": "Hydrauliq SA"})
    assert created.status_code == 302
    url = created.headers["Location"]
    shipment_id = int(url.rstrip("/").split("/")[-1])
    for step, data in [("prepare", {}), ("check", {"sku": "VER-50", "qty": "6"}), ("load", {}),
                       ("depart", {"carrier": "Transports Martin", "truck": "AB-123-CD"})]:
        response = client.post(f"/stock/shipments/{shipment_id}/{step}", data=data)
        assert response.status_code == 302, (step, response.get_data(as_text=True)[:500])
    page = client.get(url)
    assert page.status_code == 200 and "CMD-7781" in page.get_data(as_text=True)
    fresh(db)
    shipment = db.get(Shipment, shipment_id)
    assert shipment.status == "shipped" and shipment.carrier.name == "Transports Martin"
    assert shop.qty(shop.jack, shop.jack_lot, "B-02-01-1") == Decimal(2)
    assert shop.qty(shop.jack, shop.jack_lot, "EXP-01") == Decimal(0)  # left with the truck


def test_bad_shipping_input_is_refused_and_writes_nothing(client, db, people, shop):
    login(client, "appr", "clef-atelier-2026")
    bad_qty = client.post("/stock/shipments", data={"order_ref": "CMD-1", "sku": "VER-50", "qty": "beaucoup",
                                                    "customer": "Client"})
    assert bad_qty.status_code == 422 and "quantité" in bad_qty.get_data(as_text=True).lower()
    unknown = client.post("/stock/shipments", data={"order_ref": "CMD-1", "sku": "NOPE-1", "qty": "1",
                                                    "customer": "Client"})
    assert unknown.status_code == 422 and "NOPE-1" in unknown.get_data(as_text=True)
    fresh(db)
    assert _count(db, Shipment) == 0

    created = client.post("/stock/shipments", data={"order_ref": "CMD-2", "sku": "VER-50", "qty": "2",
                                                    "customer": "Client"})
    shipment_id = int(created.headers["Location"].rstrip("/").split("/")[-1])
    assert client.post(f"/stock/shipments/{shipment_id}/prepare").status_code == 302
    wrong_item = client.post(f"/stock/shipments/{shipment_id}/check", data={"sku": "VIS-M8", "qty": "2"})
    assert wrong_item.status_code == 422 and "ne le chargez pas" in wrong_item.get_data(as_text=True)
    skipped = client.post(f"/stock/shipments/{shipment_id}/load")  # not checked yet
    assert skipped.status_code == 409
    not_loaded = client.post(f"/stock/shipments/{shipment_id}/depart", data={"carrier": "Transports Martin"})
    assert not_loaded.status_code == 409
    fresh(db)
    shipment = db.get(Shipment, shipment_id)
    assert shipment.status == "prepared" and all(line.checked_qty in (None, 0) for line in shipment.lines)


def test_only_apprentices_run_shipments_and_the_tutor_sees_them(client, db, people, shop):
    login(client, "tutor", "clef-formateur-2026")
    assert client.post("/stock/shipments", data={"order_ref": "CMD-9", "sku": "VER-50", "qty": "1",
                                                 "customer": "X"}).status_code == 403
    assert client.get("/stock/shipments").status_code == 200
    fresh(db)
    assert _count(db, Shipment) == 0


def test_apprentice_collects_from_the_line_and_closes_the_round(client, db, people, shop):
    login(client, "appr", "clef-atelier-2026")
    created = client.post("/stock/rounds")
    assert created.status_code == 302
    round_id = int(created.headers["Location"].rstrip("/").split("/")[-1])
    refused_close = client.post(f"/stock/rounds/{round_id}/close")
    assert refused_close.status_code == 422 and "rien collecté" in refused_close.get_data(as_text=True)
    collected = client.post(f"/stock/rounds/{round_id}/lines", data={
        "kind": "finished", "from": "L1", "to": "B-02-01-1", "sku": "VER-50", "lot": "", "qty": "3"})
    assert collected.status_code == 302, collected.get_data(as_text=True)[:500]
    assert client.post(f"/stock/rounds/{round_id}/close").status_code == 302
    assert client.get(f"/stock/rounds/{round_id}").status_code == 200
    fresh(db)
    assert shop.qty(shop.jack, shop.jack_lot, "L1") == Decimal(2)
    assert shop.qty(shop.jack, shop.jack_lot, "B-02-01-1") == Decimal(11)
    assert db.get(CollectionRound, round_id).closed_at is not None
    late = client.post(f"/stock/rounds/{round_id}/lines", data={
        "kind": "finished", "from": "L1", "to": "B-02-01-1", "sku": "VER-50", "qty": "1"})
    assert late.status_code == 409  # closed


def test_bad_round_input_is_refused_and_moves_nothing(client, db, people, shop):
    login(client, "appr", "clef-atelier-2026")
    round_id = int(client.post("/stock/rounds").headers["Location"].rstrip("/").split("/")[-1])
    moves_before = _count(db, Move)
    for data, field_text in [
        ({"kind": "finished", "from": "L1", "to": "DECH", "sku": "VER-50", "qty": "1"}, "destination"),
        ({"kind": "finished", "from": "B-02-01-1", "to": "A-01-01-1", "sku": "VER-50", "qty": "1"}, "bord de ligne"),
        ({"kind": "finished", "from": "L1", "to": "B-02-01-1", "sku": "VER-50", "qty": "-2"}, "qty"),
        ({"kind": "finished", "from": "L1", "to": "B-02-01-1", "sku": "VER-50", "qty": "50"}, "insuffisant"),
        ({"kind": "treasure", "from": "L1", "to": "B-02-01-1", "sku": "VER-50", "qty": "1"}, "kind"),
    ]:
        response = client.post(f"/stock/rounds/{round_id}/lines", data=data)
        assert response.status_code in (409, 422), data
        assert field_text.lower() in response.get_data(as_text=True).lower(), (data, response.get_data(as_text=True))
    fresh(db)
    assert _count(db, Move) == moves_before and _count(db, CollectionLine) == 0
    assert shop.qty(shop.jack, shop.jack_lot, "L1") == Decimal(5)


def test_someone_else_cannot_complete_my_round(client, db, people, shop):
    login(client, "appr", "clef-atelier-2026")
    round_id = int(client.post("/stock/rounds").headers["Location"].rstrip("/").split("/")[-1])
    client.get("/logout")
    login(client, "tutor", "clef-formateur-2026")
    assert client.get(f"/stock/rounds/{round_id}").status_code == 200  # the tutor follows it
    assert client.post(f"/stock/rounds/{round_id}/lines", data={
        "kind": "finished", "from": "L1", "to": "B-02-01-1", "sku": "VER-50", "qty": "1"}).status_code == 403
    assert client.post("/stock/rounds").status_code == 403
