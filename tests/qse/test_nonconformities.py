"""Non-conformities: creation, containment (exactly the named lots to quarantine), closure rules, permissions."""
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from modules.improvement import services as improvement
from modules.qse import inputs, nonconformities as ncs
from modules.qse.models import NonConformity
from modules.stock import ledger
from modules.stock.models import Balance, Lot, Move, Supplier
from modules.stock.reception import LineInput, receive
from tests.conftest import fresh
from tests.qse.conftest import stock_of

NC = {"title": "Colle époxy : viscosité hors tolérance", "source": "production", "severity": "major",
      "description": "Lot trop visqueux, collage non conforme sur la ligne 1."}


def _glue_lots(store):
    store.receive("COL-100", 10, lot="EPX-A", expiry=store.day(90))
    store.receive("COL-100", 6, lot="EPX-A", expiry=store.day(90), location="B-02-01-1")
    store.receive("COL-100", 5, lot="EPX-B", expiry=store.day(95))


def test_create_via_api_and_refuse_bad_input_without_writing(client, db, people, store):
    _glue_lots(store)
    headers = people.headers(people.apprentice)
    answer = client.post("/api/v1/qse/nonconformities", json={**NC, "lots": ["EPX-A"]}, headers=headers)
    assert answer.status_code == 201
    assert answer.json["status"] == "open" and isinstance(answer.json["id"], int)
    for payload, field in [({**NC, "severity": "grave"}, "severity"), ({**NC, "source": ""}, "source"),
                           ({**NC, "lots": ["NOPE-1"]}, "lots"), ({**NC, "lots": "EPX-A"}, "lots"),
                           ({k: val for k, val in NC.items() if k != "description"}, "description")]:
        refused = client.post("/api/v1/qse/nonconformities", json=payload, headers=headers)
        assert refused.status_code == 422, payload
        assert refused.json["error"]["field"] == field
    fresh(db)
    assert db.scalar(select(func.count(NonConformity.id))) == 1
    assert client.post("/api/v1/qse/nonconformities", json=NC).status_code == 401


def test_containment_moves_exactly_the_named_lots_to_quarantine(client, db, people, store):
    _glue_lots(store)
    headers = people.headers(people.apprentice)
    nc_id = client.post("/api/v1/qse/nonconformities", json={**NC, "lots": ["COL-100:EPX-A"]},
                        headers=headers).json["id"]
    answer = client.post(f"/api/v1/qse/nonconformities/{nc_id}/contain", json={}, headers=headers)
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "contained"
    assert answer.json["lots"] == [{"lot": "EPX-A", "sku": "COL-100", "moved_to_quarantine": 16.0,
                                    "reserved_left": 0.0}]
    fresh(db)
    assert stock_of(db, "EPX-A") == {"QUAR-01": (16.0, 0.0)}
    assert stock_of(db, "EPX-B") == {"A-01-02-1": (5.0, 0.0)}          # not named: untouched
    moves = db.scalars(select(Move).where(Move.activity_id == nc_id)).all()
    assert sorted((m.from_location.code, m.to_location.code, float(m.qty), m.reason) for m in moves) == [
        ("A-01-02-1", "QUAR-01", 10.0, "quarantine"), ("B-02-01-1", "QUAR-01", 6.0, "quarantine")]
    again = client.post(f"/api/v1/qse/nonconformities/{nc_id}/contain", json={}, headers=headers)
    assert again.status_code == 409
    fresh(db)
    assert db.scalar(select(func.count(Move.id)).where(Move.activity_id == nc_id)) == 2


def test_containment_leaves_reserved_stock_and_reports_it(db, people, store, now):
    _glue_lots(store)
    row = db.scalar(select(Balance).join(Lot).where(Lot.number == "EPX-A", Balance.qty == 10))
    ledger.reserve(db, row, Decimal(4))           # promised to a pick list
    nc = ncs.create_nonconformity(db, people.apprentice, inputs.nonconformity({**NC, "lots": ["EPX-A"]}, now), now)
    ncs.contain(db, people.apprentice, nc, now)
    db.commit()
    assert stock_of(db, "EPX-A") == {"A-01-02-1": (4.0, 4.0), "QUAR-01": (12.0, 0.0)}
    assert (nc.lots[0].qty_moved, nc.lots[0].reserved_left) == (Decimal(12), Decimal(4))


def test_containment_without_lots_needs_an_immediate_action(client, people, store):
    headers = people.headers(people.apprentice)
    nc_id = client.post("/api/v1/qse/nonconformities", json=NC, headers=headers).json["id"]
    refused = client.post(f"/api/v1/qse/nonconformities/{nc_id}/contain", json={}, headers=headers)
    assert refused.status_code == 422 and refused.json["error"]["field"] == "immediate_action"
    done = client.post(f"/api/v1/qse/nonconformities/{nc_id}/contain",
                       json={"immediate_action": "Tri à 100 % des pièces en bord de ligne"}, headers=headers)
    assert done.status_code == 200 and done.json["immediate_action"].startswith("Tri à 100 %")


