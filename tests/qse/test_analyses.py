"""Context analysis (SWOT, PESTEL, interested parties), regulatory reviews and the QSE planning with its Gantt."""
import json
from datetime import date

import pytest
from sqlalchemy import func, select

from modules.qse import analyses, inputs, regulatory
from modules.qse.models import ContextAnalysis, Planning, RegulatoryReview
from shopfloor.errors import ValidationError
from tests.conftest import fresh, login


def _context_data(**extra):
    return {"scope": "Atelier vérins", "strengths": "Équipe polyvalente\nAtelier certifié ISO 9001",
            "weaknesses": ["Fournisseur unique de joints"], "threats": "", "legal": "Règlement machines 2027",
            "parties": [{"party": "Clients", "needs": "Vérins sans défaut, livrés à l'heure", "priority": "1"},
                        {"party": "", "needs": "", "priority": ""},
                        {"party": "Riverains", "needs": "Pas de bruit la nuit", "priority": 3}], **extra}


def test_context_analysis_keeps_swot_pestel_and_parties(db, people, now):
    analysis = analyses.save_context(db, people.apprentice, inputs.context(_context_data()), now)
    assert analysis.type == "qse_context"
    assert analysis.swot == {"strengths": ["Équipe polyvalente", "Atelier certifié ISO 9001"],
                             "weaknesses": ["Fournisseur unique de joints"], "opportunities": [], "threats": []}
    assert analysis.pestel["legal"] == ["Règlement machines 2027"] and len(analysis.pestel) == 6
    assert [p["priority"] for p in analysis.parties] == [1, 3]
    assert ("SWOT – Forces", "Équipe polyvalente ; Atelier certifié ISO 9001") in analysis.summary()
    for data, field in [({"parties": [{"party": "Clients", "needs": "x", "priority": 4}]}, "parties"),
                        ({"parties": "clients"}, "parties"), ({"strengths": 12}, "strengths"),
                        ({"strengths": "", "weaknesses": [], "legal": "", "parties": []}, "strengths")]:
        with pytest.raises(ValidationError) as caught:
            analyses.save_context(db, people.apprentice, inputs.context(_context_data(**data)), now)
        assert caught.value.field == field, data


def test_regulatory_review_links_register_texts(db, people, now):
    texts = [regulatory.save_text(db, people.tutor, inputs.regulatory_text({"reference": ref, "title": title, "domain": "S"}))
             for ref, title in [("R4323-22", "Levage"), ("R4412-1", "Risque chimique")]]
    review = analyses.create_regulatory_review(db, people.apprentice, inputs.regulatory_review({"items": [
        {"text_id": texts[0].id, "compliance": "compliant", "findings": "VGP à jour"},
        {"text_id": texts[1].id, "compliance": "partial", "action": "Mettre les FDS au poste"}],
        "conclusions": "Une action"}), now)
    assert review.type == "qse_regulatory_review" and [i.text.reference for i in review.items] == ["R4323-22", "R4412-1"]
    assert [i.owning_activity for i in review.items] == [review, review]
    assert analyses.reviews_of_text(db, texts[1].id)[0].action == "Mettre les FDS au poste"
    for items, field in [([], "items"), ([{"text_id": 999999, "compliance": "compliant"}], "text_id"),
                         ([{"text_id": texts[0].id, "compliance": "to_assess"}], "compliance"),
                         ([{"text_id": texts[0].id, "compliance": "non_compliant"}], "action"),
                         ([{"text_id": "abc"}], "text_id"),
                         ([{"text_id": texts[0].id, "compliance": "compliant"}] * 2, "items")]:
        with pytest.raises(ValidationError) as caught:
            analyses.create_regulatory_review(db, people.apprentice, inputs.regulatory_review({"items": items}), now)
        assert caught.value.field == field, items


