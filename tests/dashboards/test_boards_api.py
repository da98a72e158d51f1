"""The boards API: creating boards, entering manual indicators, reading a board's day."""
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from dashboards import inputs, read, services
from dashboards.models import Board, BoardRow, DailyValue
from tests.conftest import fresh
from tests.dashboards.conftest import TODAY

ROWS = [{"letter": "S", "indicator": "aic.safety", "target": 0, "threshold": 1},
        {"letter": "M", "indicator": "aic.mood", "target": 4, "threshold": 3}]


def _board(client, people, **changes):
    payload = {"name": "Logistique AIC", "level": 1, "team": "Logistique", "rows": ROWS} | changes
    return client.post("/api/v1/boards", json=payload, headers=people.headers(people.tutor))


def test_tutor_creates_a_team_board(client, db, people, org):
    response = _board(client, people)
    assert response.status_code == 201
    body = response.get_json()
    assert body["level"] == 1 and body["team"] == "Logistique"
    assert [r["indicator"] for r in body["rows"]] == ["aic.safety", "aic.mood"]
    fresh(db)
    assert db.scalar(select(func.count()).select_from(BoardRow)) == 2


def test_board_creation_names_the_wrong_field_and_writes_nothing(client, db, people, org):
    cases = [
        ({"rows": [{"letter": "S", "indicator": "nope", "target": 0, "threshold": 1}]}, "rows[0].indicator"),
        ({"rows": [{"letter": "X", "indicator": "aic.safety", "target": 0, "threshold": 1}]}, "rows[0].letter"),
        ({"rows": [{"letter": "S", "indicator": "aic.safety", "target": 1, "threshold": 0}]}, "rows[0].threshold"),
        ({"rows": [{"letter": "M", "indicator": "aic.mood", "target": 4, "threshold": 5}]}, "rows[0].threshold"),
        ({"rows": [{"letter": "M", "indicator": "aic.mood", "target": "beaucoup", "threshold": 3}]}, "rows[0].target"),
        ({"rows": ROWS + ROWS[:1]}, "rows[2].indicator"),
        ({"rows": []}, "rows"),
        ({"level": 4}, "level"),
        ({"team": None}, "team"),
        ({"team": "Peinture"}, "team"),
        ({"name": " "}, "name"),
        ({"parent": 999}, "parent"),
    ]
    for changes, field in cases:
        response = _board(client, people, **changes)
        assert response.status_code == 422, changes
        assert response.get_json()["error"]["field"] == field, changes
    fresh(db)
    assert db.scalar(select(func.count()).select_from(Board)) == 0


def test_only_tutors_and_admins_create_boards(client, people, org):
    response = client.post("/api/v1/boards", json={"name": "B", "level": 1, "team": "Logistique", "rows": ROWS},
                           headers=people.headers(people.apprentice))
    assert response.status_code == 403


def test_a_board_may_hang_under_the_next_level_only(client, people, org):
    workshop = _board(client, people, name="Atelier", level=2, team=None).get_json()
    assert _board(client, people, parent=workshop["id"]).status_code == 201
    site = _board(client, people, name="Site", level=3, team=None).get_json()
    response = _board(client, people, name="Autre", parent=site["id"])
    assert response.status_code == 422 and response.get_json()["error"]["field"] == "parent"


def test_manual_entries_and_the_day_data(client, db, people, org):
    board_id = _board(client, people).get_json()["id"]
    headers = people.headers(people.apprentice)    # the apprentice belongs to the board's team
    url = f"/api/v1/boards/{board_id}/entries"
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    assert client.post(url, json={"indicator": "aic.safety", "date": yesterday, "value": 1,
                                  "comment": "Presque-accident au quai 2"}, headers=headers).status_code == 201
    assert client.post(url, json={"indicator": "aic.mood", "date": yesterday, "value": 4}, headers=headers).status_code == 201
    # a second entry for the same day corrects the first one
    assert client.post(url, json={"indicator": "aic.mood", "date": yesterday, "value": 2}, headers=headers).status_code == 201

    data = client.get(f"/api/v1/boards/{board_id}/data?date={yesterday}", headers=headers).get_json()
    assert data["date"] == yesterday
    safety, mood = data["rows"]
    assert (safety["letter"], safety["indicator"], safety["value"], safety["target"], safety["status"]) == \
        ("S", "aic.safety", 1.0, 0.0, "orange")
    assert (mood["value"], mood["status"]) == (2.0, "red")
    assert len(safety["month"]) == 19 and safety["month"][0] == {"date": "2026-11-01", "value": None, "status": "grey"}
    assert safety["month"][-1]["status"] == "orange"
    assert data["actions"] == [] and data["escalations"] == []

    today = client.get(f"/api/v1/boards/{board_id}/data", headers=headers).get_json()
    assert today["date"] == TODAY.isoformat() and today["rows"][0]["status"] == "grey"
    assert len(today["rows"][0]["month"]) == 20
    fresh(db)
    assert db.scalar(select(func.count()).select_from(DailyValue)) == 2


