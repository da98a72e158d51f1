"""Objectives, indicators, measurements, off-target alerts, follow-ups and the management review pack."""
import io
import json
from datetime import date

import pytest
from sqlalchemy import func, select

from modules.qse import audits, inputs, nonconformities as ncs, objectives as obj, review_pack, risks
from modules.qse.jobs import JOBS
from modules.qse.models import IndicatorFollowup, Measurement, Objective, QseIndicator
from shopfloor.errors import Conflict, Forbidden, ValidationError
from shopfloor.notifications.models import Notification
from tests.conftest import fresh, login


def _objective(db, people, now, **extra):
    return obj.create_objective(db, people.apprentice, inputs.objective({
        "title": "Réduire les réclamations clients", "axis": "Q", "target": "Moins de 2 réclamations par mois",
        "owner": "appr", "deadline": "2027-06-30", "policy_commitment": "Satisfaction client", **extra}, now), now)


def _indicator(db, people, objective=None, **extra):
    return obj.save_indicator(db, people.apprentice, inputs.indicator({
        "name": "Réclamations clients", "definition": "Réclamations reçues dans le mois", "formula": "nombre",
        "unit": "récl.", "frequency": "monthly", "target": "2", "direction": "lower", "visual": "bar",
        "owner": "appr", "objective_id": objective.id if objective else "", **extra}))


def test_smart_objective_is_validated_field_by_field(db, people, now):
    objective = _objective(db, people, now)
    assert (objective.type, objective.owner.username, objective.deadline) == ("qse_objectives", "appr",
                                                                               date(2027, 6, 30))
    assert ("Axe de la politique", "Qualité") in objective.summary()
    for change, field in [({"axis": "X"}, "axis"), ({"target": ""}, "target"), ({"deadline": "2020-01-01"}, "deadline"),
                          ({"deadline": "demain"}, "deadline"), ({"owner": "inconnu"}, "owner"), ({"title": ""}, "title")]:
        with pytest.raises(ValidationError) as caught:
            _objective(db, people, now, **change)
        assert caught.value.field == field, change
    with pytest.raises(Forbidden):
        obj.set_objective_status(db, people.other_apprentice, objective, inputs.objective_status({"status": "achieved"}))
    assert obj.set_objective_status(db, people.tutor, objective, inputs.objective_status({"status": "achieved"})).status == "achieved"
    assert obj.objectives(db, people.other_apprentice) == [] and obj.objectives(db, people.tutor) == [objective]


def test_measurements_target_direction_and_alert_job_runs_twice_safely(app, db, people, now):
    indicator = _indicator(db, people, _objective(db, people, now))
    for day, value in [("2026-09-30", "1"), ("2026-10-31", "3")]:
        obj.add_measurement(db, people.apprentice, indicator, inputs.measurement({"measured_on": day, "value": value}), now)
    with pytest.raises(Conflict):
        obj.add_measurement(db, people.apprentice, indicator, inputs.measurement({"measured_on": "2026-10-31", "value": "1"}), now)
    for data, field in [({"measured_on": "2026-12-31", "value": "1"}, "measured_on"),
                        ({"measured_on": "2026-11-01", "value": "beaucoup"}, "value")]:
        with pytest.raises(ValidationError) as caught:
            obj.add_measurement(db, people.apprentice, indicator, inputs.measurement(data), now)
        assert caught.value.field == field
    with pytest.raises(Forbidden):
        obj.add_measurement(db, people.other_apprentice, indicator, inputs.measurement({"measured_on": "2026-11-01", "value": "1"}), now)
    [status] = obj.indicator_statuses(db)
    assert status.off_target and float(status.last.value) == 3
    job = next(j for j in JOBS if j.name == "qse.indicator_alerts")
    with app.app_context():   # jobs run in an app context (the alert's link needs it)
        job.run(db, now)
        job.run(db, now)
    alerts = db.scalars(select(Notification).where(Notification.key.like("qse.indicator_off_target.%"))).all()
    assert len(alerts) == 1 and alerts[0].user_id == people.apprentice.id and "hors cible" in alerts[0].message
    obj.add_measurement(db, people.apprentice, indicator, inputs.measurement({"measured_on": "2026-11-19", "value": "0"}), now)
    with app.app_context():
        job.run(db, now)
    assert db.scalar(select(func.count(Notification.id)).where(Notification.key.like("qse.indicator_off_target.%"))) == 1
    figure = json.loads(obj.chart_figure(indicator, obj.measurements(db, indicator.id)))
    assert figure["data"][0]["type"] == "bar" and figure["data"][0]["y"] == [1.0, 3.0, 0.0]
    assert figure["layout"]["shapes"][0]["y0"] == 2.0   # the target line


