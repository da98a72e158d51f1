"""State changes under concurrency (issue 20): two requests sent together on one record, each from its
own thread with its own test client, give exactly one winner — 10 rounds out of 10, on SQLite and on
PostgreSQL — and the loser gets a 409 naming the state it found.

A short pause after the state is read (a monkeypatched helper) widens the race window: without the
row locks both requests read the same state before either writes. With the locks the second request
waits for the first to commit, then re-reads what it left."""
from __future__ import annotations

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from dashboards import meetings
from dashboards.models import Escalation
from modules.maintenance import equipment as eq_services
from modules.maintenance import inputs as maintenance_inputs
from modules.maintenance import workorders as wos
from modules.maintenance.models import Intervention, WorkOrder
from modules.qse import inputs as qse_inputs, nonconformities as ncs
from modules.qse.models import NonConformity
from modules.stock import picking
from modules.stock.lookup import location_by_code
from modules.stock.models import Move, PickList
from shopfloor.evidence import services as evidence
from shopfloor.evidence.models import Activity, Evidence
from tests.conftest import fresh, login
from tests.stock.test_ledger import _check_invariants

ROUNDS = 10
PAUSE = 0.05


@pytest.fixture
def store(db, people, now):
    from tests.stock.conftest import Store
    return Store(db, people, now)


def slowed(monkeypatch, module, name: str) -> None:
    """`module.name` pauses after it returns: the window between reading a state and writing."""
    real = getattr(module, name)

    def slow(*args, **kwargs):
        result = real(*args, **kwargs)
        time.sleep(PAUSE)
        return result

    monkeypatch.setattr(module, name, slow)