def test_entry_errors(client, db, people, org):
    board_id = _board(client, people, rows=ROWS + [
        {"letter": "D", "indicator": "improvement.late_actions", "target": 0, "threshold": 2}]).get_json()["id"]
    url, headers = f"/api/v1/boards/{board_id}/entries", people.headers(people.apprentice)
    cases = [
        ({"indicator": "aic.safety", "date": (TODAY + timedelta(days=1)).isoformat(), "value": 0}, 422, "date"),
        ({"indicator": "aic.safety", "date": "20/11/2026", "value": 0}, 422, "date"),
        ({"indicator": "aic.safety", "date": TODAY.isoformat(), "value": 3}, 422, "value"),
        ({"indicator": "aic.mood", "date": TODAY.isoformat(), "value": 0}, 422, "value"),
        ({"indicator": "aic.mood", "date": TODAY.isoformat(), "value": "bien"}, 422, "value"),
        ({"indicator": "aic.mood", "date": TODAY.isoformat()}, 422, "value"),
        ({"indicator": "improvement.late_actions", "date": TODAY.isoformat(), "value": 1}, 422, "indicator"),
        ({"indicator": "stock.stockouts", "date": TODAY.isoformat(), "value": 1}, 422, "indicator"),
    ]
    for payload, status, field in cases:
        response = client.post(url, json=payload, headers=headers)
        assert (response.status_code, response.get_json()["error"]["field"]) == (status, field), payload
    assert client.post(url, data="{", headers=headers | {"Content-Type": "application/json"}).status_code == 400
    # an apprentice of another team may not feed this board
    response = client.post(url, json={"indicator": "aic.mood", "date": TODAY.isoformat(), "value": 4},
                           headers=people.headers(people.other_apprentice))
    assert response.status_code == 403
    assert client.post("/api/v1/boards/999/entries", json={}, headers=headers).status_code == 404
    fresh(db)
    assert db.scalar(select(func.count()).select_from(DailyValue)) == 0


def test_data_refuses_a_day_to_come_and_a_bad_date(client, people, org):
    board_id = _board(client, people).get_json()["id"]
    headers = people.headers(people.apprentice)
    response = client.get(f"/api/v1/boards/{board_id}/data?date=2026-11-21", headers=headers)
    assert response.status_code == 422 and response.get_json()["error"]["field"] == "date"
    assert client.get(f"/api/v1/boards/{board_id}/data?date=demain", headers=headers).status_code == 422
    assert client.get("/api/v1/boards/999/data", headers=headers).status_code == 404


def test_a_row_whose_module_is_not_installed_is_grey_with_a_note(client, db, people, org):
    board_id = _board(client, people).get_json()["id"]
    db.add(BoardRow(board_id=board_id, letter="P", indicator_key="energie.consommation_kwh", target=95,
                    threshold=90, position=9))
    db.commit()
    data = client.get(f"/api/v1/boards/{board_id}/data", headers=people.headers(people.tutor)).get_json()
    assert [r["letter"] for r in data["rows"]] == ["S", "P", "M"]     # rows in SQCDPM order
    row = data["rows"][1]
    assert row["indicator"] == "energie.consommation_kwh" and row["status"] == "grey" and row["value"] is None
    assert "non installé" in row["note"]


def test_manual_indicator_defined_by_a_team(client, db, people, org):
    headers = people.headers(people.tutor)
    response = client.post("/api/v1/indicators", json={"label": "Rebuts de la cellule", "letter": "Q",
                                                       "unit": "pièces", "higher_is_better": False}, headers=headers)
    assert response.status_code == 201 and response.get_json()["key"] == "equipe.rebuts_de_la_cellule"
    assert client.post("/api/v1/indicators", json={"label": "X", "letter": "Z", "higher_is_better": True},
                       headers=headers).get_json()["error"]["field"] == "letter"
    assert client.post("/api/v1/indicators", json={"label": "Rebuts de la cellule", "letter": "Q",
                                                   "higher_is_better": False}, headers=headers).status_code == 422
    board_id = _board(client, people, rows=[{"letter": "Q", "indicator": "equipe.rebuts_de_la_cellule",
                                             "target": 2, "threshold": 5}]).get_json()["id"]
    assert client.post(f"/api/v1/boards/{board_id}/entries", json={"indicator": "equipe.rebuts_de_la_cellule",
                       "date": TODAY.isoformat(), "value": "3,5"}, headers=headers).status_code == 201
    row = client.get(f"/api/v1/boards/{board_id}/data", headers=headers).get_json()["rows"][0]
    assert (row["value"], row["status"]) == (3.5, "orange")
    keys = [i["key"] for i in client.get("/api/v1/indicators", headers=headers).get_json()["indicators"]]
    assert {"aic.safety", "aic.mood", "equipe.rebuts_de_la_cellule", "improvement.late_actions"} <= set(keys)


