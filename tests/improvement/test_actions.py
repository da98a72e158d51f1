"""Actions: validation, follow-up from the due date and a fixed clock, the late job, the API, permissions."""
from datetime import date, timedelta

import pytest

from modules.improvement import inputs, services
from modules.improvement.jobs import mark_late_actions
from modules.improvement.models import Action
from shopfloor import access
from shopfloor.errors import Forbidden, ValidationError
from shopfloor.notifications.models import Notification
from shopfloor.notifications.services import notify, unread_count
from sqlalchemy import func, select
from tests.conftest import fresh


def _action(db, people, now, **spec):
    values = dict(title="Remplacer les patins du guide", deliverable="Patins montés", due=date(2026, 11, 25)) | spec
    action = services.create_action(db, people.apprentice, inputs.NewAction(**values), owner=people.apprentice, now=now)
    db.commit()
    return action


def test_create_validates_each_field(db, people, now):
    good = {"title": "t", "deliverable": "x", "due": "2026-11-25"}
    for field, bad in (("title", " "), ("deliverable", ""), ("due", "25/11/2026"), ("pdca", "study"),
                       ("kind", "preventive"), ("planned_start", "demain")):
        with pytest.raises(ValidationError) as e:
            inputs.new_action(good | {field: bad})
        assert e.value.field == field
    assert inputs.new_action(good) == inputs.NewAction(title="t", deliverable="x", due=date(2026, 11, 25))
    with pytest.raises(ValidationError) as e:
        services.create_action(db, people.apprentice,
                               inputs.NewAction(title="t", deliverable="x", due=date(2026, 11, 19)),
                               owner=people.apprentice, now=now)
    assert e.value.field == "due"
    with pytest.raises(ValidationError) as e:
        services.create_action(db, people.apprentice,
                               inputs.NewAction(title="t", deliverable="x", due=date(2026, 11, 25)),
                               owner=people.apprentice, now=now, origin=("nowhere", 1))
    assert e.value.field == "origin"
    with pytest.raises(ValidationError) as e:
        services.create_action(db, people.apprentice,
                               inputs.NewAction(title="t", deliverable="x", due=date(2026, 11, 25)),
                               owner=people.apprentice, now=now, origin=("problem", 999))
    assert e.value.field == "origin" and "introuvable" in e.value.message


def test_late_is_computed_from_due_date_and_clock(db, people, now):
    action = _action(db, people, now)
    assert action.status == "todo" and action.team_id is None
    assert not action.is_late(date(2026, 11, 25))
    assert action.is_late(date(2026, 11, 26))
    assert action.follow_up(date(2026, 11, 26)) == "late"
    services.update_action(db, people.apprentice, action, now + timedelta(days=7), status="done")
    assert action.done_on == date(2026, 11, 27) and not action.is_late(date(2026, 12, 1))
    assert action.follow_up(date(2026, 12, 1)) == "done"


def test_abandon_needs_a_reason_and_effectiveness_needs_done(db, people, now):
    action = _action(db, people, now)
    with pytest.raises(ValidationError) as e:
        services.update_action(db, people.apprentice, action, now, status="abandoned")
    assert e.value.field == "abandon_reason"
    with pytest.raises(ValidationError) as e:
        services.update_action(db, people.apprentice, action, now, effectiveness=inputs.effectiveness({
            "indicator": "Arrêts / semaine", "before": 4, "target": 1, "after": 0}))
    assert e.value.field == "effectiveness"
    services.update_action(db, people.apprentice, action, now, status="done")
    services.update_action(db, people.apprentice, action, now, effectiveness=inputs.effectiveness({
        "indicator": "Arrêts / semaine", "before": 4, "target": 1, "after": 0}))
    assert action.effectiveness_recorded and action.effective is True
    assert action.eff_checked_by_id == people.apprentice.id and action.eff_checked_on == date(2026, 11, 20)


def test_follow_up_counts_and_team_actions(db, people, now):
    today = date(2026, 11, 30)   # Monday
    late = _action(db, people, now, title="En retard", due=date(2026, 11, 28))
    running = _action(db, people, now, title="En cours", due=date(2026, 12, 5))
    services.update_action(db, people.apprentice, running, now, status="in_progress")
    done = _action(db, people, now, title="Faite", due=date(2026, 12, 5))
    services.update_action(db, people.apprentice, done, now.replace(day=30), status="done")
    follow = services.follow_up([late, running, done], today)
    assert follow.counts == {"todo": 0, "in_progress": 1, "late": 1, "done": 1, "abandoned": 0}
    assert follow.done_pct == 33
    board = services.team_actions(db, None, today)
    assert {a.title for a in board["open"]} == {"En retard", "En cours"}
    assert [a.title for a in board["late"]] == ["En retard"]
    assert [a.title for a in board["done_this_week"]] == ["Faite"]
    assert [a.title for a in services.my_actions(db, people.apprentice, today, "late")] == ["En retard"]