def race(*calls):
    """Run (name, client, request) calls together, one thread each, released by one barrier."""
    barrier, results, errors = threading.Barrier(len(calls)), {}, {}

    def run(name, client, send):
        try:
            barrier.wait(10)
            results[name] = send(client)
        except Exception as exc:  # reported below, with the thread's name
            errors[name] = exc

    threads = [threading.Thread(target=run, args=call, name=call[0]) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert len(results) == len(calls), "a request did not finish within 60 s"
    return results


def one_winner(results: dict, success: int = 200) -> tuple[str, str]:
    """(winner, loser) names; exactly one success and one 409."""
    codes = {name: response.status_code for name, response in results.items()}
    assert sorted(codes.values()) == sorted([success, 409]), {n: (r.status_code, r.get_data(as_text=True)[:300])
                                                               for n, r in results.items()}
    winner = next(name for name, code in codes.items() if code == success)
    loser = next(name for name, code in codes.items() if code == 409)
    return winner, loser


def message(response) -> str:
    return response.json["error"]["message"]


def primed(app, people, *users) -> list[dict]:
    """API headers whose token use is already recorded, so the racing requests write nothing else."""
    headers = [people.headers(user) for user in users]
    for h in headers:
        assert app.test_client().get("/api/v1/me", headers=h).status_code == 200
    return headers


# -- Stock: pick lists ------------------------------------------------------------------------

def _new_pick(db, people, store, now, qty=3):
    pick = picking.allocate(db, people.apprentice, requests=[(store.screw, Decimal(qty))],
                            destination=location_by_code(db, "L1"), now=now)
    db.commit()
    return pick.id


def _moved(db, pick_id) -> Decimal:
    return db.scalar(select(func.coalesce(func.sum(Move.qty), 0)).where(Move.activity_id == pick_id,
                                                                        Move.reason == "pick"))


def test_two_confirms_of_one_pick_one_wins_and_the_ledger_stays_exact(app, db, people, store, now, monkeypatch):
    store.receive("VIS-M8", 100)
    apprentice, tutor = primed(app, people, people.apprentice, people.tutor)
    slowed(monkeypatch, picking, "_open")
    clients = app.test_client(), app.test_client()
    for round_ in range(ROUNDS):
        pick_id = _new_pick(db, people, store, now)
        url = f"/api/v1/stock/picks/{pick_id}/confirm"
        results = race(("apprentice", clients[0], lambda c: c.post(url, json={}, headers=apprentice)),
                       ("tutor", clients[1], lambda c: c.post(url, json={}, headers=tutor)))
        winner, loser = one_winner(results)
        assert message(results[loser]) == f"Liste de prélèvement {pick_id} déjà confirmée.", round_
        fresh(db)
        assert db.get(PickList, pick_id).status == "confirmed"
        assert _moved(db, pick_id) == 3, round_  # not 6: the stock moved once
        _check_invariants(db, store.screw.id)
        db.rollback()


def test_confirm_racing_cancel_one_wins_and_a_cancelled_pick_moved_nothing(app, db, people, store, now,
                                                                            monkeypatch):
    store.receive("VIS-M8", 100)
    (headers,) = primed(app, people, people.apprentice)
    (tutor,) = primed(app, people, people.tutor)
    slowed(monkeypatch, picking, "_open")
    clients = app.test_client(), app.test_client()
    winners = set()
    for round_ in range(ROUNDS):
        pick_id = _new_pick(db, people, store, now)
        base = f"/api/v1/stock/picks/{pick_id}"
        results = race(("confirm", clients[0], lambda c: c.post(base + "/confirm", json={}, headers=headers)),
                       ("cancel", clients[1], lambda c: c.post(base + "/cancel", json={}, headers=tutor)))
        winner, loser = one_winner(results)
        winners.add(winner)
        fresh(db)
        pick = db.get(PickList, pick_id)
        if winner == "confirm":
            assert pick.status == "confirmed" and _moved(db, pick_id) == 3, round_
            assert message(results[loser]) == f"Liste de prélèvement {pick_id} déjà confirmée."
        else:
            assert pick.status == "cancelled" and _moved(db, pick_id) == 0, round_
            assert message(results[loser]) == f"Liste de prélèvement {pick_id} déjà annulée."
        _check_invariants(db, store.screw.id)
        db.rollback()
    assert winners  # who wins is the scheduler's choice; that exactly one does is the rule


def test_two_validations_of_one_count_adjust_the_stock_once(app, db, people, store, now, monkeypatch):
    from modules.stock import counts
    store.receive("VIS-M8", 100)
    tutor, admin = primed(app, people, people.tutor, people.admin)
    slowed(monkeypatch, counts, "_check_complete")
    clients = app.test_client(), app.test_client()
    for round_ in range(ROUNDS):
        count = counts.create_count(db, people.apprentice, scope="rack", value="A-01-02", now=now)
        counts.record_line(db, people.apprentice, count, location_code="A-01-02-1", sku="VIS-M8", lot_number=None,
                           counted_qty=Decimal(99 - round_), now=now)  # one screw less than the book each time
        db.commit()
        url = f"/api/v1/stock/counts/{count.id}/validate"
        results = race(("tutor", clients[0], lambda c: c.post(url, json={}, headers=tutor)),
                       ("admin", clients[1], lambda c: c.post(url, json={}, headers=admin)))
        winner, loser = one_winner(results)
        assert message(results[loser]) == "Cet inventaire est déjà validé : il ne peut plus changer.", round_
        fresh(db)
        adjustments = list(db.scalars(select(Move).where(Move.activity_id == count.id)))
        assert [(m.reason, m.qty) for m in adjustments] == [("adjustment", 1)], round_
        _check_invariants(db, store.screw.id)
        db.rollback()


# -- Evidence: review, and an edit racing a validation ---------------------------------------

def _submitted_evidence(db, people, now, round_: int) -> tuple[int, int, int]:
    """(activity id, evidence id, one criterion id) of a submitted piece of evidence."""
    activity = evidence.create_activity(db, people.apprentice, title=f"Réception du lot {round_}",
                                        performed_at=now - timedelta(hours=2), now=now)
    piece = evidence.link_competence(db, people.apprentice, activity, "LOG-1",
                                     "J'ai contrôlé la livraison contre le bon de livraison.", now)
    evidence.submit(db, people.apprentice, piece, now)
    db.commit()
    return activity.id, piece.id, piece.competence.criteria[0].id


def test_validate_racing_return_one_wins_and_a_validated_evidence_stays_validated(app, db, people, now,
                                                                                  monkeypatch):
    tutor, apprentice = primed(app, people, people.tutor, people.apprentice)
    slowed(monkeypatch, evidence, "can_review")
    clients = app.test_client(), app.test_client()
    for round_ in range(ROUNDS):
        activity_id, evidence_id, criterion = _submitted_evidence(db, people, now, round_)
        url = f"/api/v1/evidence/{evidence_id}/review"
        results = race(
            ("validate", clients[0], lambda c: c.post(url, json={"decision": "validate", "criteria": [criterion]},
                                                      headers=tutor)),
            ("return", clients[1], lambda c: c.post(url, json={"decision": "return", "comment": "Précisez le lot."},
                                                    headers=tutor)))
        winner, loser = one_winner(results)
        state = "validated" if winner == "validate" else "returned"
        assert message(results[loser]).startswith(f"Preuve {'validée' if state == 'validated' else 'renvoyée'}")
        fresh(db)
        piece = db.get(Evidence, evidence_id)
        assert piece.state == state, round_
        assert [e.to_state for e in piece.events] == ["draft", "submitted", state]
        assert len(piece.reviews) == 1
        edit = clients[0].patch(f"/api/v1/activities/{activity_id}", json={"title": "Après l'évaluation"},
                                headers=apprentice)
        assert edit.status_code == (409 if state == "validated" else 200), round_  # validated: frozen
        fresh(db)
        assert db.get(Evidence, evidence_id).state == state
        db.rollback()


def test_an_edit_racing_a_validation_lands_before_it_or_is_refused(app, db, people, now, monkeypatch):
    apprentice, tutor = primed(app, people, people.apprentice, people.tutor)
    slowed(monkeypatch, evidence, "_check_title_and_time")  # after the freeze guard, before the write
    commits: list[str] = []
    sessions = app.extensions["shopfloor_sessions"]

    @event.listens_for(sessions.writer, "before_commit")
    def _order(_session):
        commits.append(threading.current_thread().name)

    clients = app.test_client(), app.test_client()
    outcomes = set()
    try:
        for round_ in range(ROUNDS):
            activity_id, evidence_id, criterion = _submitted_evidence(db, people, now, round_)
            commits.clear()
            title = f"Réception du lot {round_}, corrigée"
            results = race(
                ("edit", clients[0], lambda c: c.patch(f"/api/v1/activities/{activity_id}", json={"title": title},
                                                       headers=apprentice)),
                ("validate", clients[1], lambda c: c.post(f"/api/v1/evidence/{evidence_id}/review",
                                                          json={"decision": "validate", "criteria": [criterion]},
                                                          headers=tutor)))
            assert results["validate"].status_code == 200, results["validate"].json
            edit = results["edit"]
            fresh(db)
            assert db.get(Evidence, evidence_id).state == "validated"
            if edit.status_code == 200:
                assert commits.index("edit") < commits.index("validate"), (round_, commits)  # landed before
                assert db.get(Activity, activity_id).title == title
                outcomes.add("before")
            else:
                assert edit.status_code == 409, (round_, edit.json)
                assert "validée" in message(edit) and "LOG-1" in message(edit)
                assert db.get(Activity, activity_id).title == f"Réception du lot {round_}", round_
                assert "edit" not in commits
                outcomes.add("refused")
            db.rollback()
    finally:
        event.remove(sessions.writer, "before_commit", _order)
    assert outcomes <= {"before", "refused"}


# -- Maintenance: two starts of one work order ---------------------------------------------------

def test_two_starts_of_one_work_order_one_wins_with_one_intervention(app, db, people, now, monkeypatch):
    press = eq_services.create_equipment(db, people.tutor, maintenance_inputs.new_equipment({
        "code": "PRESSE-01", "name": "Presse manuelle", "technologies": ["mecanique"], "criticality": "B",
        "energies": [], "meters": []}))
    db.commit()
    (headers,) = primed(app, people, people.apprentice)
    slowed(monkeypatch, wos, "lockout_missing")
    clients = app.test_client(), app.test_client()
    for round_ in range(ROUNDS):
        wo = wos.request_breakdown(db, people.apprentice, press, maintenance_inputs.breakdown(
            {"symptom": f"Bruit anormal {round_}", "stopped": False}, now), now)
        db.commit()
        url = f"/api/v1/maintenance/work-orders/{wo.id}/start"
        results = race(("first", clients[0], lambda c: c.post(url, json={}, headers=headers)),
                       ("second", clients[1], lambda c: c.post(url, json={}, headers=headers)))
        winner, loser = one_winner(results)
        assert message(results[loser]) == "Impossible de démarrer : l'ordre de travail est « en cours ».", round_
        fresh(db)
        started = db.get(WorkOrder, wo.id)
        assert started.status == "in_progress" and started.intervention_id is not None
        assert db.scalar(select(func.count()).select_from(Intervention)
                         .where(Intervention.title.like(f"OT-{wo.id} %"))) == 1, round_
        db.rollback()


# -- QSE: two closures of one non-conformity -----------------------------------------------------

def test_two_closures_of_one_nonconformity_one_wins(app, db, people, now, monkeypatch):
    (headers,) = primed(app, people, people.apprentice)
    (tutor,) = primed(app, people, people.tutor)
    slowed(monkeypatch, ncs, "closure_missing")
    clients = app.test_client(), app.test_client()
    for round_ in range(ROUNDS):
        nc = ncs.create_nonconformity(db, people.apprentice, qse_inputs.nonconformity({
            "title": f"Rayure sur carter {round_}", "source": "production", "severity": "minor",
            "description": "Rayure légère, pièce reprise."}, now), now)
        ncs.record_effectiveness(db, people.apprentice, nc, qse_inputs.effectiveness({"effectiveness": "Aucune rayure depuis",
                                                             "effective": True}), now)
        db.commit()
        url = f"/api/v1/qse/nonconformities/{nc.id}/close"
        results = race(("author", clients[0], lambda c: c.post(url, json={}, headers=headers)),
                       ("tutor", clients[1], lambda c: c.post(url, json={}, headers=tutor)))
        winner, loser = one_winner(results)
        assert message(results[loser]) == "La non-conformité est déjà clôturée.", round_
        fresh(db)
        assert db.get(NonConformity, nc.id).status == "closed"
        db.rollback()


# -- AIC: two escalations of one problem ----------------------------------------------------------

def test_two_escalations_of_one_problem_one_wins(app, db, people, now, frozen_clock, monkeypatch):
    from tests.dashboards.conftest import Org
    org = Org(db, people)
    workshop = org.board(people.tutor, name="Atelier", level=2, team=None)
    team = org.board(people.tutor, parent_id=workshop.id)
    slowed(monkeypatch, meetings, "can_enter")
    clients = app.test_client(), app.test_client()
    assert login(clients[0], "appr", "clef-atelier-2026").status_code == 302
    assert login(clients[1], "tutor", "clef-formateur-2026").status_code == 302
    meeting = meetings.create_meeting(db, people.apprentice, team, performed_at=now - timedelta(hours=1), now=now,
                                      participants=["Alice Apprentie"], reviewed=["aic.safety"], led=True)
    db.commit()
    for round_ in range(ROUNDS):
        problem = meetings.add_problem(db, people.apprentice, meeting, title=f"Fournisseur en retard {round_}",
                                       letter="D", category="Retard fournisseur", treatment="none", now=now)
        db.commit()
        url = f"/boards/problems/{problem.id}/escalate"
        results = race(("apprentice", clients[0], lambda c: c.post(url, data={"reason": "Relance achats"})),
                       ("tutor", clients[1], lambda c: c.post(url, data={"reason": "Fournisseur de secours ?"})))
        winner, loser = one_winner(results, success=302)
        assert "Ce problème est déjà remonté et attend une réponse." in results[loser].get_data(as_text=True)
        fresh(db)
        assert db.scalar(select(func.count()).select_from(Escalation)
                         .where(Escalation.problem_id == problem.id)) == 1, round_
        db.rollback()
