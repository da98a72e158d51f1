"""Problem sheets: Ishikawa and bâtonnage, 5 pourquoi, closure rules (409 with what is missing), API, permissions."""
from datetime import date, timedelta

import pytest

from modules.improvement import inputs, services
from modules.improvement.models import ProblemSheet
from shopfloor.registry import Module, Origin
from shopfloor.errors import Conflict, Forbidden, ValidationError
from tests.conftest import fresh


@pytest.fixture
def in_app(app):
    """An app context, as a request, a job or the CLI has it: an origin's link (shopfloor.urls.link) needs it."""
    with app.app_context():
        yield


def _sheet(db, people, now, **kw):
    sheet = services.create_problem(db, people.apprentice, inputs.NewProblem(title="Arrêt ligne vérins", method="QRQC"),
                                    now=now, **kw)
    db.commit()
    return sheet


def test_create_validates_method_and_origin(db, people, now):
    with pytest.raises(ValidationError) as e:
        inputs.new_problem({"title": "x", "method": "TQM"})
    assert e.value.field == "method"
    with pytest.raises(ValidationError) as e:
        services.create_problem(db, people.apprentice, inputs.NewProblem(title="x", method="8D"), now=now,
                                origin=("stock_ghost", 1))
    assert e.value.field == "origin"


def test_origin_from_another_module_adds_its_competence(app, db, people, now):
    app.extensions["shopfloor_registry"].add(Module("test", "Test", origins=[Origin(
        "stock_test_anomaly", "Anomalie de réception (test)",
        lambda db, i: ("Palette écrasée", "/stock/anomalies/1") if i == 1 else None)]))
    sheet = _sheet(db, people, now, origin=("stock_test_anomaly", 1))
    assert sheet.proposed_competences(("LEAN-1", "INDUS-7")) == ("LEAN-1", "INDUS-7", "LOG-6")
    assert _sheet(db, people, now).proposed_competences(("LEAN-1",)) == ("LEAN-1",)


def test_ishikawa_votes_and_five_whys(db, people, now):
    sheet = _sheet(db, people, now)
    worn = services.add_cause(db, people.apprentice, sheet, inputs.cause({"category": "materiel", "text": "Guide usé"}))
    setting = services.add_cause(db, people.apprentice, sheet, inputs.cause(
        {"category": "methodes", "text": "Pas de réglage au changement de série"}))
    with pytest.raises(ValidationError):
        services.add_cause(db, people.apprentice, sheet, inputs.cause({"category": "management", "text": "?"}))
    services.vote(db, people.apprentice, sheet, worn, now)
    services.vote(db, people.apprentice, sheet, worn, now, "Karim")
    services.vote(db, people.tutor, sheet, setting, now)            # the author's tutor takes part
    with pytest.raises(Conflict):
        services.vote(db, people.apprentice, sheet, worn, now)     # once per person
    with pytest.raises(Forbidden):
        services.vote(db, people.other_apprentice, sheet, worn, now)
    assert [c.text for c in services.ranked_causes(sheet)] == ["Guide usé", "Pas de réglage au changement de série"]
    assert worn.weight == 2
    with pytest.raises(Conflict):
        services.add_why(db, people.apprentice, sheet, "Jeu de 4 mm")   # no cause chosen yet
    services.choose_cause(db, people.apprentice, sheet, worn.id)
    services.add_why(db, people.apprentice, sheet, "Jeu de 4 mm au lieu de 1 mm")
    services.add_why(db, people.apprentice, sheet, "Patins usés jusqu'au métal")
    assert [w.position for w in sheet.whys] == [1, 2]
    assert sheet.whys[1].question == "Pourquoi : Jeu de 4 mm au lieu de 1 mm ?"
    assert sheet.root_cause == "Patins usés jusqu'au métal"
    with pytest.raises(Forbidden):
        services.add_why(db, people.tutor, sheet, "pas l'auteur")


