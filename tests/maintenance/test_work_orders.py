"""Work orders through the API: breakdown request, lockout rule, routine, diagnosis, finish, close, follow-ups."""
from __future__ import annotations

from sqlalchemy import select

from modules.maintenance.models import Equipment, Plan, WorkOrder
from modules.maintenance import schedule
from shopfloor.evidence.models import Activity
from tests.conftest import fresh, login

API = "/api/v1/maintenance"
STEPS = ("separate", "lock", "tag", "purge", "verify")


def _lock_all(client, people, wo_id, energies=("electrique", "pneumatique")):
    steps = [{"energy": e, "step": s} for e in energies for s in STEPS]
    return client.post(f"{API}/work-orders/{wo_id}/lockout", json={"steps": steps},
                       headers=people.headers(people.apprentice))


def _equipment(client, people, **extra):
    data = {"code": "CMP-01", "name": "Compresseur à vis", "technologies": ["pneumatique", "electrique"],
            "criticality": "A", "energies": ["electrique", "pneumatique"], **extra}
    response = client.post(f"{API}/equipment", json=data, headers=people.headers(people.tutor))
    assert response.status_code == 201, response.json
    return response.json


def _breakdown(client, people, kind="curative"):
    response = client.post(f"{API}/work-orders", json={"equipment": "CMP-01", "symptom": "Ne démarre plus",
                                                       "kind": kind}, headers=people.headers(people.apprentice))
    assert response.status_code == 201, response.json
    return response.json["id"]


DIAGNOSIS = {"lost_function": "Produire de l'air à 7 bar", "root_cause": "Contacteur KM1 brûlé",
             "failure_mode": "COU", "failure_cause": "FAT",
             "hypotheses": [{"hypothesis": "Fusible", "test": "Continuité", "result": "ruled_out"},
                            {"hypothesis": "Contacteur KM1", "test": "Mesure bobine", "result": "confirmed"}],
             "consequences": {"production": "Ligne 2 arrêtée 3 h"}}


def test_equipment_register_validates_and_refuses_apprentices(client, people):
    eq = _equipment(client, people)
    assert eq["energies"] == ["electrique", "pneumatique"] and eq["criticality"] == "A"
    bad = client.post(f"{API}/equipment", json={"code": "X", "name": "X", "criticality": "Z"},
                      headers=people.headers(people.tutor))
    assert bad.status_code == 422 and bad.json["error"]["field"] == "criticality"
    dup = client.post(f"{API}/equipment", json={"code": "CMP-01", "name": "Autre"}, headers=people.headers(people.admin))
    assert dup.status_code == 409
    assert client.post(f"{API}/equipment", json={"code": "Y", "name": "Y"},
                       headers=people.headers(people.apprentice)).status_code == 403
    plan = client.post(f"{API}/plans", json={"equipment": "CMP-01", "kind": "calendar"},
                       headers=people.headers(people.tutor))
    assert plan.status_code == 422 and plan.json["error"]["field"] == "interval_days"
    missing = client.post(f"{API}/plans", json={"equipment": "NOPE", "kind": "usage", "interval_hours": 500},
                          headers=people.headers(people.tutor))
    assert missing.status_code == 404


def test_start_is_refused_without_the_lockout_of_every_energy(client, db, people):
    _equipment(client, people)
    wo_id = _breakdown(client, people)
    headers = people.headers(people.apprentice)
    refused = client.post(f"{API}/work-orders/{wo_id}/start", headers=headers)
    assert refused.status_code == 409 and "consignation" in refused.json["error"]["message"]
    out_of_order = client.post(f"{API}/work-orders/{wo_id}/lockout", json={"energy": "electrique", "step": "lock"},
                               headers=headers)
    assert out_of_order.status_code == 422 and "separate" in out_of_order.json["error"]["message"]
    _lock_all(client, people, wo_id, energies=("electrique",))
    still = client.post(f"{API}/work-orders/{wo_id}/start", headers=headers)
    assert still.status_code == 409 and "pneumatique" in still.json["error"]["message"]
    _lock_all(client, people, wo_id)
    started = client.post(f"{API}/work-orders/{wo_id}/start", headers=headers)
    assert started.status_code == 200 and started.json["status"] == "in_progress"
    assert len(started.json["lockout"]) == 10 and started.json["lockout"][0]["by"] == "appr"


