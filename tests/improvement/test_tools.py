"""Decision matrix ranking and ROI on hand-computed examples; standards' validation workflow; ideas; Pareto."""
import pytest

from modules.improvement import inputs, services
from modules.improvement.pareto import parse_manual, pareto
from shopfloor.errors import Conflict, Forbidden, ValidationError


def test_weighted_ranking_hand_computed():
    criteria = [{"name": "Efficacité", "weight": 5}, {"name": "Coût", "weight": 3}, {"name": "Délai", "weight": 2}]
    options = [{"name": "Patins", "scores": [4, 4, 5]},      # 20 + 12 + 10 = 42
               {"name": "Guide", "scores": [5, 2, 2]},       # 25 + 6 + 4 = 35
               {"name": "Convoyeur", "scores": [5, 0, 1]},   # 25 + 0 + 2 = 27
               {"name": "Bis", "scores": [5, 3, 1]}]         # 25 + 9 + 2 = 36
    ranked = services.ranking(criteria, options)
    assert [(r.name, r.score, r.rank) for r in ranked] == [("Patins", 42, 1), ("Bis", 36, 2), ("Guide", 35, 3),
                                                           ("Convoyeur", 27, 4)]
    tie = services.ranking([{"name": "c", "weight": 1}], [{"name": "A", "scores": [3]}, {"name": "B", "scores": [3]},
                                                          {"name": "C", "scores": [1]}])
    assert [r.rank for r in tie] == [1, 1, 3]


def test_roi_and_payback_hand_computed():
    assert services.roi(800, 9600) == (1100.0, 1.0)        # (9600-800)/800 = 11 → 1100 %; 800/9600*12 = 1 month
    assert services.roi(4500, 12000) == (166.7, 4.5)
    assert services.roi(38000, 15000) == (-60.5, 30.4)
    assert services.roi(1000, 0) == (-100.0, None)         # never pays back
    assert services.roi(None, 100) == (None, None)


def test_decision_study_validation(db, people, now):
    with pytest.raises(ValidationError) as e:
        services.create_decision(db, people.apprentice, now, inputs.decision(dict(title="t", question="",
                                 criteria=[{"name": "c", "weight": 0}], options=[{"name": "a", "scores": [1]},
                                                                                {"name": "b", "scores": [2]}])))
    assert e.value.field == "weight"
    with pytest.raises(ValidationError) as e:
        services.create_decision(db, people.apprentice, now, inputs.decision(dict(title="t", question="",
                                 criteria=[{"name": "c", "weight": 1}], options=[{"name": "a", "scores": [1, 2]},
                                                                                {"name": "b", "scores": [2]}])))
    assert e.value.field == "scores"
    study = services.create_decision(db, people.apprentice, now, inputs.decision(dict(
                                     title="Choix", question="?", chosen="b",
                                     criteria=[{"name": "c", "weight": "2"}],
                                     options=[{"name": "a", "scores": ["3"], "cost": "100", "gain": "1200"},
                                              {"name": "b", "scores": [4]}])))
    assert [r.name for r in services.ranking(study.criteria, study.options)] == ["b", "a"]
    assert ("Choix retenu", "b") in study.summary()


def test_decision_api(client, people):
    r = client.post("/api/v1/improvement/decisions", json={
        "title": "Levier", "criteria": [{"name": "Gain", "weight": 2}],
        "options": [{"name": "A", "scores": [3], "cost": 1000, "gain": 4000}, {"name": "B", "scores": [5]}]},
        headers=people.headers(people.apprentice))
    assert r.status_code == 201
    assert [(x["name"], x["score"], x["roi_pct"], x["payback_months"]) for x in r.json["ranking"]] == [
        ("B", 10, None, None), ("A", 6, 300.0, 3.0)]


