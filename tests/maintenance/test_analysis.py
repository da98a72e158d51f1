"""Maintenance analysis (MAINT-5): frozen KPIs and Pareto, conclusions, proposal and progress action (MAINT-6)
through the improvement module; who may see and complete it; evidence competences."""
from __future__ import annotations

import pytest

from modules.improvement import services as improvement
from modules.improvement.models import Action
from modules.maintenance import analysis as an
from modules.maintenance import inputs
from modules.maintenance import progress as started
from modules.maintenance.models import Analysis
from shopfloor import access
from shopfloor.errors import Conflict, Forbidden, NotFound, ValidationError
from tests.conftest import fresh, login
from tests.maintenance.test_kpis import history  # noqa: F401  (fixture: a hand-computed history on TOUR-01)

PERIOD = {"equipment": "TOUR-01", "from": "2026-11-01", "to": "2026-11-10"}


def _progress(data: dict):
    """What the progress form's handler parses (services take typed values)."""
    return inputs.new_progress(data, tuple(an.INDICATORS))


@pytest.fixture
def analysis(db, people, now, history):  # noqa: F811
    made = an.create_analysis(db, people.apprentice, inputs.new_analysis(db, dict(PERIOD), now), now)
    db.commit()
    return made


def test_analysis_freezes_the_kpis_and_the_pareto_of_the_period(db, analysis):
    assert analysis.kpis["failures"] == 3
    assert analysis.kpis["availability"] == pytest.approx(95.0, abs=1e-3)
    assert analysis.kpis["mttr_hours"] == pytest.approx(4.0)
    assert analysis.pareto == [["Défaut de lubrification", 2]]
    assert analysis.type == "maintenance_analysis" and analysis.equipment.code == "TOUR-01"
    rows = dict(analysis.summary())
    assert rows["Pannes"] == "3" and rows["Disponibilité"] == "95.0 %"
    assert rows["Période"] == "du 01/11/2026 au 10/11/2026"


def test_proposal_and_measured_progress_action_go_through_the_improvement_module(db, people, now, analysis,
                                                                                 app_context):
    appr = people.apprentice
    an.update_conclusions(db, appr, analysis, "La lubrification cause 2 pannes sur 3.")
    proposal = an.propose(db, appr, analysis, improvement.new_action({
        "title": "Graissage hebdomadaire", "deliverable": "Gamme mise à jour", "due": "2026-12-15"}), now)
    assert (proposal.origin_type, proposal.origin_id) == ("maintenance_analysis", analysis.id)
    assert analysis.proposed_competences(("MAINT-5",)) == ("MAINT-5",)
    progress = an.start_progress(db, appr, analysis, _progress({
        "indicator": "availability", "target": "98", "title": "Graisseur automatique", "deliverable": "Graisseur posé",
        "due": "2026-12-20"}), now)
    assert progress.eff_indicator == "Disponibilité (%)" and progress.eff_before == pytest.approx(95.0)
    assert started.proposals(db, analysis) == [proposal] and started.progress_action(db, analysis) == progress
    with pytest.raises(Conflict):
        an.start_progress(db, appr, analysis, _progress({"indicator": "mttr_hours", "target": "2", "title": "x",
                                                         "deliverable": "y", "due": "2026-12-20"}), now)
    an.record_after(db, appr, analysis, inputs.after({"after": "99.1"}), now)
    db.commit()
    fresh(db)
    progress = db.get(Action, progress.id)
    assert progress.status == "done" and progress.eff_after == pytest.approx(99.1) and progress.effective is True
    analysis = db.get(Analysis, analysis.id)
    assert analysis.proposed_competences(("MAINT-5",)) == ("MAINT-5", "MAINT-6")
    rows = dict(analysis.summary())
    assert rows["Proposition d'amélioration"] == "Graissage hebdomadaire — Gamme mise à jour"
    assert "avant 95, cible 98, après 99.1" in rows["Action de progrès"]
    assert rows["Conclusions"].startswith("La lubrification")