def test_finish_needs_a_report_and_a_diagnosis_then_tutor_closes(client, db, people):
    _equipment(client, people)
    wo_id = _breakdown(client, people)
    headers = people.headers(people.apprentice)
    _lock_all(client, people, wo_id)
    client.post(f"{API}/work-orders/{wo_id}/start", headers=headers)
    no_report = client.post(f"{API}/work-orders/{wo_id}/finish", json={"lockout_removed": True}, headers=headers)
    assert no_report.status_code == 422 and no_report.json["error"]["field"] == "report"
    no_diag = client.post(f"{API}/work-orders/{wo_id}/finish", json={"report": "KM1 remplacé", "lockout_removed": True},
                          headers=headers)
    assert no_diag.status_code == 422 and no_diag.json["error"]["field"] == "diagnosis"
    bad = client.post(f"{API}/work-orders/{wo_id}/diagnosis", json={**DIAGNOSIS, "failure_mode": "??"}, headers=headers)
    assert bad.status_code == 422 and bad.json["error"]["field"] == "failure_mode"
    assert client.post(f"{API}/work-orders/{wo_id}/diagnosis", json=DIAGNOSIS, headers=headers).status_code == 200
    other = client.post(f"{API}/work-orders/{wo_id}/finish", json={"report": "x"},
                        headers=people.headers(people.other_apprentice))
    assert other.status_code == 404  # not theirs: the WO is not even confirmed to exist
    done = client.post(f"{API}/work-orders/{wo_id}/finish", json={"report": "KM1 remplacé, essais OK",
                                                                  "lockout_removed": True, "time_spent_min": 90},
                       headers=headers)
    assert done.status_code == 200 and done.json["status"] == "done" and done.json["downtime_end"]
    assert client.post(f"{API}/work-orders/{wo_id}/close", headers=headers).status_code == 403
    assert client.post(f"{API}/work-orders/{wo_id}/close", headers=people.headers(people.other_tutor)).status_code == 404
    closed = client.post(f"{API}/work-orders/{wo_id}/close", headers=people.headers(people.tutor))
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    fresh(db)
    wo = db.get(WorkOrder, wo_id)
    activity = db.get(Activity, wo.intervention_id)
    assert activity.type == "maintenance_corrective" and activity.author.username == "appr"
    assert activity.proposed_competences(("MAINT-4",)) == ("MAINT-4", "MAINT-3")   # the diagnosis adds MAINT-3


def test_closing_a_palliative_repair_opens_the_curative_follow_up(client, db, people):
    _equipment(client, people)
    wo_id = _breakdown(client, people, kind="palliative")
    headers = people.headers(people.apprentice)
    _lock_all(client, people, wo_id)
    client.post(f"{API}/work-orders/{wo_id}/start", headers=headers)
    client.post(f"{API}/work-orders/{wo_id}/diagnosis", json=DIAGNOSIS, headers=headers)
    client.post(f"{API}/work-orders/{wo_id}/finish", json={"report": "Shunt provisoire", "lockout_removed": True},
                headers=headers)
    assert client.post(f"{API}/work-orders/{wo_id}/close", headers=people.headers(people.admin)).status_code == 200
    listed = client.get(f"{API}/work-orders?equipment=CMP-01", headers=headers).json
    follow = [w for w in listed if w["parent"] == wo_id]
    assert len(follow) == 1 and follow[0]["kind"] == "curative" and follow[0]["status"] == "planned"
    assert set(follow[0]) >= {"id", "kind", "status", "due", "plan"}


def test_routine_value_out_of_tolerance_is_flagged_and_proposes_a_corrective(client, db, people, now):
    _equipment(client, people)
    plan = client.post(f"{API}/plans", json={
        "equipment": "CMP-01", "kind": "calendar", "interval_days": 30, "start": now.isoformat(),
        "operations": [{"label": "Pression de service", "expected": 7, "tolerance": 0.5, "unit": "bar"},
                       {"label": "Purger le réservoir"}]}, headers=people.headers(people.tutor))
    assert plan.status_code == 201, plan.json
    schedule.run(db, now)
    db.commit()
    wo_id = db.scalar(select(WorkOrder.id).where(WorkOrder.plan_id == plan.json["id"]))
    headers = people.headers(people.apprentice)
    _lock_all(client, people, wo_id)
    client.post(f"{API}/work-orders/{wo_id}/start", headers=headers)
    bad = client.post(f"{API}/work-orders/{wo_id}/results", json={"values": {"0": "abc"}}, headers=headers)
    assert bad.status_code == 422 and bad.json["error"]["field"] == "results.0"
    saved = client.post(f"{API}/work-orders/{wo_id}/results", json={"values": {"0": "6,2", "1": "ok"}}, headers=headers)
    assert [r["out_of_tolerance"] for r in saved.json["results"]] == [True, False]
    assert client.post(f"{API}/work-orders/{wo_id}/finish", json={"report": "RAS sauf pression basse",
                                                                  "lockout_removed": True},
                       headers=headers).json["status"] == "done"
    login(client, "appr", "clef-atelier-2026")
    page = client.get(f"/maintenance/work-orders/{wo_id}")
    assert "hors tolérance" in page.text and "Créer l'OT correctif" in page.text
    assert client.post(f"/maintenance/work-orders/{wo_id}/corrective").status_code == 302
    fresh(db)
    follow = db.scalar(select(WorkOrder).where(WorkOrder.parent_id == wo_id))
    assert follow.kind == "curative" and "6.2 bar" in follow.symptom


