"""How many SQL statements one pick costs: `POST /api/v1/stock/picks` stays within 8 (issue 19), on both
databases. A count, never a time: the listener sees every statement the app's engine sends."""
from __future__ import annotations

from tests.conftest import statements_sent

MAX_STATEMENTS_PER_PICK = 8


def _post_pick(app, client, people, **payload):
    headers = people.headers(people.apprentice)
    client.get("/api/v1/stock/picks/0", headers=headers)  # the token's first use is recorded apart, once
    with statements_sent(app.extensions["shopfloor_sessions"].engine) as statements:
        response = client.post("/api/v1/stock/picks", json=payload, headers=headers)
    assert response.status_code == 201, response.json
    return response, statements


def test_a_pick_from_one_lot_takes_at_most_eight_statements(app, client, people, store):
    store.receive("VIS-M8", 20, location="A-01-02-1")
    response, statements = _post_pick(app, client, people, sku="VIS-M8", qty=5, destination="L1")
    assert [line["qty"] for line in response.json["lines"]] == [5]
    assert len(statements) <= MAX_STATEMENTS_PER_PICK, "\n".join(statements)


def test_a_pick_split_over_two_lots_takes_one_more_statement_per_lot(app, client, people, store, now):
    store.receive("VIS-M8", 3, location="A-01-02-1", when=now)
    store.receive("VIS-M8", 9, location="B-02-01-1", when=now)
    response, statements = _post_pick(app, client, people, sku="VIS-M8", qty=5, destination="L1")
    assert [line["qty"] for line in response.json["lines"]] == [3, 2]
    assert len(statements) <= MAX_STATEMENTS_PER_PICK + 1, "\n".join(statements)