def test_standard_workflow(db, people, now):
    standard = services.create_standard(db, people.apprentice, now, inputs.standard(dict(
        title="Réglage du guide", kind="opl", workstations="Poste 3\nPoste 4, Poste 3")))
    assert standard.workstations == ["Poste 3", "Poste 4"]
    with pytest.raises(Conflict):
        services.validate_standard(db, people.tutor, standard, now)       # no step
    first = services.add_step(db, people.apprentice, standard, inputs.step({"text": "Consigner"}))
    services.add_step(db, people.apprentice, standard, inputs.step({"text": "Poser la cale"}))
    services.move_step(db, people.apprentice, standard, first.id, 1)
    assert [s.text for s in standard.steps] == ["Poser la cale", "Consigner"]
    with pytest.raises(Forbidden):
        services.validate_standard(db, people.other_tutor, standard, now)
    with pytest.raises(Forbidden):
        services.validate_standard(db, people.apprentice, standard, now)
    services.validate_standard(db, people.tutor, standard, now)
    assert (standard.status, standard.version, standard.validated_by_id) == ("validated", 1, people.tutor.id)
    services.add_step(db, people.apprentice, standard, inputs.step({"text": "Contrôler 3 pièces"}))
    assert standard.status == "draft"
    services.validate_standard(db, people.admin, standard, now)
    assert standard.version == 2


def test_ideas(db, people, now):
    idea = services.submit_idea(db, people.apprentice, now, inputs.idea({"title": "Chariot de kitting", "description": ""}))
    with pytest.raises(Forbidden):
        services.answer_idea(db, people.apprentice, idea, inputs.idea_answer({"status": "accepted"}))
    with pytest.raises(ValidationError):
        services.answer_idea(db, people.tutor, idea, inputs.idea_answer({"status": "rejected"}))
    services.answer_idea(db, people.tutor, idea, inputs.idea_answer({"status": "accepted", "answer": "Oui, essai en janvier"}))
    assert [i.title for i in services.list_ideas(db, people.apprentice)] == ["Chariot de kitting"]
    assert services.list_ideas(db, people.other_apprentice) == []


def test_pareto_sorting_and_manual_entry():
    bars = pareto(parse_manual("Capteur ; 6\nBourrage;14\n\nAutres\t0\nManque, pièces,4"))
    assert [(b.category, b.value, b.cumulative_pct) for b in bars] == [
        ("Bourrage", 14, 58.3), ("Capteur", 6, 83.3), ("Manque, pièces", 4, 100.0)]
    with pytest.raises(ValidationError) as e:
        parse_manual("Bourrage ; beaucoup")
    assert e.value.field == "values"


def test_who_sees_what(db, people, now):
    """One rule per record kind (its __access__): a decision study is its author's (their tutor's, admins'),
    not the team's (issue 13); a problem sheet is also its team's; an action is its owner's and its creator's."""
    from modules.improvement.models import Action, DecisionStudy, ProblemSheet
    from shopfloor import access
    from shopfloor.auth.models import Site, Team
    team = Team(site=Site(name="Usine test"), name="Logistique")
    db.add(team)
    people.apprentice.team = people.other_apprentice.team = team
    db.commit()
    study = services.create_decision(db, people.apprentice, now, inputs.decision(dict(
                                     title="Levier", question="", criteria=[{"name": "c", "weight": 1}],
                                     options=[{"name": "a", "scores": [1]}, {"name": "b", "scores": [2]}])))
    sheet = services.create_problem(db, people.apprentice, inputs.NewProblem(title="Arrêts", method="QRQC"), now=now)
    action = services.create_action(db, people.apprentice,
                                    inputs.NewAction(title="Caler le guide", deliverable="Guide calé", due=now.date()),
                                    owner=people.admin, now=now)
    db.commit()
    seen = {who: {kind.__name__ for kind, ident in ((DecisionStudy, study.id), (ProblemSheet, sheet.id),
                                                    (Action, action.id)) if access.can_see(db, kind, user, ident)}
            for who, user in (("author", people.apprentice), ("teammate", people.other_apprentice),
                              ("tutor", people.tutor), ("other tutor", people.other_tutor), ("admin", people.admin))}
    assert seen == {"author": {"DecisionStudy", "ProblemSheet", "Action"}, "teammate": {"ProblemSheet"},
                    "tutor": {"DecisionStudy", "ProblemSheet", "Action"}, "other tutor": set(),
                    "admin": {"DecisionStudy", "ProblemSheet", "Action"}}
    assert [s.id for s in services.list_decisions(db, people.other_apprentice)] == []