def test_readings_batch_is_all_or_nothing(client, db, people, now):
    _equipment(client, people)
    batch = [{"equipment": "CMP-01", "parameter": "pressure", "value": 7 + i / 100,
              "at": now.replace(minute=i % 60).isoformat()} for i in range(500)]
    ok = client.post(f"{API}/readings", json={"readings": batch}, headers=people.headers(people.apprentice))
    assert ok.status_code == 201 and ok.json == {"created": 500}
    broken = batch[:10] + [{"equipment": "CMP-01", "parameter": "pressure", "value": "abc"}]
    refused = client.post(f"{API}/readings", json=broken, headers=people.headers(people.apprentice))
    assert refused.status_code == 422 and refused.json["error"]["field"] == "readings[10].value"
    one = client.post(f"{API}/readings", json={"equipment": "CMP-01", "parameter": "hours", "value": 12.5},
                      headers=people.headers(people.apprentice))
    assert one.status_code == 201
    fresh(db)
    from modules.maintenance.models import Reading
    from sqlalchemy import func
    assert db.scalar(select(func.count(Reading.id))) == 501
    assert db.scalar(select(Equipment.code)) == "CMP-01" and db.scalar(select(func.count(Plan.id))) == 0


def test_qr_label_opens_the_breakdown_form(client, db, people):
    _equipment(client, people)
    login(client, "appr", "clef-atelier-2026")
    label = client.get("/maintenance/equipment/CMP-01/label")
    assert label.status_code == 200 and "<svg" in label.text and "/maintenance/equipment/CMP-01/breakdown" in label.text
    empty = client.post("/maintenance/equipment/CMP-01/breakdown", data={"symptom": " ", "stopped": "on"})
    assert empty.status_code == 422 and "symptom" in empty.text
    sent = client.post("/maintenance/equipment/CMP-01/breakdown", data={"symptom": "Fuite d'huile"})
    assert sent.status_code == 302
    fresh(db)
    wo = db.scalar(select(WorkOrder).where(WorkOrder.symptom == "Fuite d'huile"))
    assert wo.status == "requested" and wo.downtime_start is None      # not ticked: the machine still runs
    assert client.get("/maintenance/equipment/NOPE/breakdown").status_code == 404


def test_who_sees_a_work_order_one_rule_for_the_record_and_the_lists(db, people, now, shop):
    """Nobody's yet: everyone (the queue). Taken: its technician, their tutor, admins, and the tutors
    of the equipment's site or of the intervention's site; nobody else, neither on a page nor in a list."""
    from modules.maintenance import workorders as wos
    from modules.maintenance.inputs import Lockout, breakdown
    from shopfloor import access
    from shopfloor.auth.models import Site
    here, there = Site(name="Usine A"), Site(name="Usine B")
    db.add_all([here, there])
    wo = wos.request_breakdown(db, people.apprentice, shop.lathe, breakdown({"symptom": "Bruit de roulement"}, now), now)
    db.commit()

    def sees(user):
        fresh(db)
        one = access.can_see(db, WorkOrder, user, wo.id)
        assert one == (wo.id in [w.id for w in wos.list_work_orders(db, actor=user)]), user.username
        return one

    assert all(sees(user) for user in (people.other_apprentice, people.other_tutor, people.apprentice))
    wos.record_lockout(db, people.apprentice, wo, Lockout(steps=(("electrique", "separate", ""),)), now)
    db.commit()
    assert sees(people.apprentice) and sees(people.tutor) and sees(people.admin)
    assert not sees(people.other_apprentice) and not sees(people.other_tutor)
    people.other_tutor.site_id = people.other_apprentice.site_id = here.id
    shop.lathe.site_id = here.id
    db.commit()
    assert sees(people.other_tutor) and not sees(people.other_apprentice)   # the equipment's site
    shop.lathe.site_id = there.id
    db.get(WorkOrder, wo.id).intervention.site_id = here.id
    db.commit()
    assert sees(people.other_tutor)                                           # the intervention's site
    db.get(WorkOrder, wo.id).intervention.site_id = there.id
    db.commit()
    assert not sees(people.other_tutor)
