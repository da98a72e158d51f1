"""Risks (scoring, DUERP fields, heat map), safety events (days without accident), regulatory watch, indicators."""
import json
from datetime import date, timedelta

from sqlalchemy import select

from modules.qse import events, indicators, inputs, regulatory, risks
from modules.qse.models import RegulatoryText
from shopfloor.notifications.models import Notification
from tests.conftest import fresh


def test_risk_score_is_likelihood_times_severity(client, people):
    headers = people.headers(people.apprentice)
    answer = client.post("/api/v1/qse/risks", json={"process": "Stockage", "description": "Chute de charge en hauteur",
                                                    "likelihood": 3, "severity": 4}, headers=headers)
    assert answer.status_code == 201
    assert (answer.json["score"], answer.json["level"]) == (12, "high")
    for payload, field in [({"likelihood": 5}, "likelihood"), ({"likelihood": 0}, "likelihood"),
                           ({"severity": "grave"}, "severity"), ({"severity": 2.5}, "severity"),
                           ({"process": ""}, "process")]:
        body = {"process": "Stockage", "description": "x", "likelihood": 2, "severity": 2, **payload}
        refused = client.post("/api/v1/qse/risks", json=body, headers=headers)
        assert refused.status_code == 422 and refused.json["error"]["field"] == field, payload
    listed = client.get("/api/v1/qse/risks?min_score=9", headers=headers).json
    assert [r["score"] for r in listed["items"]] == [12]
    assert client.get("/api/v1/qse/risks", headers=people.headers(people.other_apprentice)).json["total"] == 0


def test_duerp_risk_needs_a_work_unit_and_scores_its_residual(db, people, now):
    data = {"process": "Maintenance", "category": "ohs", "description": "Écrasement de la main",
            "hazard": "Vérin pneumatique", "likelihood": 2, "severity": 4}
    try:
        risks.create_risk(db, people.apprentice, inputs.risk(data), now)
        raise AssertionError("a DUERP line without work unit was accepted")
    except Exception as exc:  # noqa: BLE001 - the domain error is what we check
        assert getattr(exc, "field", None) == "work_unit"
    risk = risks.create_risk(db, people.apprentice, inputs.risk({**data, "work_unit": "Atelier maintenance",
                                                     "existing_measures": "Consignation pneumatique",
                                                     "residual_likelihood": 1, "residual_severity": 4}), now)
    assert (risk.score, risk.residual_score) == (8, 4)
    assert ("Cotation", "P2 × G4 = 8") in risk.summary()


def test_heat_map_counts_risks_per_cell(db, people, now):
    for likelihood, severity in [(1, 1), (4, 4), (4, 4), (2, 3)]:
        risks.create_risk(db, people.apprentice, inputs.risk({"process": "Stock", "description": "r", "likelihood": likelihood,
                                                  "severity": severity}), now)
    counts = risks.heat_counts(db, people.admin)
    assert counts == {(1, 1): 1, (4, 4): 2, (2, 3): 1}
    figure = json.loads(risks.heat_map_figure(counts))
    heat = figure["data"][0]
    assert heat["type"] == "heatmap"
    assert heat["text"][3][3] == "2" and heat["z"][3][3] == 16 and heat["text"][1][2] == "1"


def test_events_and_days_without_accident(client, db, people, now):
    headers = people.headers(people.apprentice)
    answer = client.post("/api/v1/qse/events", json={"kind": "accident", "at": "2026-11-02T10:15",
                                                     "description": "Coupure à la main au déballage"},
                         headers=headers)
    assert answer.status_code == 201
    assert isinstance(answer.json["days_without_accident"], int)   # counted on the real clock: value not asserted
    for payload, field in [({"kind": "incident"}, "kind"), ({"at": "demain"}, "at"),
                           ({"at": "2999-01-01T00:00"}, "at"), ({"description": ""}, "description")]:
        body = {"kind": "near_miss", "at": "2026-11-10T08:00", "description": "x", **payload}
        refused = client.post("/api/v1/qse/events", json=body, headers=headers)
        assert refused.status_code == 422 and refused.json["error"]["field"] == field, payload
    fresh(db)
    events.create_event(db, people.apprentice, inputs.event({"kind": "near_miss", "at": "2026-11-12T09:00",
                                                "description": "Palette mal filmée"}, now), now)
    events.create_event(db, people.apprentice, inputs.event({"kind": "near_miss", "at": "2026-10-30T09:00",
                                                "description": "Chariot sans avertisseur"}, now), now)
    assert events.days_without_accident(db, date(2026, 11, 20), None) == 18
    assert events.days_without_accident(db, date(2026, 11, 1), None) is None   # before the accident: none known
    assert indicators.near_misses_month(db, date(2026, 11, 20), None) == 1
    assert indicators.days_without_accident(db, date(2026, 11, 20), people.apprentice.team_id) == 18


def test_regulatory_reminders_are_sent_once_and_export(app, db, people, now):
    text = regulatory.save_text(db, people.admin, inputs.regulatory_text({
        "reference": "Code du travail R4323-22", "title": "Vérifications générales périodiques des équipements de levage",
        "domain": "S", "compliance": "compliant", "next_review": (now - timedelta(days=1)).date().isoformat()}))
    db.commit()
    with app.app_context():   # jobs run in an app context (the reminder's link needs it)
        assert regulatory.remind_due_reviews(db, now).startswith("1 ")
        assert regulatory.remind_due_reviews(db, now).startswith("0 ")
    db.commit()
    notes = db.scalars(select(Notification).where(Notification.user_id == people.admin.id)).all()
    assert len(notes) == 1 and "R4323-22" in notes[0].message
    fresh(db)
    assert db.get(RegulatoryText, text.id).reminded_for == text.next_review
    csv_text = regulatory.export_csv(db)
    assert "Code du travail R4323-22;Vérifications générales" in csv_text
    try:
        regulatory.save_text(db, people.apprentice, inputs.regulatory_text({"reference": "X", "title": "Y", "domain": "Q"}))
        raise AssertionError("an apprentice outside QSE edited the watch")
    except Exception as exc:  # noqa: BLE001
        assert exc.__class__.__name__ == "Forbidden"


def test_cost_and_open_nc_indicators(db, people, now):
    from modules.qse import nonconformities as ncs
    nc = ncs.create_nonconformity(db, people.apprentice, inputs.nonconformity({"title": "Rayures capot", "source": "customer",
                                                          "severity": "minor", "description": "Rayures", "cost": "350.5"}, now),
                                  now)
    ncs.create_nonconformity(db, people.apprentice, inputs.nonconformity({"title": "Ancienne NC", "source": "internal", "severity": "minor",
                                                     "description": "x", "cost": "99",
                                                     "detected_at": "2026-10-05T10:00"}, now), now)
    day = now.date()
    assert indicators.cost_of_non_quality(db, day, None) == 350.5
    assert indicators.open_nonconformities(db, day, None) == 2
    assert indicators.open_nonconformities(db, date(2026, 10, 1), None) == 0
    assert nc.status == "open"