def test_closure_refused_while_action_open_or_effectiveness_missing(app, client, db, people, now):
    headers = people.headers(people.apprentice)
    nc_id = client.post("/api/v1/qse/nonconformities", json=NC, headers=headers).json["id"]
    close = f"/api/v1/qse/nonconformities/{nc_id}/close"
    refused = client.post(close, headers=headers)
    assert refused.status_code == 409
    message = refused.json["error"]["message"]
    assert "fiche problème" in message and "aucune action corrective" in message
    assert "efficacité n'est pas enregistrée" in message

    nc = db.get(NonConformity, nc_id)
    with app.app_context():   # the origins' links are built outside a request
        sheet = improvement.create_problem(db, people.apprentice,
                                           improvement.NewProblem(title="Analyse NC", method="8D"), now=now,
                                           origin=("qse_nonconformity", nc_id))
        action = improvement.add_problem_action(db, people.apprentice, sheet,
                                                improvement.NewAction(title="Contrôle viscosité à réception",
                                                                      deliverable="Mode opératoire",
                                                                      due=(now + timedelta(days=7)).date()),
                                                owner=people.apprentice, now=now)
    db.commit()
    answer = client.post(f"/api/v1/qse/nonconformities/{nc_id}/effectiveness",
                         json={"effectiveness": "Zéro rebut sur 3 lots suivants", "effective": True}, headers=headers)
    assert answer.status_code == 200
    refused = client.post(close, headers=headers)
    assert refused.status_code == 409
    assert "1 action(s) encore ouverte(s)" in refused.json["error"]["message"]
    assert "Contrôle viscosité" in refused.json["error"]["message"]

    fresh(db)
    improvement.update_action(db, people.apprentice, db.get(type(action), action.id), now, status="done")
    db.commit()
    closed = client.post(close, headers=headers)
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    fresh(db)
    assert db.get(NonConformity, nc_id).closed_at is not None
    assert nc.id == nc_id


def test_minor_nc_closes_with_effectiveness_only_but_not_when_ineffective(db, people, now):
    nc = ncs.create_nonconformity(db, people.apprentice, inputs.nonconformity({**NC, "severity": "minor"}, now), now)
    ncs.record_effectiveness(db, people.apprentice, nc, inputs.effectiveness({"effectiveness": "Défaut non revu", "effective": False}), now)
    assert ncs.closure_missing(db, nc) == [
        "l'efficacité est jugée insuffisante : planifiez de nouvelles actions puis vérifiez à nouveau"]
    ncs.record_effectiveness(db, people.apprentice, nc, inputs.effectiveness({"effectiveness": "Défaut non revu", "effective": True}), now)
    assert ncs.close(db, people.apprentice, nc, now).status == "closed"


def test_who_sees_and_changes_a_nonconformity(client, people):
    nc_id = client.post("/api/v1/qse/nonconformities", json={**NC, "severity": "minor"},
                        headers=people.headers(people.apprentice)).json["id"]
    url = f"/api/v1/qse/nonconformities/{nc_id}"
    assert client.get(url, headers=people.headers(people.other_apprentice)).status_code == 404   # as if missing
    assert client.get(url, headers=people.headers(people.other_tutor)).status_code == 404
    assert client.get(url, headers=people.headers(people.tutor)).status_code == 200
    assert client.get(url, headers=people.headers(people.admin)).status_code == 200
    assert client.post(url + "/contain", json={"immediate_action": "Blocage"},
                       headers=people.headers(people.other_tutor)).status_code == 404
    assert client.post(url + "/contain", json={"immediate_action": "Blocage"},
                       headers=people.headers(people.tutor)).status_code == 200
    listed = client.get("/api/v1/qse/nonconformities", headers=people.headers(people.other_apprentice)).json
    assert listed["total"] == 0
    assert client.get("/api/v1/qse/nonconformities", headers=people.headers(people.tutor)).json["total"] == 1


def test_reception_anomaly_opens_a_supplier_nc_with_its_lots(client, db, people, store, now):
    supplier = db.scalar(select(Supplier))
    reception = receive(db, people.apprentice, supplier=supplier, delivery_note="BL-7781", now=now,
                        lines=[LineInput("COL-100", Decimal(8), lot="EPX-Z", expiry=store.day(90), packaging_ok=False),
                               LineInput("COL-100", Decimal(3), lot="EPX-OK", expiry=store.day(90))])
    db.commit()
    answer = client.post("/api/v1/qse/nonconformities", json={"reception_id": reception.id},
                         headers=people.headers(people.apprentice))
    assert answer.status_code == 201
    detail = client.get(f"/api/v1/qse/nonconformities/{answer.json['id']}",
                        headers=people.headers(people.apprentice)).json
    assert detail["source"] == "supplier" and detail["reception_id"] == reception.id
    assert [lot["lot"] for lot in detail["lots"]] == ["EPX-Z"]
    assert "BL-7781" in detail["title"]
    page = client.get(f"/qse/nonconformities/{answer.json['id']}")
    assert page.status_code == 302   # the page needs a session login