def test_late_job_flags_and_notifies_once(app, db, people, now):
    action = _action(db, people, now, due=date(2026, 11, 21))
    later = now + timedelta(days=3)
    with app.app_context():   # as the scheduler runs it
        assert "1 action" in mark_late_actions(db, later)
        db.commit()
        assert "0 action" in mark_late_actions(db, later)   # second run: nothing new
        db.commit()
    fresh(db)
    assert db.get(Action, action.id).late_since == date(2026, 11, 23)
    assert unread_count(db, people.apprentice) == 1
    rows = list(db.scalars(select(Notification)))
    assert len(rows) == 1 and "Remplacer les patins" in rows[0].message and rows[0].url.endswith(f"/{action.id}")
    # a new due date, late again, is notified again (once)
    services.update_action(db, people.apprentice, db.get(Action, action.id), later, due=date(2026, 11, 24))
    db.commit()
    with app.app_context():
        mark_late_actions(db, later + timedelta(days=2))
        mark_late_actions(db, later + timedelta(days=2))
    db.commit()
    assert db.scalar(select(func.count()).select_from(Notification)) == 2


def test_notify_is_idempotent_on_key(db, people, now):
    first = notify(db, people.tutor, "k1", "Bonjour", "/x", now)
    assert first is not None and notify(db, people.tutor, "k1", "Bonjour", "/x", now) is None
    db.commit()
    assert unread_count(db, people.tutor) == 1


def test_permissions_on_actions(db, people, now):
    action = _action(db, people, now)
    assert access.can_see(db, Action, people.tutor, action.id)           # tutor of the owner
    assert not access.can_see(db, Action, people.other_tutor, action.id)
    assert not access.can_see(db, Action, people.other_apprentice, action.id)
    with pytest.raises(Forbidden):
        services.update_action(db, people.other_apprentice, action, now, status="done")
    services.update_action(db, people.tutor, action, now, status="in_progress")
    assert action.status == "in_progress"


def test_api_create_list_patch(client, db, people, now):
    h = people.headers(people.apprentice)
    r = client.post("/api/v1/improvement/actions", json={"title": "Étiqueter les bacs", "deliverable": "Bacs étiquetés",
                                                          "owner": "appr", "due": "2099-01-10", "origin": None}, headers=h)
    assert r.status_code == 201 and r.json["status"] == "todo"
    action_id = r.json["id"]
    bad = client.post("/api/v1/improvement/actions", json={"title": "x", "deliverable": "y", "owner": "appr",
                                                            "due": "2099-01-10", "origin": {"type": "zzz", "id": 1}},
                      headers=h)
    assert bad.status_code == 422 and bad.json["error"]["field"] == "origin"
    assert client.post("/api/v1/improvement/actions", json={"title": "x", "deliverable": "y", "owner": "nobody",
                                                             "due": "2099-01-10"}, headers=h).json["error"]["field"] == "owner"
    assert client.post("/api/v1/improvement/actions", json={"title": "x", "deliverable": "y", "owner": "appr",
                                                             "due": "demain"}, headers=h).status_code == 422
    listed = client.get("/api/v1/improvement/actions?status=open&owner=appr", headers=h).json["actions"]
    assert [a["id"] for a in listed] == [action_id]
    assert client.get("/api/v1/improvement/actions?status=late", headers=h).json["actions"] == []
    assert client.get("/api/v1/improvement/actions?status=nope", headers=h).status_code == 422
    r = client.patch(f"/api/v1/improvement/actions/{action_id}", json={"status": "done", "effectiveness": {
        "indicator": "Temps de recherche (s)", "before": 120, "target": 30, "after": 25}}, headers=h)
    assert r.status_code == 200 and r.json["status"] == "done" and r.json["effectiveness"]["effective"] is True
    assert client.patch(f"/api/v1/improvement/actions/{action_id}", json={"status": "abandoned"},
                        headers=h).json["error"]["field"] == "abandon_reason"
    other = people.headers(people.other_apprentice)
    # someone else's action answers like a missing one (issue 13: 404, not 403)
    assert client.get(f"/api/v1/improvement/actions/{action_id}", headers=other).status_code == 404
    assert client.patch(f"/api/v1/improvement/actions/{action_id}", json={"status": "todo"}, headers=other).status_code == 404
    assert client.get("/api/v1/improvement/actions", headers=other).json["actions"] == []
    fresh(db)
    assert db.get(Action, action_id).status == "done"


def test_notifications_api(client, db, people, now):
    notify(db, people.apprentice, "a", "Action en retard", "/improvement/actions/1", now)
    db.commit()
    h = people.headers(people.apprentice)
    body = client.get("/api/v1/notifications", headers=h).json
    assert body["unread"] == 1 and body["notifications"][0]["message"] == "Action en retard"
    assert client.post("/api/v1/notifications/read", json={}, headers=h).json == {"marked": 1}
    assert client.get("/api/v1/notifications?unread=1", headers=h).json["notifications"] == []
