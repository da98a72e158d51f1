"""Board data near its SQL: the daily values in one query, every level below and every manual indicator
in one more, whatever the depth; a GET of /data writes nothing."""
from dashboards import inputs, read, services
from tests.conftest import fresh, statements_sent
from tests.dashboards.conftest import TODAY

MANUAL_ROWS = [{"letter": "S", "indicator": "aic.safety", "target": 0, "threshold": 1},
               {"letter": "M", "indicator": "aic.mood", "target": 4, "threshold": 3}]


def _tree(db, people, org):
    site = org.board(people.tutor, name="Usine", level=3, team=None, rows=MANUAL_ROWS)
    workshop = org.board(people.tutor, name="Atelier", level=2, team=None, rows=MANUAL_ROWS, parent_id=site.id)
    teams = [org.board(people.tutor, parent_id=workshop.id),
             org.board(people.tutor, name="Maintenance AIC", team="Maintenance", parent_id=workshop.id)]
    for board, safety, mood in ((teams[0], 0, 5), (teams[1], 2, 3), (workshop, 1, 1)):
        for key, value in (("aic.safety", safety), ("aic.mood", mood)):
            services.record_entry(db, people.tutor, board,
                                  inputs.entry({"indicator": key, "date": TODAY, "value": value}), TODAY)
    db.commit()
    return site, workshop


def test_a_site_board_aggregates_every_level_below_in_one_statement(app, db, people, org):
    site, workshop = _tree(db, people, org)
    engine = app.extensions["shopfloor_sessions"].engine
    fresh(db)
    with statements_sent(engine) as seen:
        rows = {r["indicator"]: r for r in read.board_data(db, site, TODAY, TODAY)["rows"]}
    assert rows["aic.safety"]["value"] == 2.0                     # the worst event, two levels down
    assert rows["aic.mood"]["value"] == 3.0                       # the mean of the workshop's and the teams'
    value_reads = [s for s in seen if "FROM aic_value" in s]
    assert len(value_reads) == 2, value_reads                     # the board's own values, the aggregate below
    fresh(db)
    with statements_sent(engine) as seen_workshop:
        read.board_data(db, workshop, TODAY, TODAY)
    assert len(seen_workshop) == len(seen), (seen_workshop, seen)  # one level less, the same statements


def test_reading_board_data_writes_nothing(client, db, people, org):
    site, _ = _tree(db, people, org)
    headers = people.headers(people.tutor)
    assert client.get(f"/api/v1/boards/{site.id}/data", headers=headers).status_code == 200  # the token's first use
    with statements_sent(db.get_bind()) as seen:
        assert client.get(f"/api/v1/boards/{site.id}/data", headers=headers).status_code == 200
    assert not [s for s in seen if s.upper().startswith(("INSERT", "UPDATE", "DELETE"))], seen