def test_indicators_from_two_modules(client, db, people, org, now):
    """improvement.late_actions and stock.value land on a board: live today, snapshots for past days."""
    from modules.improvement.services import NewAction, create_action
    from modules.stock import inputs as stock_inputs, ledger
    from modules.stock.masterdata import create_item, create_location
    from modules.stock.models import Lot

    long_ago = now - timedelta(days=10)
    for title in ("Refaire le marquage au sol", "Changer la batterie du chariot"):
        create_action(db, people.tutor, NewAction(title=title, deliverable="fait", due=TODAY - timedelta(days=3)),
                      owner=people.apprentice, now=long_ago, team_id=org.logistics.id)
    item = create_item(db, stock_inputs.item({"sku": "JT-20", "name": "Joint torique 20 mm", "unit_cost": "12.5"}))
    shelf = create_location(db, stock_inputs.location({"code": "A-01-02-3", "kind": "storage"}))
    lot = Lot(item_id=item.id, number="L1")
    db.add(lot)
    db.flush()
    ledger.move(db, item=item, lot=lot, qty=Decimal(10), source=None, target=shelf, reason="reception",
                user=people.tutor, at=now - timedelta(days=1, hours=3))
    db.commit()
    board_id = _board(client, people, rows=[
        {"letter": "D", "indicator": "improvement.late_actions", "target": 0, "threshold": 1},
        {"letter": "C", "indicator": "stock.value", "target": 100, "threshold": 200}]).get_json()["id"]

    headers = people.headers(people.tutor)
    value, late = client.get(f"/api/v1/boards/{board_id}/data", headers=headers).get_json()["rows"]  # C before D
    assert (late["indicator"], late["value"], late["status"]) == ("improvement.late_actions", 2.0, "red")
    assert (value["indicator"], value["value"], value["status"]) == ("stock.value", 125.0, "orange")
    # before the reception there was no stock value; before the due date nothing was late
    by_day = {d["date"]: d for d in value["month"]}
    assert by_day["2026-11-18"]["value"] == 0.0 and by_day["2026-11-18"]["status"] == "green"
    assert {d["date"]: d["value"] for d in late["month"]}["2026-11-16"] == 0.0
    assert by_day["2026-11-19"]["value"] == 125.0
    # the read kept nothing: past days are kept as snapshots by the job (once), today stays live
    fresh(db)
    assert db.scalar(select(func.count()).select_from(DailyValue)) == 0
    services.snapshot_job(db, now, days=(TODAY - TODAY.replace(day=1)).days)
    db.commit()
    assert client.get(f"/api/v1/boards/{board_id}/data", headers=headers).get_json()["rows"] == [value, late]
    fresh(db)
    stored = db.scalar(select(func.count()).select_from(DailyValue).where(DailyValue.source == "snapshot"))
    assert stored == 2 * 19
    client.get(f"/api/v1/boards/{board_id}/data", headers=headers)
    fresh(db)
    assert db.scalar(select(func.count()).select_from(DailyValue)) == stored
    assert db.scalar(select(func.count()).select_from(DailyValue).where(DailyValue.day == TODAY)) == 0


def test_snapshot_job_is_safe_twice(db, people, org, now):
    org.board(people.tutor, rows=[{"letter": "D", "indicator": "improvement.late_actions", "target": 0,
                                   "threshold": 1}])
    first = services.snapshot_job(db, now)
    db.commit()
    count = db.scalar(select(func.count()).select_from(DailyValue))
    assert count == services.JOB_DAYS and first.startswith(str(services.JOB_DAYS))
    services.snapshot_job(db, now)
    db.commit()
    assert db.scalar(select(func.count()).select_from(DailyValue)) == count


def test_workshop_board_aggregates_team_safety_and_mood(db, people, org):
    workshop = org.board(people.tutor, name="Atelier", level=2, team=None)
    team_board = org.board(people.tutor, parent_id=workshop.id)
    other = org.board(people.tutor, name="Maintenance AIC", team="Maintenance", parent_id=workshop.id)
    for board, safety, mood in ((team_board, 0, 5), (other, 2, 3)):
        for key, value in (("aic.safety", safety), ("aic.mood", mood)):
            services.record_entry(db, people.tutor, board,
                                  inputs.entry({"indicator": key, "date": TODAY, "value": value}), TODAY)
    db.commit()
    rows = {r["indicator"]: r for r in read.board_data(db, workshop, TODAY, TODAY)["rows"]}
    assert (rows["aic.safety"]["value"], rows["aic.safety"]["status"]) == (2.0, "red")   # the worst event
    assert (rows["aic.mood"]["value"], rows["aic.mood"]["status"]) == (4.0, "green")      # the mean mood
    # the workshop's own entry wins over the aggregate
    services.record_entry(db, people.tutor, workshop,
                          inputs.entry({"indicator": "aic.safety", "date": TODAY, "value": 1}), TODAY)
    rows = {r["indicator"]: r for r in read.board_data(db, workshop, TODAY, TODAY)["rows"]}
    assert rows["aic.safety"]["value"] == 1.0