def test_planning_tasks_milestones_and_gantt(db, people, now):
    planning = analyses.save_planning(db, people.apprentice, inputs.planning({"horizon": "2027", "tasks": [
        {"name": "Audit interne réception", "start": "2027-02-01", "end": "2027-02-05", "responsible": "Nathan"},
        {"name": "Revue de direction", "start": "2027-03-15", "milestone": True},
        {"name": "Mise à jour du DUERP", "start": "2027-01-10", "end": "2027-01-31"}]}), now)
    assert planning.type == "qse_planning"
    assert [(t.name, t.end) for t in planning.tasks if t.milestone] == [("Revue de direction", date(2027, 3, 15))]
    figure = json.loads(analyses.gantt_figure(planning, date(2026, 11, 20)))
    bars, milestones = figure["data"]
    assert bars["type"] == "bar" and bars["orientation"] == "h" and len(bars["y"]) == 2
    assert bars["base"][bars["y"].index("Audit interne réception (Nathan)")] == "2027-02-01"
    assert bars["x"][bars["y"].index("Audit interne réception (Nathan)")] == 5 * 24 * 3600 * 1000
    assert milestones["x"] == ["2027-03-15"] and milestones["marker"]["symbol"] == "diamond"
    for tasks, field in [([], "tasks"), ([{"name": "x", "start": "2027-02-05", "end": "2027-02-01"}], "end"),
                         ([{"name": "", "start": "2027-02-05", "end": "2027-02-06"}], "name"),
                         ([{"name": "x", "start": "bientôt", "end": "2027-02-06"}], "start"), ("x", "tasks")]:
        with pytest.raises(ValidationError) as caught:
            analyses.save_planning(db, people.apprentice, inputs.planning({"tasks": tasks}), now)
        assert caught.value.field == field, tasks


def test_pages_over_http_and_permissions(client, db, people):
    text = regulatory.save_text(db, people.tutor, inputs.regulatory_text({"reference": "R4541-1", "title": "Manutention", "domain": "S"}))
    db.commit()
    login(client, "appr", "clef-atelier-2026")
    for url in ("/qse/context/new", "/qse/planning/new", "/qse/regulatory/reviews/new",
                "/qse/regulatory/reviews/new?domain=S", "/qse/objectives"):
        assert client.get(url).status_code == 200, url
    refused = client.post("/qse/context/new", data={"scope": "x", "party_0": "Clients", "needs_0": "Qualité",
                                                    "priority_0": "9"})
    assert refused.status_code == 422 and "Partie intéressée n° 1" in refused.get_data(as_text=True)
    assert client.post("/qse/context/new", data={"scope": "Site", "strengths": "Savoir-faire", "party_0": "Clients",
                                                 "needs_0": "Qualité", "priority_0": "1"}).status_code == 302
    refused = client.post("/qse/planning/new", data={"name_0": "Audit", "start_0": "2027-02-05", "end_0": "2027-01-01"})
    assert refused.status_code == 422
    assert client.post("/qse/planning/new", data={"horizon": "2027", "name_0": "Audit", "start_0": "2027-02-01",
                                                  "end_0": "2027-02-03", "name_1": "Revue", "start_1": "2027-03-01",
                                                  "milestone_1": "1"}).status_code == 302
    refused = client.post("/qse/regulatory/reviews/new", data={"text_id": str(text.id),
                                                              f"compliance_{text.id}": "non_compliant"})
    assert refused.status_code == 422 and "indiquez l&#39;action" in refused.get_data(as_text=True)
    assert client.post("/qse/regulatory/reviews/new", data={"text_id": str(text.id),
                                                           f"compliance_{text.id}": "partial",
                                                           f"action_{text.id}": "Table élévatrice"}).status_code == 302
    fresh(db)
    analysis, planning, review = (db.scalar(select(cls)) for cls in (ContextAnalysis, Planning, RegulatoryReview))
    assert db.scalar(select(func.count(RegulatoryReview.id))) == 1 and len(planning.tasks) == 2
    pages = {f"/qse/context/{analysis.id}": "Savoir-faire", f"/qse/planning/{planning.id}": "gantt",
             f"/qse/regulatory/reviews/{review.id}": "Table élévatrice", "/qse/": analysis.title}
    for url, expected in pages.items():
        answer = client.get(url)
        assert answer.status_code == 200 and expected in answer.get_data(as_text=True), url
    login(client, "appr2", "clef-atelier-2026")
    for url in list(pages)[:3]:
        assert client.get(url).status_code == 404, url   # someone else's record: as if missing
    login(client, "tutor", "clef-formateur-2026")
    assert client.get(f"/qse/context/{analysis.id}").status_code == 200