def test_bad_input_names_the_field_and_writes_nothing(db, people, now, analysis):
    appr = people.apprentice
    cases = [({"from": "2026-11-10", "to": "2026-11-01"}, "to"), ({"from": "2026-11-01", "to": "2099-01-01"}, "to"),
             ({"to": "2026-11-01"}, "from"), ({"from": "hier"}, "from")]
    for data, field in cases:
        with pytest.raises(ValidationError) as caught:
            an.create_analysis(db, appr, inputs.new_analysis(db, data, now), now)
        assert caught.value.field == field
    with pytest.raises(ValidationError) as caught:   # no preventive due in a period without one: not computable
        other = an.create_analysis(db, appr, inputs.new_analysis(db, {
            "equipment": "TOUR-01", "from": "2026-10-01", "to": "2026-10-05"}, now), now)
        an.start_progress(db, appr, other, _progress({"indicator": "mttr_hours", "target": "1", "title": "t",
                                                      "deliverable": "d", "due": "2026-12-20"}), now)
    assert caught.value.field == "indicator"
    db.rollback()
    with pytest.raises(ValidationError) as caught:
        an.start_progress(db, appr, analysis, _progress({"indicator": "availability", "target": "beaucoup",
                                                         "title": "t", "deliverable": "d", "due": "2026-12-20"}), now)
    assert caught.value.field == "target"
    with pytest.raises(ValidationError) as caught:
        an.propose(db, appr, analysis, improvement.new_action({"title": "t", "deliverable": "d", "due": "2020-01-01"}), now)
    assert caught.value.field == "due"
    db.rollback()
    assert db.query(Action).count() == 0


def test_only_the_author_completes_it_and_tutors_see_their_apprentices(db, people, now, analysis):
    with pytest.raises(Forbidden):
        an.update_conclusions(db, people.tutor, analysis, "x")
    assert access.visible(db, Analysis, people.tutor, analysis.id) == analysis
    assert access.visible(db, Analysis, people.admin, analysis.id) == analysis
    for outsider in (people.other_tutor, people.other_apprentice):
        # someone else's analysis answers like a missing one (404), its id not confirmed
        with pytest.raises(NotFound):
            access.visible(db, Analysis, outsider, analysis.id, field="analysis_id", label=an.LABEL)
    assert an.list_analyses(db, people.tutor) == [analysis]
    assert an.list_analyses(db, people.other_tutor) == [] and an.list_analyses(db, people.other_apprentice) == []


def test_analysis_pages_end_to_end(client, db, people, history):  # noqa: F811
    login(client, "appr", "clef-atelier-2026")
    bad = client.post("/maintenance/analyses", data={"equipment": "TOUR-01", "from": "2026-11-10", "to": "2026-11-01"})
    assert bad.status_code == 422 and "suivre son début" in bad.text
    created = client.post("/maintenance/analyses", data=PERIOD)
    assert created.status_code == 302
    analysis_id = int(created.headers["Location"].rstrip("/").split("/")[-1])
    page = client.get(f"/maintenance/analyses/{analysis_id}")
    assert page.status_code == 200 and "pareto-cause" in page.text and "95.0 %" in page.text
    assert client.post(f"/maintenance/analyses/{analysis_id}/conclusions", data={"conclusions": ""}).status_code == 422
    assert client.post(f"/maintenance/analyses/{analysis_id}/conclusions",
                       data={"conclusions": "Graissage insuffisant."}).status_code == 302
    assert client.post(f"/maintenance/analyses/{analysis_id}/after", data={"after": "99"}).status_code == 404
    progress = client.post(f"/maintenance/analyses/{analysis_id}/progress", data={
        "indicator": "mttr_hours", "target": "2", "title": "Kit de dépannage au poste", "deliverable": "Kit en place",
        "due": "2099-01-31"})
    assert progress.status_code == 302
    assert client.post(f"/maintenance/analyses/{analysis_id}/after", data={"after": "trois"}).status_code == 422
    assert client.post(f"/maintenance/analyses/{analysis_id}/after", data={"after": "1.5"}).status_code == 302
    evidence = client.get(f"/activities/{analysis_id}")
    assert evidence.status_code == 200 and "MAINT-6" in evidence.text
    fresh(db)
    action = db.query(Action).filter_by(origin_type="maintenance_analysis").one()
    assert action.eff_before == pytest.approx(4.0) and action.eff_after == pytest.approx(1.5)
    client.post("/logout")
    login(client, "tutor", "clef-formateur-2026")
    assert client.get(f"/maintenance/analyses/{analysis_id}").status_code == 200
    assert client.post(f"/maintenance/analyses/{analysis_id}/conclusions",
                       data={"conclusions": "Je réécris"}).status_code == 403
