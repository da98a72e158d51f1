"""Spare parts through the stock module: a pick that moves stock, a shortage that proposes a purchase."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from modules.stock.models import PurchaseProposal
from tests.conftest import fresh
from tests.stock.ops_store import OpsStore

API = "/api/v1/maintenance"


def test_parts_are_picked_from_the_store_and_a_shortage_proposes_a_purchase(client, db, people, now):
    store = OpsStore(db, people, now)
    lot = store.lot(store.jack, "L-1")
    store.put(store.jack, lot, 2, "A-01-01-1")
    db.commit()
    headers = people.headers(people.apprentice)
    assert client.post(f"{API}/equipment", json={"code": "BANC-01", "name": "Banc pneumatique",
                                                 "energies": ["pneumatique"]},
                       headers=people.headers(people.tutor)).status_code == 201
    wo_id = client.post(f"{API}/work-orders", json={"equipment": "BANC-01", "symptom": "Vérin fuit"},
                        headers=headers).json["id"]
    client.post(f"{API}/work-orders/{wo_id}/lockout", json={"steps": [
        {"energy": "pneumatique", "step": s} for s in ("separate", "lock", "tag", "purge", "verify")]}, headers=headers)
    client.post(f"{API}/work-orders/{wo_id}/start", headers=headers)

    bad = client.post(f"{API}/work-orders/{wo_id}/parts", json={"sku": "VER-50", "qty": 0, "destination": "L1"},
                      headers=headers)
    assert bad.status_code == 422 and bad.json["error"]["field"] == "qty"
    ok = client.post(f"{API}/work-orders/{wo_id}/parts", json={"sku": "VER-50", "qty": 1, "destination": "L1"},
                     headers=headers)
    assert ok.status_code == 200 and ok.json["picked"] is True
    assert ok.json["work_order"]["parts_cost"] == 85.0
    fresh(db)
    assert store.qty(store.jack, lot, "A-01-01-1") == Decimal(1)

    short = client.post(f"{API}/work-orders/{wo_id}/parts", json={"sku": "VER-50", "qty": 3, "destination": "L1"},
                        headers=headers)
    assert short.status_code == 200 and short.json["picked"] is False
    assert short.json["work_order"]["status"] == "on_hold" and "VER-50" in short.json["work_order"]["hold_reason"]
    fresh(db)
    proposal = db.scalar(select(PurchaseProposal).where(PurchaseProposal.item_id == store.jack.id))
    assert proposal.status == "open" and proposal.id == short.json["purchase_proposal"]
    assert store.qty(store.jack, lot, "A-01-01-1") == Decimal(1)     # nothing reserved or moved
    resumed = client.post(f"{API}/work-orders/{wo_id}/start", headers=headers)
    assert resumed.json["status"] == "in_progress"