def test_higher_is_better_indicator(db, people, now):
    indicator = _indicator(db, people, name="Taux de service", target="95", direction="higher", visual="line")
    assert indicator.on_target(95) and not indicator.on_target(94)
    for change, field in [({"target": "x"}, "target"), ({"direction": "up"}, "direction"), ({"name": ""}, "name"),
                          ({"objective_id": "999999"}, "objective_id"), ({"frequency": "daily"}, "frequency")]:
        with pytest.raises(ValidationError) as caught:
            _indicator(db, people, **change)
        assert caught.value.field == field


def test_followup_freezes_the_period_last_value(db, people, now):
    indicator = _indicator(db, people)
    obj.add_measurement(db, people.apprentice, indicator, inputs.measurement({"measured_on": "2026-10-31", "value": "4"}), now)
    followup = obj.create_followup(db, people.apprentice, indicator, inputs.followup({
        "period_start": "2026-10-01", "period_end": "2026-10-31", "analysis": "Deux lots mal emballés",
        "decision": "Intercalaires mousse"}), now)
    assert (followup.type, float(followup.last_value), followup.on_target) == ("qse_indicator_followup", 4.0, False)
    assert ("Résultat", "Hors cible") in followup.summary()
    for data, field in [({"period_start": "2026-09-01", "period_end": "2026-09-30", "analysis": "x"}, "period_start"),
                        ({"period_start": "2026-10-01", "period_end": "2026-09-01", "analysis": "x"}, "period_end"),
                        ({"period_start": "2026-10-01", "period_end": "2026-10-31", "analysis": ""}, "analysis")]:
        with pytest.raises(ValidationError) as caught:
            obj.create_followup(db, people.apprentice, indicator, inputs.followup(data), now)
        assert caught.value.field == field


def test_pages_measure_alert_and_followup_over_http(client, db, people, now):
    objective = _objective(db, people, now)
    indicator = _indicator(db, people, objective)
    db.commit()
    login(client, "appr", "clef-atelier-2026")
    bad = client.post(f"/qse/indicators/{indicator.id}/measure", data={"measured_on": "2026-10-31", "value": "x"})
    assert bad.status_code == 422 and "value" in bad.get_data(as_text=True)
    fresh(db)
    assert db.scalar(select(func.count(Measurement.id))) == 0
    assert client.post(f"/qse/indicators/{indicator.id}/measure",
                       data={"measured_on": "2026-10-31", "value": "5", "comment": "Pic d'octobre"}).status_code == 302
    page = client.get(f"/qse/indicators/{indicator.id}").get_data(as_text=True)
    assert 'id="off-target"' in page and "indicator-chart" in page
    assert 'id="off-target"' in client.get("/qse/objectives").get_data(as_text=True)
    assert client.post(f"/qse/indicators/{indicator.id}/followup", data={
        "period_start": "2026-10-01", "period_end": "2026-10-31", "analysis": "Emballage"}).status_code == 302
    fresh(db)
    followup = db.scalar(select(IndicatorFollowup))
    assert client.get(f"/qse/followups/{followup.id}").status_code == 200
    assert client.get(f"/qse/objectives/{objective.id}").status_code == 200
    created = client.post("/qse/objectives/new", data={"title": "Zéro accident", "axis": "S", "target": "0 AT",
                                                       "owner": "appr", "deadline": "2030-12-31"})
    assert created.status_code == 302
    refused = client.post("/qse/indicators/new", data={"name": "Taux", "target": "", "direction": "higher",
                                                       "owner": "appr"})
    assert refused.status_code == 422 and "target" in refused.get_data(as_text=True)
    for url in ("/qse/objectives/new", "/qse/indicators/new", f"/qse/indicators/new?objective_id={objective.id}"):
        assert client.get(url).status_code == 200, url
    login(client, "appr2", "clef-atelier-2026")
    assert client.get(f"/qse/objectives/{objective.id}").status_code == 404   # someone else's: as if missing
    assert client.get(f"/qse/followups/{followup.id}").status_code == 404
    assert client.post(f"/qse/indicators/{indicator.id}/measure",
                       data={"measured_on": "2026-11-01", "value": "1"}).status_code == 403
    fresh(db)
    assert db.scalar(select(func.count(Objective.id))) == 2 and db.scalar(select(func.count(QseIndicator.id))) == 1