def test_closure_refused_until_actions_finished_and_effectiveness_recorded(in_app, db, people, now):
    sheet = _sheet(db, people, now)
    with pytest.raises(Conflict) as e:
        services.close_problem(db, people.apprentice, sheet, now)
    assert "aucune action corrective" in e.value.message and "efficacité" in e.value.message
    fix = services.add_problem_action(db, people.apprentice, sheet,
                                      inputs.NewAction(title="Remplacer les patins", deliverable="Patins",
                                                       due=date(2026, 11, 27)), owner=people.apprentice, now=now)
    drop = services.add_problem_action(db, people.apprentice, sheet,
                                       inputs.NewAction(title="Nouveau convoyeur", deliverable="Devis",
                                                        due=date(2026, 11, 27)), owner=people.apprentice, now=now)
    with pytest.raises(Conflict) as e:
        services.close_problem(db, people.apprentice, sheet, now)
    assert "2 action(s) ni faite(s) ni abandonnée(s)" in e.value.message and "Remplacer les patins" in e.value.message
    services.update_action(db, people.apprentice, fix, now, status="done")
    services.update_action(db, people.apprentice, drop, now, status="abandoned", abandon_reason="Trop cher")
    with pytest.raises(Conflict) as e:
        services.close_problem(db, people.apprentice, sheet, now)
    assert "action" not in e.value.message.split(":")[1] and "efficacité n'est pas enregistrée" in e.value.message
    services.update_problem(db, people.apprentice, sheet,
                            inputs.sheet_changes({"effectiveness": "0 arrêt en 3 semaines", "effective": True}))
    services.close_problem(db, people.apprentice, sheet, now + timedelta(days=1))
    assert sheet.status == "closed"
    with pytest.raises(Conflict):
        services.add_cause(db, people.apprentice, sheet, inputs.cause({"category": "milieu", "text": "trop tard"}))


def test_problem_api_with_sub_resources_and_409(client, db, people):
    h = people.headers(people.apprentice)
    r = client.post("/api/v1/improvement/problems", json={
        "title": "Fuites joints", "method": "8D", "origin": None,
        "pareto": {"label": "Rebuts", "items": [["Joint déformé", 23], ["Rayure", 5]]}}, headers=h)
    assert r.status_code == 201
    pid = r.json["id"]
    assert r.json["pareto"]["items"] == [["Joint déformé", 23.0], ["Rayure", 5.0]]
    cause = client.post(f"/api/v1/improvement/problems/{pid}/causes", json={"category": "matiere", "text": "Dureté"},
                        headers=h).json
    assert client.post(f"/api/v1/improvement/problems/{pid}/causes", json={"category": "x", "text": "y"},
                       headers=h).json["error"]["field"] == "category"
    assert client.post(f"/api/v1/improvement/problems/{pid}/causes/{cause['id']}/votes", json={},
                       headers=h).json["weight"] == 1
    assert client.post(f"/api/v1/improvement/problems/{pid}/causes/{cause['id']}/votes", json={},
                       headers=h).status_code == 409
    assert client.patch(f"/api/v1/improvement/problems/{pid}", json={"chosen_cause_id": cause["id"], "qui": "Test final"},
                        headers=h).json["qqoqccp"]["qui"] == "Test final"
    why = client.post(f"/api/v1/improvement/problems/{pid}/whys", json={"answer": "Mélange changé"}, headers=h)
    assert why.status_code == 201 and why.json["root_cause"] == "Mélange changé"
    act = client.post(f"/api/v1/improvement/problems/{pid}/actions", json={
        "title": "Obtenir le 8D fournisseur", "deliverable": "8D signé", "owner": "appr", "due": "2099-12-01"}, headers=h)
    assert act.status_code == 201
    refused = client.post(f"/api/v1/improvement/problems/{pid}/close", headers=h)
    assert refused.status_code == 409 and "Obtenir le 8D fournisseur" in refused.json["error"]["message"]
    assert "efficacité" in refused.json["error"]["message"]
    assert client.get(f"/api/v1/improvement/problems/{pid}", headers=people.headers(people.other_apprentice)).status_code == 404
    assert client.get(f"/api/v1/improvement/problems/{pid}", headers=people.headers(people.tutor)).status_code == 200
    client.patch(f"/api/v1/improvement/actions/{act.json['id']}", json={"status": "done"}, headers=h)
    client.patch(f"/api/v1/improvement/problems/{pid}", json={"effectiveness": "0 fuite sur 400", "effective": True},
                 headers=h)
    assert client.post(f"/api/v1/improvement/problems/{pid}/close", headers=h).json["status"] == "closed"
    fresh(db)
    assert db.get(ProblemSheet, pid).status == "closed"


def test_origin_problem_resolves_for_other_modules(client, db, people, now):
    sheet = _sheet(db, people, now)
    h = people.headers(people.apprentice)
    r = client.post("/api/v1/improvement/actions", json={"title": "a", "deliverable": "b", "owner": "appr",
                                                          "due": "2099-01-01", "origin": {"type": "problem", "id": sheet.id}},
                    headers=h)
    assert r.status_code == 201
    detail = client.get(f"/api/v1/improvement/actions/{r.json['id']}", headers=h).json
    assert detail["origin"]["title"] == "Arrêt ligne vérins" and detail["origin"]["url"].endswith(f"/problems/{sheet.id}")
