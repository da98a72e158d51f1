"""Meetings are activities; problems become actions or problem sheets; escalation to the next level."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from dashboards import meetings, read, services
from dashboards.models import Escalation, Meeting, Problem
from shopfloor.errors import Conflict, Forbidden, ValidationError
from tests.conftest import fresh, login
from tests.dashboards.conftest import TODAY


@pytest.fixture
def boards(db, people, org):
    workshop = org.board(people.tutor, name="Atelier", level=2, team=None)
    team = org.board(people.tutor, parent_id=workshop.id)
    return workshop, team


def _meeting(db, people, board, now, led=True):
    meeting = meetings.create_meeting(db, people.apprentice, board, performed_at=now - timedelta(hours=1), now=now,
                                      participants=["Alice Apprentie", "Opérateurs"], reviewed=["aic.safety"], led=led)
    db.commit()
    return meeting


def test_meeting_is_an_activity_with_its_competences(db, people, boards, now):
    _, team = boards
    led = _meeting(db, people, team, now)
    attended = _meeting(db, people, team, now, led=False)
    assert led.type == "aic_meeting" and led.author_id == people.apprentice.id and led.team_id == team.team_id
    assert led.proposed_competences(("LEAN-6", "QSE-6")) == ("LEAN-6", "QSE-6", "LEAN-4", "QSE-10")
    assert attended.proposed_competences(("LEAN-6", "QSE-6")) == ("LEAN-6", "QSE-6")
    assert ("Participants", "Alice Apprentie, Opérateurs") in led.summary()


def test_meeting_errors(db, people, boards, now):
    _, team = boards
    with pytest.raises(ValidationError) as error:
        meetings.create_meeting(db, people.apprentice, team, performed_at=now + timedelta(hours=1), now=now,
                                participants=["A"], reviewed=[])
    assert error.value.field == "performed_at"
    with pytest.raises(ValidationError) as error:
        meetings.create_meeting(db, people.apprentice, team, performed_at=now, now=now, participants=[" "], reviewed=[])
    assert error.value.field == "participants"
    with pytest.raises(ValidationError) as error:
        meetings.create_meeting(db, people.apprentice, team, performed_at=now, now=now, participants=["A"],
                                reviewed=["stock.value"])
    assert error.value.field == "reviewed"
    with pytest.raises(Forbidden):
        meetings.create_meeting(db, people.other_apprentice, team, performed_at=now, now=now, participants=["A"],
                                reviewed=[])


@pytest.fixture
def in_app(app):
    """Services called outside a request build record links (shopfloor.urls.link) in the app's context,
    as a job does."""
    with app.app_context():
        yield


def test_problem_becomes_an_action_linked_back_and_shown_on_the_board(db, people, boards, now, in_app):
    from modules.improvement.models import Action
    from shopfloor.origins import describe
    _, team = boards
    meeting = _meeting(db, people, team, now)
    problem = meetings.add_problem(db, people.apprentice, meeting, title="Rupture de colle en bord de ligne",
                                   letter="D", category="Rupture composant", treatment="action", now=now,
                                   owner=people.apprentice, due=TODAY + timedelta(days=2))
    db.commit()
    action = db.get(Action, problem.action_id)
    assert (action.origin_type, action.origin_id, action.team_id) == ("aic_problem", problem.id, team.team_id)
    assert "Rupture de colle" in describe(db, "aic_problem", problem.id)["title"]
    data = read.board_data(db, team, TODAY, TODAY)
    assert [(a["title"], a["state"]) for a in data["actions"]] == [("Rupture de colle en bord de ligne", "open")]
    late = read.board_data(db, team, TODAY, TODAY + timedelta(days=3))["actions"]
    assert late[0]["state"] == "late" and late[0]["late"] is True
    with pytest.raises(ValidationError) as error:
        meetings.add_problem(db, people.apprentice, meeting, title="Sans responsable", letter="D", category="X",
                             treatment="action", now=now)
    assert error.value.field == "owner"


def test_problem_sheet_and_pareto(db, people, boards, now, in_app):
    from modules.improvement.models import ProblemSheet
    _, team = boards
    meeting = _meeting(db, people, team, now)
    sheet_problem = meetings.add_problem(db, people.apprentice, meeting, title="Rayures sur carter", letter="Q",
                                         category="Réclamation client", treatment="problem", now=now, method="8D")
    for title in ("Rupture A", "Rupture B"):
        meetings.add_problem(db, people.apprentice, meeting, title=title, letter="D", category="Rupture composant",
                             treatment="none", now=now)
    db.commit()
    sheet = db.get(ProblemSheet, sheet_problem.problem_sheet_id)
    assert sheet.method == "8D" and sheet.author_id == people.apprentice.id
    assert services.problem_pareto(db, team.id, TODAY.replace(day=1), TODAY) == [
        ("Rupture composant", 2), ("Réclamation client", 1)]


def test_escalation_shows_on_the_next_level_until_answered(db, people, boards, now):
    workshop, team = boards
    meeting = _meeting(db, people, team, now)
    problem = meetings.add_problem(db, people.apprentice, meeting, title="Fournisseur en retard", letter="D",
                                   category="Retard fournisseur", treatment="none", now=now)
    escalation = meetings.escalate(db, people.apprentice, problem, reason="Relance achats", now=now)
    db.commit()
    shown = read.board_data(db, workshop, TODAY, TODAY)["escalations"]
    assert [(e["problem"], e["from_board"]) for e in shown] == [("Fournisseur en retard", "Logistique AIC")]
    assert read.board_data(db, team, TODAY, TODAY)["escalations"] == []
    with pytest.raises(Conflict):
        meetings.escalate(db, people.apprentice, problem, reason="encore", now=now)
    with pytest.raises(Forbidden):   # an apprentice of the team does not answer for the workshop
        meetings.answer_escalation(db, people.apprentice, escalation, answer="ok", now=now)
    with pytest.raises(ValidationError):
        meetings.answer_escalation(db, people.tutor, escalation, answer=" ", now=now)
    meetings.answer_escalation(db, people.tutor, escalation, answer="Fournisseur de secours validé", now=now)
    db.commit()
    assert read.board_data(db, workshop, TODAY, TODAY)["escalations"] == []
    with pytest.raises(Conflict):
        meetings.answer_escalation(db, people.tutor, escalation, answer="encore", now=now)
    # answered, it may be escalated again
    assert meetings.escalate(db, people.tutor, problem, reason="Toujours en retard", now=now).to_board_id == workshop.id


def test_top_board_cannot_escalate(db, people, boards, now):
    workshop, _ = boards
    meeting = meetings.create_meeting(db, people.tutor, workshop, performed_at=now, now=now, participants=["T"],
                                      reviewed=[])
    problem = meetings.add_problem(db, people.tutor, meeting, title="P", letter="S", category="C", treatment="none",
                                   now=now)
    with pytest.raises(Conflict) as error:
        meetings.escalate(db, people.tutor, problem, reason="r", now=now)
    assert "niveau supérieur" in error.value.message


def test_meeting_pages(client, db, people, boards, now):
    workshop, team = boards
    login(client, "appr", "clef-atelier-2026")
    response = client.post(f"/boards/{team.id}/meetings/new", data={
        "performed_at": "2026-11-20T08:30", "duration_minutes": "10", "participants": "Alice\nBruno",
        "reviewed": ["aic.safety"], "led": "1"})
    assert response.status_code == 302
    meeting_url = response.location
    response = client.post(meeting_url + "/problems", data={"title": "Chariot sans frein", "letter": "S",
                                                            "category": "Matériel", "treatment": "none"})
    assert response.status_code == 302
    fresh(db)
    problem = db.scalar(select(Problem))
    assert client.post(f"/boards/problems/{problem.id}/escalate", data={"reason": "Budget réparation"}).status_code == 302
    bad = client.post(meeting_url + "/problems", data={"title": "", "letter": "S", "category": "x", "treatment": "none"})
    assert bad.status_code == 422 and "Le champ « Titre » est obligatoire." in bad.get_data(as_text=True)
    assert client.get(meeting_url).status_code == 200
    client.post("/logout")
    login(client, "tutor", "clef-formateur-2026")
    page = client.get(f"/boards/{workshop.id}").get_data(as_text=True)
    assert "Chariot sans frein" in page
    fresh(db)
    escalation = db.scalar(select(Escalation))
    assert client.post(f"/boards/escalations/{escalation.id}/answer", data={"answer": ""}).status_code == 422
    assert client.post(f"/boards/escalations/{escalation.id}/answer", data={"answer": "Réparé"}).status_code == 302
    fresh(db)
    assert db.scalar(select(Meeting)).led is True and db.get(Escalation, escalation.id).answer == "Réparé"