def test_management_review_pack_gathers_everything(client, db, people, now):
    from docx import Document

    indicator = _indicator(db, people, _objective(db, people, now))
    obj.add_measurement(db, people.apprentice, indicator, inputs.measurement({"measured_on": "2026-10-31", "value": "3"}), now)
    audit = audits.create_audit(db, people.apprentice, inputs.audit({"process": "Réception", "standards": ["iso9001"],
                                                        "clauses": ["8.4"], "audit_date": "2026-11-10"}, now), now)
    audits.add_finding(db, people.apprentice, audit, inputs.finding({"clause": "8.4", "kind": "minor",
                                                      "evidence": "Fournisseur non évalué"}, audits.known_clauses(audit), audit.standards), now)
    ncs.create_nonconformity(db, people.apprentice, inputs.nonconformity({"title": "Capots rayés", "source": "customer",
                                                     "severity": "major", "description": "Rayures"}, now), now)
    risks.create_risk(db, people.apprentice, inputs.risk({"process": "Stockage", "description": "Chute de charge",
                                              "likelihood": 3, "severity": 4}), now)
    db.commit()
    pack = review_pack.gather(db, people.admin, now.date())
    assert pack.nc_counts == {("major", "open"): 1} and [r.score for r in pack.risks] == [12]
    assert review_pack.gather(db, people.other_apprentice, now.date()).risks == []
    login(client, "appr", "clef-atelier-2026")
    answer = client.get("/qse/review-pack.docx")
    assert answer.status_code == 200 and answer.data[:2] == b"PK"
    text = "\n".join(p.text for p in Document(io.BytesIO(answer.data)).paragraphs)
    cells = "\n".join(c.text for t in Document(io.BytesIO(answer.data)).tables for r in t.rows for c in r.cells)
    assert "Réduire les réclamations clients" in text and "3 récl. au 31/10/2026 (HORS CIBLE)" in text
    assert "§ 8.4 – Non-conformité mineure : Fournisseur non évalué" in text
    assert "Chute de charge" in cells and "Majeure" in cells


def test_month_bounds_for_the_default_followup_period():
    assert obj.month_bounds(date(2026, 12, 15)) == (date(2026, 12, 1), date(2026, 12, 31))
    assert obj.month_bounds(date(2027, 2, 3)) == (date(2027, 2, 1), date(2027, 2, 28))


def test_demo_has_three_objectives_with_a_year_of_measures_some_off_target(app, db, now):
    from modules.qse.models import ContextAnalysis, Planning
    from shopfloor.auth.models import User
    from shopfloor.demo import load_demo

    with app.app_context():
        load_demo(app, db, now)
    nathan = db.scalar(select(User).where(User.username == "nathan"))
    statuses = obj.indicator_statuses(db)
    assert len(obj.objectives(db, nathan)) == 3 and len(statuses) == 3
    assert all(len(obj.measurements(db, s.indicator.id)) == 12 for s in statuses)
    assert any(s.off_target for s in statuses) and not all(s.off_target for s in statuses)
    assert db.scalar(select(func.count(ContextAnalysis.id))) == 1 and db.scalar(select(func.count(Planning.id))) == 1
