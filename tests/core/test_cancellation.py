"""An activity with effects is cancelled, never deleted: its effects are reversed, its history stays.

Every kind of activity that changes something outside itself (receptions, pick lists, counts,
shipments, non-conformity containment, spare parts of an intervention, action plans) is tried:
deleting it answers 409, cancelling it leaves balances = Σ moves and no reservation without an
open pick line. A draft with no effects is still deleted; ids are never reused."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from modules.improvement import actions as improvement
from modules.improvement.models import Action
from modules.maintenance.models import WorkOrder
from modules.qse import inputs as qse_inputs, nonconformities as ncs
from modules.stock import counts, inputs as stock_inputs, ledger, picking, reception as receiving, shipping
from modules.stock.models import Balance, Move, PickList
from shopfloor.errors import Conflict
from shopfloor.evidence.models import Activity, Evidence
from shopfloor.referential.models import Competence
from tests.conftest import fresh, login
from tests.stock.ops_store import OpsStore
from tests.stock.test_ledger import _check_invariants

API = "/api/v1"
REASON = {"reason": "Saisie en double : le même bon de livraison était déjà reçu."}


@pytest.fixture
def shop(db, people, now):
    store = OpsStore(db, people, now)
    db.commit()
    return store


def books_are_right(db):
    """balances = Σ moves and reserved = the open pick lines, for every item."""
    fresh(db)
    for item_id in db.scalars(select(Balance.item_id).distinct()):
        _check_invariants(db, item_id)
    db.rollback()


def stock(db, item, code=None) -> Decimal:
    fresh(db)
    query = select(func.coalesce(func.sum(Balance.qty), 0)).where(Balance.item_id == item.id)
    if code is not None:
        query = query.join(Balance.location).where(text("stock_location.code = :code")).params(code=code)
    value = Decimal(db.scalar(query))
    db.rollback()
    return value


def reserved(db, item) -> Decimal:
    fresh(db)
    value = Decimal(db.scalar(select(func.coalesce(func.sum(Balance.reserved), 0)).where(Balance.item_id == item.id)))
    db.rollback()
    return value


def refuses_deletion_then_cancels(client, people, activity_id, user=None):
    """DELETE → 409 naming the cancellation; POST …/cancel → 200 with who and why."""
    headers = people.headers(user or people.apprentice)
    deleted = client.delete(f"{API}/activities/{activity_id}", headers=headers)
    assert deleted.status_code == 409, deleted.json
    assert "Annulez-la" in deleted.json["error"]["message"]
    cancelled = client.post(f"{API}/activities/{activity_id}/cancel", json=REASON, headers=headers)
    assert cancelled.status_code == 200, cancelled.json
    assert cancelled.json["cancelled"]["reason"] == REASON["reason"]
    assert cancelled.json["cancelled"]["by"] == (user or people.apprentice).username
    return cancelled.json


def receive(db, shop, people, qty, location="QUAI-01", **extra):
    rec = receiving.receive(db, people.apprentice, supplier=shop.supplier, delivery_note=f"BL-{qty}-{location}",
                            now=shop.now, lines=[receiving.LineInput(sku="VIS-M8", qty=Decimal(qty),
                                                                     location=location, **extra)])
    db.commit()
    return rec


# -- Stock ------------------------------------------------------------------------------

def test_a_received_and_put_away_reception_is_cancelled_by_reversing_moves(client, db, people, shop, now):
    rec = receive(db, shop, people, 7)
    receiving.put_away(db, people.apprentice, rec.lines[0], "A-01-02-2", now)
    db.commit()
    rec_id = rec.id
    assert stock(db, shop.screw, "A-01-02-2") == 7

    headers = people.headers(people.apprentice)
    for reason in ("  ", None, 12, "x" * 501, "nul\x00"):
        missing = client.post(f"{API}/activities/{rec_id}/cancel", json={"reason": reason}, headers=headers)
        assert missing.status_code in (400, 422) and missing.json["error"]["field"] == "reason", reason
    fresh(db)
    assert db.get(Activity, rec_id).activity_cancelled_at is None      # nothing written
    db.rollback()

    refuses_deletion_then_cancels(client, people, rec_id)
    assert stock(db, shop.screw) == 0
    books_are_right(db)
    fresh(db)
    moves = list(db.scalars(select(Move).where(Move.activity_id == rec_id).order_by(Move.id)))
    # the history stays readable: the reception, the put-away, then their reversals, latest first
    assert [m.reason for m in moves] == ["reception", "putaway", "cancel", "cancel"]
    assert f"n° {moves[1].id}" in moves[2].note and f"n° {moves[0].id}" in moves[3].note
    db.rollback()

    login(client, "appr", "clef-atelier-2026")
    page = client.get(f"/activities/{rec_id}")
    assert page.status_code == 200
    assert "Annulée le" in page.text and REASON["reason"] in page.text and "Alice Apprentie" in page.text

    again = client.post(f"{API}/activities/{rec_id}/cancel", json=REASON, headers=headers)
    assert again.status_code == 409 and "annulée" in again.json["error"]["message"]
    assert client.delete(f"{API}/activities/{rec_id}", headers=headers).status_code == 409
    assert stock(db, shop.screw) == 0


def test_an_allocated_pick_list_gives_its_reservations_back(client, db, people, shop, now):
    receive(db, shop, people, 5, location="A-01-02-2")
    pick = picking.allocate(db, people.apprentice, requests=[(shop.screw, Decimal(2))],
                            destination=shop.loc["L1"], now=now)
    db.commit()
    assert reserved(db, shop.screw) == 2
    refuses_deletion_then_cancels(client, people, pick.id)
    assert reserved(db, shop.screw) == 0 and stock(db, shop.screw, "A-01-02-2") == 5
    fresh(db)
    assert db.get(PickList, pick.id).status == "cancelled"
    db.rollback()
    books_are_right(db)


def test_a_confirmed_pick_list_puts_the_stock_back_where_it_was_taken(client, db, people, shop, now):
    receive(db, shop, people, 5, location="A-01-02-2")
    pick = picking.allocate(db, people.apprentice, requests=[(shop.screw, Decimal(3))],
                            destination=shop.loc["L1"], now=now)
    picking.confirm_all(db, people.apprentice, pick, now)
    db.commit()
    assert stock(db, shop.screw, "L1") == 3
    refuses_deletion_then_cancels(client, people, pick.id)
    assert stock(db, shop.screw, "L1") == 0 and stock(db, shop.screw, "A-01-02-2") == 5
    books_are_right(db)


def test_a_validated_count_has_its_adjustments_reversed(client, db, people, shop, now):
    receive(db, shop, people, 10, location="A-01-02-2")
    count = counts.create_count(db, people.apprentice, scope="rack", value="A-01-02", now=now,
                                threshold_pct=None, threshold_value=None)
    counts.record_line(db, people.apprentice, count, location_code="A-01-02-2", sku="VIS-M8", lot_number=None,
                       counted_qty=Decimal("8"), now=now)
    counts.validate_count(db, people.tutor, count, now)
    db.commit()
    assert stock(db, shop.screw, "A-01-02-2") == 8
    refuses_deletion_then_cancels(client, people, count.id)
    assert stock(db, shop.screw, "A-01-02-2") == 10
    books_are_right(db)


def test_a_prepared_shipment_puts_its_goods_back_in_storage(client, db, people, shop, now):
    receive(db, shop, people, 6, location="A-01-02-2")
    shipment = shipping.create_shipment(db, people.apprentice, stock_inputs.shipment(
        {"order_ref": "CMD-1", "lines": [{"sku": "VIS-M8", "qty": "4", "customer": "Atelier B"}]}), now)
    shipping.prepare(db, people.apprentice, shipment, now)
    db.commit()
    assert stock(db, shop.screw, "EXP-01") == 4
    refuses_deletion_then_cancels(client, people, shipment.id)
    assert stock(db, shop.screw, "EXP-01") == 0 and stock(db, shop.screw, "A-01-02-2") == 6
    books_are_right(db)


def test_a_shipped_shipment_comes_back_to_storage(client, db, people, shop, now):
    receive(db, shop, people, 5, location="A-01-02-2")
    shipment = shipping.create_shipment(db, people.apprentice, stock_inputs.shipment(
        {"order_ref": "CMD-2", "lines": [{"sku": "VIS-M8", "qty": "2", "customer": "Client C"}]}), now)
    shipping.prepare(db, people.apprentice, shipment, now)
    shipping.check_line(db, people.apprentice, shipment, sku="VIS-M8", qty=Decimal("2"), now=now)
    shipping.load(db, people.apprentice, shipment, now)
    shipping.depart(db, people.apprentice, shipment, carrier="Transports Martin", truck="AB-123-CD", departed_at=None,
                    now=now)
    db.commit()
    assert stock(db, shop.screw) == 3
    refuses_deletion_then_cancels(client, people, shipment.id)
    assert stock(db, shop.screw, "A-01-02-2") == 5 and stock(db, shop.screw) == 5
    books_are_right(db)


def test_a_collection_round_puts_the_line_side_stock_back(client, db, people, shop, now):
    from modules.stock import rounds
    receive(db, shop, people, 4, location="L1")
    collection = rounds.create_round(db, people.apprentice, now)
    rounds.collect(db, people.apprentice, collection, kind="finished", from_code="L1", to_code="A-01-02-2",
                   sku="VIS-M8", lot_number=None, qty=Decimal("3"), now=now)
    db.commit()
    assert stock(db, shop.screw, "L1") == 1
    refuses_deletion_then_cancels(client, people, collection.id)
    assert stock(db, shop.screw, "L1") == 4 and stock(db, shop.screw, "A-01-02-2") == 0
    books_are_right(db)


def test_a_purchase_request_gives_its_proposal_back(client, db, people, shop, now):
    from modules.stock import replenishment
    from modules.stock.models import PurchaseProposal
    proposal = PurchaseProposal(item_id=shop.screw.id, status="open", position_qty=Decimal(0),
                                reorder_point=Decimal(10), suggested_qty=Decimal(50), created_at=now)
    db.add(proposal)
    db.flush()
    request = replenishment.create_purchase_request(db, people.apprentice, now=now, qty=Decimal(50),
                                                    due_date=(now + timedelta(days=7)).date(), proposal=proposal)
    db.commit()
    refuses_deletion_then_cancels(client, people, request.id)
    fresh(db)
    assert db.get(PurchaseProposal, proposal.id).status == "open"
    assert db.get(Activity, request.id).status == "cancelled"


def test_a_reception_with_a_refused_line_nets_to_nothing(client, db, people, shop, now):
    rec = receive(db, shop, people, 3, decision="return", reason="Cartons écrasés")
    refuses_deletion_then_cancels(client, people, rec.id)
    assert stock(db, shop.screw) == 0
    books_are_right(db)


# -- QSE, maintenance, improvement ---------------------------------------------------------

def test_a_contained_nonconformity_takes_its_lots_out_of_quarantine(client, db, people, shop, now):
    lot = shop.lot(shop.glue, "G-77", expiry=(now + timedelta(days=90)).date())
    shop.put(shop.glue, lot, 4, "A-01-02-2")
    nc = ncs.create_nonconformity(db, people.apprentice, qse_inputs.nonconformity({
        "title": "Colle qui ne prend pas", "source": "internal", "severity": "major",
        "description": "Le lot G-77 ne polymérise pas.", "lots": ["COL-100:G-77"]}, now), now)
    ncs.contain(db, people.apprentice, nc, now)
    db.commit()
    assert stock(db, shop.glue, "QUAR-01") == 4
    refuses_deletion_then_cancels(client, people, nc.id)
    assert stock(db, shop.glue, "QUAR-01") == 0 and stock(db, shop.glue, "A-01-02-2") == 4
    books_are_right(db)


def test_an_intervention_cancels_the_spare_parts_it_took(client, db, people, shop, now):
    lot = shop.lot(shop.jack, "V-1")
    shop.put(shop.jack, lot, 2, "A-01-01-1")
    db.commit()
    headers = people.headers(people.apprentice)
    assert client.post(f"{API}/maintenance/equipment", json={"code": "BANC-01", "name": "Banc pneumatique",
                                                             "energies": ["pneumatique"]},
                       headers=people.headers(people.tutor)).status_code == 201
    wo_id = client.post(f"{API}/maintenance/work-orders", json={"equipment": "BANC-01", "symptom": "Vérin fuit"},
                        headers=headers).json["id"]
    client.post(f"{API}/maintenance/work-orders/{wo_id}/lockout", json={"steps": [
        {"energy": "pneumatique", "step": s} for s in ("separate", "lock", "tag", "purge", "verify")]},
        headers=headers)
    assert client.post(f"{API}/maintenance/work-orders/{wo_id}/start", headers=headers).status_code == 200
    parts = client.post(f"{API}/maintenance/work-orders/{wo_id}/parts",
                        json={"sku": "VER-50", "qty": 1, "destination": "L1"}, headers=headers)
    assert parts.status_code == 200 and parts.json["picked"] is True
    assert stock(db, shop.jack, "L1") == 1
    fresh(db)
    intervention_id = db.get(WorkOrder, wo_id).intervention_id
    db.rollback()

    refuses_deletion_then_cancels(client, people, intervention_id)
    assert stock(db, shop.jack, "L1") == 0 and stock(db, shop.jack, "A-01-01-1") == 2
    fresh(db)
    pick = db.get(Activity, parts.json["work_order"]["parts"][0]["pick_id"])
    assert pick.activity_cancelled_at is not None and pick.cancel_reason == REASON["reason"]
    # the open work order goes back to the queue: the next technician locks out again
    wo = db.get(WorkOrder, wo_id)
    assert wo.intervention_id is None and wo.status == "requested" and wo.lockout == [] and wo.parts == []
    db.rollback()
    books_are_right(db)


def test_an_intervention_withdraws_the_follow_up_work_order_it_opened(client, db, people, now):
    from modules.maintenance import schedule, workorders
    from tests.maintenance.test_work_orders import _equipment, _lock_all

    _equipment(client, people)
    plan = client.post(f"{API}/maintenance/plans", json={
        "equipment": "CMP-01", "kind": "calendar", "interval_days": 30, "start": now.isoformat(),
        "operations": [{"label": "Pression de service", "expected": 7, "tolerance": 0.5, "unit": "bar"}]},
        headers=people.headers(people.tutor))
    assert plan.status_code == 201, plan.json
    schedule.run(db, now)
    db.commit()
    wo_id = db.scalar(select(WorkOrder.id).where(WorkOrder.plan_id == plan.json["id"]))
    headers = people.headers(people.apprentice)
    _lock_all(client, people, wo_id)
    assert client.post(f"{API}/maintenance/work-orders/{wo_id}/start", headers=headers).status_code == 200
    client.post(f"{API}/maintenance/work-orders/{wo_id}/results", json={"values": {"0": "6,2"}}, headers=headers)
    assert client.post(f"{API}/maintenance/work-orders/{wo_id}/finish", headers=headers,
                       json={"report": "Pression basse", "lockout_removed": True}).json["status"] == "done"
    fresh(db)
    follow = workorders.propose_corrective(db, people.apprentice, db.get(WorkOrder, wo_id), now)
    db.commit()
    follow_id, intervention_id = follow.id, db.get(WorkOrder, wo_id).intervention_id

    refuses_deletion_then_cancels(client, people, intervention_id)
    fresh(db)
    assert db.get(WorkOrder, follow_id) is None
    done = db.get(WorkOrder, wo_id)   # the work done keeps its history
    assert done.status == "done" and done.intervention_id == intervention_id and len(done.results) == 1


def test_an_action_plan_abandons_its_open_actions(client, db, people, now):
    plan = improvement.create_plan(db, people.apprentice, title="Réduire les arrêts", objective="-20 % d'arrêts",
                                   scope="Ligne 1", now=now)
    for title in ("Former l'équipe", "Afficher le standard"):
        improvement.create_action(db, people.apprentice,
                                  improvement.NewAction(title=title, deliverable="Fait",
                                                        due=(now + timedelta(days=10)).date()), owner=people.apprentice,
                                  now=now, plan_id=plan.id)
    db.commit()
    refuses_deletion_then_cancels(client, people, plan.id)
    fresh(db)
    actions = list(db.scalars(select(Action).where(Action.plan_id == plan.id)))
    assert {a.status for a in actions} == {"abandoned"}
    assert all(REASON["reason"] in a.abandon_reason for a in actions)


def test_a_meeting_answers_its_open_escalations(client, db, people, now):
    from dashboards import meetings
    from dashboards.models import Escalation
    from tests.dashboards.conftest import Org

    org = Org(db, people)
    workshop = org.board(people.tutor, name="Atelier", level=2, team=None)
    team = org.board(people.tutor, parent_id=workshop.id)
    meeting = meetings.create_meeting(db, people.apprentice, team, performed_at=now - timedelta(hours=1), now=now,
                                      participants=["Alice Apprentie"], reviewed=["aic.safety"], led=True)
    problem = meetings.add_problem(db, people.apprentice, meeting, title="Fournisseur en retard", letter="D",
                                   category="Retard fournisseur", treatment="none", now=now)
    escalation = meetings.escalate(db, people.apprentice, problem, reason="Relance achats", now=now)
    db.commit()
    refuses_deletion_then_cancels(client, people, meeting.id)
    fresh(db)
    answered = db.get(Escalation, escalation.id)
    assert answered.answered_at is not None and REASON["reason"] in answered.answer


def test_a_reception_a_nonconformity_was_opened_from_keeps_it(client, db, people, shop, now):
    rec = receive(db, shop, people, 2, packaging_ok=False)
    reception, draft = ncs.reception_draft(db, rec.id)
    nc = ncs.create_nonconformity(db, people.apprentice, qse_inputs.nonconformity({}, now, draft), now, reception=reception)
    db.commit()
    deleted = client.delete(f"{API}/activities/{rec.id}", headers=people.headers(people.apprentice))
    assert deleted.status_code == 409 and f"n° {nc.id}" in deleted.json["error"]["message"]
    refuses_deletion_then_cancels(client, people, rec.id)
    fresh(db)
    assert db.get(Activity, nc.id).activity_cancelled_at is None
    db.rollback()
    books_are_right(db)


# -- Deletion, edits, the freeze ------------------------------------------------------------

def _generic(client, people, title="Réglage de la presse"):
    response = client.post(f"{API}/activities", json={"title": title, "performed_at": "2026-11-19T10:00:00Z"},
                           headers=people.headers(people.apprentice))
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_a_draft_without_effects_is_still_deleted(client, db, people):
    activity_id = _generic(client, people)
    headers = people.headers(people.apprentice)
    link = client.post(f"{API}/evidence", json={"activity_id": activity_id, "competence": "LOG-1",
                                                "statement": "J'ai réglé la presse."}, headers=headers)
    assert link.status_code == 201
    deleted = client.delete(f"{API}/activities/{activity_id}", headers=headers)
    assert deleted.status_code == 200 and deleted.json == {"deleted": activity_id}
    fresh(db)
    assert db.get(Activity, activity_id) is None
    assert db.scalar(select(func.count()).select_from(Evidence).where(Evidence.activity_id == activity_id)) == 0


def test_only_the_author_cancels(client, people, db, shop, now):
    rec = receive(db, shop, people, 2)
    response = client.post(f"{API}/activities/{rec.id}/cancel", json=REASON, headers=people.headers(people.tutor))
    assert response.status_code == 403
    assert stock(db, shop.screw) == 2


def test_a_cancelled_activity_refuses_edits_and_cannot_become_evidence(client, db, people, shop, now):
    headers = people.headers(people.apprentice)
    activity_id = _generic(client, people)
    draft = client.post(f"{API}/evidence", json={"activity_id": activity_id, "competence": "LOG-1",
                                                 "statement": "J'ai réglé la presse seule."}, headers=headers).json
    assert client.post(f"{API}/evidence/{draft['id']}/submit", headers=headers).status_code == 200
    assert client.post(f"{API}/activities/{activity_id}/cancel", json=REASON, headers=headers).status_code == 200
    # what waited for the tutor goes back to draft, and the tutor cannot validate it
    withdrawn = client.get(f"{API}/evidence/{draft['id']}", headers=headers).json
    assert withdrawn["state"] == "draft"
    queue = client.get(f"{API}/reviews", headers=people.headers(people.tutor)).json
    assert draft["id"] not in [e["id"] for e in queue]

    edit = client.patch(f"{API}/activities/{activity_id}", json={"title": "Autre titre"}, headers=headers)
    assert edit.status_code == 409 and "annulée" in edit.json["error"]["message"]
    submit = client.post(f"{API}/evidence/{draft['id']}/submit", headers=headers)
    assert submit.status_code == 409 and "annulée" in submit.json["error"]["message"]
    link = client.post(f"{API}/evidence", json={"activity_id": activity_id, "competence": "LOG-2",
                                                "statement": "Inventaire."}, headers=headers)
    assert link.status_code == 409
    attach = client.post(f"{API}/activities/{activity_id}/attachments", headers=headers,
                         data={"file": (__import__("io").BytesIO(b"%PDF-1.4 test"), "bon.pdf")})
    assert attach.status_code == 409
    login(client, "appr", "clef-atelier-2026")
    assert client.post(f"/activities/{activity_id}/delete").status_code == 409
    fresh(db)
    assert db.get(Activity, activity_id).title == "Réglage de la presse"

    # a module's own write path is refused too: a new action in a cancelled action plan
    plan = improvement.create_plan(db, people.apprentice, title="Plan", objective="Objectif", scope="", now=now)
    db.commit()
    assert client.post(f"{API}/activities/{plan.id}/cancel", json=REASON, headers=headers).status_code == 200
    fresh(db)
    with pytest.raises(Conflict) as refused:
        improvement.create_action(db, people.apprentice,
                                  improvement.NewAction(title="Encore une", deliverable="Fait",
                                                        due=(now + timedelta(days=5)).date()), owner=people.apprentice,
                                  now=now, plan_id=plan.id)
        db.flush()
    assert "annulée" in refused.value.message
    db.rollback()


def test_a_cancellation_cannot_be_undone_by_writing_the_row(client, db, people):
    """The flush guard reads the cancellation from the database, not from the row in memory."""
    activity_id = _generic(client, people)
    headers = people.headers(people.apprentice)
    assert client.post(f"{API}/activities/{activity_id}/cancel", json=REASON, headers=headers).status_code == 200
    fresh(db)
    activity = db.get(Activity, activity_id)
    activity.activity_cancelled_at, activity.title = None, "Jamais annulée"
    with pytest.raises(Conflict) as refused:
        db.flush()
    assert f"Activité {activity_id} annulée (Annulée le " in refused.value.message
    db.rollback()
    assert db.get(Activity, activity_id).activity_cancelled_at is not None


def test_a_validated_activity_can_be_neither_deleted_nor_cancelled(client, db, people, shop, now):
    rec = receive(db, shop, people, 5)
    headers = people.headers(people.apprentice)
    evidence = client.post(f"{API}/evidence", json={"activity_id": rec.id, "competence": "LOG-1",
                                                    "statement": "J'ai reçu la livraison et contrôlé le BL."},
                           headers=headers).json
    assert client.post(f"{API}/evidence/{evidence['id']}/submit", headers=headers).status_code == 200
    criterion = db.scalar(select(Competence).where(Competence.code == "LOG-1")).criteria[0].id
    review = client.post(f"{API}/evidence/{evidence['id']}/review", headers=people.headers(people.tutor),
                         json={"decision": "validate", "criteria": [criterion], "comment": "Bien."})
    assert review.status_code == 200, review.json
    for response in (client.delete(f"{API}/activities/{rec.id}", headers=headers),
                     client.post(f"{API}/activities/{rec.id}/cancel", json=REASON, headers=headers)):
        assert response.status_code == 409 and "LOG-1" in response.json["error"]["message"]
    assert stock(db, shop.screw) == 5
    fresh(db)
    assert db.get(Activity, rec.id).activity_cancelled_at is None


def test_the_page_offers_cancellation_with_a_reason_for_an_activity_with_effects(client, db, people, shop, now):
    rec = receive(db, shop, people, 3)
    login(client, "appr", "clef-atelier-2026")
    page = client.get(f"/activities/{rec.id}")
    assert "Annuler l'activité" in page.text and "Supprimer l'activité" not in page.text
    refused = client.post(f"/activities/{rec.id}/cancel", data={"reason": ""})
    assert refused.status_code == 422
    done = client.post(f"/activities/{rec.id}/cancel", data={"reason": "Erreur de BL"}, follow_redirects=True)
    assert done.status_code == 200 and "Annulée le" in done.text and "Erreur de BL" in done.text
    assert "Annuler l'activité" not in done.text.split("Annulée le")[1]
    assert stock(db, shop.screw) == 0

    draft = _generic(client, people)
    page = client.get(f"/activities/{draft}")
    assert "Supprimer l'activité" in page.text and "Annuler l'activité" not in page.text


# -- Ids are never reused -----------------------------------------------------------------

def _ids_not_reused(client, db, people):
    headers = people.headers(people.apprentice)
    first, last = _generic(client, people, "Premier"), _generic(client, people, "Dernier")
    assert client.delete(f"{API}/activities/{last}", headers=headers).status_code == 200
    again = _generic(client, people, "Suivant")
    assert again > last > first
    # evidence withdrawn and linked again: a new id, so an old link never opens another record
    link = client.post(f"{API}/evidence", json={"activity_id": again, "competence": "LOG-1"}, headers=headers).json
    assert client.delete(f"{API}/evidence/{link['id']}", headers=headers).status_code == 200
    relinked = client.post(f"{API}/evidence", json={"activity_id": again, "competence": "LOG-1"}, headers=headers)
    assert relinked.json["id"] > link["id"]


def test_ids_are_not_reused_on_a_database_built_by_create_all(client, db, people):
    _ids_not_reused(client, db, people)


def test_ids_are_not_reused_on_a_database_built_by_the_migrations(empty_database_url, tmp_path):
    from shopfloor.app import create_app
    from shopfloor.migrate import upgrade
    from shopfloor.referential.services import load_referential
    from tests.conftest import People

    upgrade(empty_database_url)
    application = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": empty_database_url,
                              "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False, "TESTING": True})
    session = application.extensions["shopfloor_sessions"].open(write=True)
    try:
        load_referential(session)
        session.commit()
        _ids_not_reused(application.test_client(), session, People(session))
    finally:
        session.rollback()
        session.close()
        application.extensions["shopfloor_sessions"].engine.dispose()


def test_the_migration_keeps_every_row_while_sqlite_tables_are_rebuilt(empty_database_url, backend):
    """Rows written under 0002 survive 0003 with their ids and children, and the foreign keys hold."""
    from alembic import command
    from sqlalchemy import create_engine
    from shopfloor.migrate import alembic_config, upgrade

    command.upgrade(alembic_config(empty_database_url), "0002")
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO core_user (id, username, full_name, role, password_hash, active, locale, "
                          "failed_logins, created_at) VALUES (1, 'u', 'U', 'apprentice', 'x', true, 'fr', 0, "
                          "'2026-11-01 08:00:00')"))
        for ident in (1, 2, 3):
            conn.execute(text("INSERT INTO core_activity (id, type, author_id, performed_at, title, description, "
                              "created_at, updated_at) VALUES (:id, 'generic', 1, '2026-11-01 08:00:00', 'A', '', "
                              "'2026-11-01 08:00:00', '2026-11-01 08:00:00')"), {"id": ident})
        conn.execute(text("INSERT INTO core_attachment (id, activity_id, filename, content_type, size, sha256, "
                          "stored_name, uploaded_by_id, created_at) VALUES (5, 3, 'a.pdf', 'application/pdf', 1, "
                          "'0', 's.pdf', 1, '2026-11-01 08:00:00')"))
        if backend == "postgresql":  # rows written with their ids: the sequence follows them
            conn.execute(text("SELECT setval(pg_get_serial_sequence('core_activity', 'id'), 3)"))
    engine.dispose()
    upgrade(empty_database_url)
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        assert [r[0] for r in conn.execute(text("SELECT id FROM core_activity ORDER BY id"))] == [1, 2, 3]
        assert conn.execute(text("SELECT activity_id FROM core_attachment WHERE id = 5")).scalar() == 3
        assert conn.execute(text("SELECT cancelled_at FROM core_activity WHERE id = 3")).scalar() is None
        if backend == "sqlite":
            assert conn.execute(text("PRAGMA foreign_key_check")).fetchall() == []
            sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'core_activity'")).scalar()
            assert "AUTOINCREMENT" in sql
        conn.execute(text("DELETE FROM core_attachment WHERE id = 5"))
        conn.execute(text("DELETE FROM core_activity WHERE id = 3"))
        conn.execute(text("INSERT INTO core_activity (type, author_id, performed_at, title, description, "
                          "created_at, updated_at) VALUES ('generic', 1, '2026-11-01 08:00:00', 'B', '', "
                          "'2026-11-01 08:00:00', '2026-11-01 08:00:00')"))
        assert conn.execute(text("SELECT max(id) FROM core_activity")).scalar() == 4
    engine.dispose()


# -- Races --------------------------------------------------------------------------------

def _together(app, calls):
    """Each call is its own request (own session, own transaction), released at the same moment."""
    import threading
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index):
        client = app.test_client()
        barrier.wait()
        results[index] = calls[index](client)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_two_cancellations_sent_together_reverse_once(app, client, db, people, shop, now, monkeypatch):
    rec = receive(db, shop, people, 7)
    receiving.put_away(db, people.apprentice, rec.lines[0], "A-01-02-2", now)
    db.commit()
    headers = people.headers(people.apprentice)
    real = ledger.lock_items

    def slow(*args):
        found = real(*args)
        __import__("time").sleep(0.3)   # both would reverse the moves, were the activity not locked first
        return found

    monkeypatch.setattr(ledger, "lock_items", slow)
    results = _together(app, [lambda c: c.post(f"{API}/activities/{rec.id}/cancel", json=REASON, headers=headers)] * 2)
    assert sorted(r.status_code for r in results) == [200, 409], [r.json for r in results]
    assert stock(db, shop.screw) == 0
    fresh(db)
    assert db.scalar(select(func.count()).select_from(Move).where(Move.activity_id == rec.id,
                                                                  Move.reason == "cancel")) == 2
    db.rollback()
    books_are_right(db)


def test_two_cancellations_of_an_activity_without_effects_record_one(app, client, db, people, monkeypatch):
    from shopfloor.evidence.cancellation import Cancellation
    activity_id = _generic(client, people)
    headers = people.headers(people.apprentice)
    real = Cancellation._withdraw_submitted

    def slow(self, activity):
        __import__("time").sleep(0.3)   # both would record a cancellation, were the activity not locked and re-read
        return real(self, activity)

    monkeypatch.setattr(Cancellation, "_withdraw_submitted", slow)
    results = _together(app, [
        lambda c: c.post(f"{API}/activities/{activity_id}/cancel", json={"reason": "Première"}, headers=headers),
        lambda c: c.post(f"{API}/activities/{activity_id}/cancel", json={"reason": "Seconde"}, headers=headers)])
    assert sorted(r.status_code for r in results) == [200, 409], [r.json for r in results]
    winner = next(r for r in results if r.status_code == 200).json["cancelled"]["reason"]
    fresh(db)
    assert db.get(Activity, activity_id).cancel_reason == winner


def test_a_cancellation_racing_a_pick_confirmation_leaves_the_books_right(app, db, people, shop, now):
    receive(db, shop, people, 5, location="A-01-02-2")
    pick = picking.allocate(db, people.apprentice, requests=[(shop.screw, Decimal(2))],
                            destination=shop.loc["L1"], now=now)
    db.commit()
    headers = people.headers(people.apprentice)
    results = _together(app, [
        lambda c: c.post(f"{API}/activities/{pick.id}/cancel", json=REASON, headers=headers),
        lambda c: c.post(f"{API}/stock/picks/{pick.id}/confirm", headers=headers)])
    cancelled, confirmed = results
    assert cancelled.status_code == 200, cancelled.json
    assert confirmed.status_code in (200, 409), confirmed.json
    # whichever came first, the cancellation undid it: nothing at the line, nothing held
    assert stock(db, shop.screw, "L1") == 0 and stock(db, shop.screw, "A-01-02-2") == 5
    assert reserved(db, shop.screw) == 0
    books_are_right(db)
