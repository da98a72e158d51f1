"""Workshop screens: the token opens its boards read-only, nothing else; revoked, it stops."""

from sqlalchemy import select

from dashboards import screens
from dashboards.inputs import NewScreen
from dashboards.models import Screen
from tests.conftest import fresh, login
from tests.dashboards.conftest import TODAY


def _screen(db, people, boards):
    screen, token = screens.create_screen(db, people.admin, NewScreen(name="Allée centrale",
                                                                      board_ids=[b.id for b in boards]))
    db.commit()
    return screen, token


def test_token_is_long_random_and_stored_hashed(db, people, org):
    board = org.board(people.tutor)
    screen, token = _screen(db, people, [board])
    assert len(token) >= 43
    stored = db.scalar(select(Screen))
    assert token not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64
    assert screens.screen_for_token(db, token).id == screen.id


def test_screen_shows_its_boards_without_login(client, db, people, org):
    board = org.board(people.tutor)
    other = org.board(people.tutor, name="Maintenance AIC", team="Maintenance")
    from dashboards import inputs, services
    services.record_entry(db, people.tutor, board, inputs.entry({"indicator": "aic.safety", "date": TODAY, "value": 0}),
                          TODAY)
    db.commit()
    _, token = _screen(db, people, [board])
    page = client.get(f"/screen/{token}")
    assert page.status_code == 200 and "Allée centrale" in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    data = client.get(f"/screen/{token}/data")
    assert data.status_code == 200 and data.headers["Cache-Control"] == "no-store"
    body = data.get_json()
    assert [b["board"]["name"] for b in body["boards"]] == ["Logistique AIC"]
    assert body["boards"][0]["rows"][0]["status"] == "green" and body["screen"]["refresh_seconds"] == 60
    # another board through the same token: refused
    assert client.get(f"/screen/{token}/data?board={other.id}").status_code == 404
    assert client.get(f"/screen/{token}?board={other.id}").status_code == 404
    assert client.get(f"/screen/{token}/data?board={board.id}").status_code == 200


def test_the_token_opens_nothing_else(client, db, people, org):
    board = org.board(people.tutor)
    _, token = _screen(db, people, [board])
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/boards/{board.id}/data", headers=bearer).status_code == 401
    assert client.post(f"/api/v1/boards/{board.id}/entries", headers=bearer,
                       json={"indicator": "aic.safety", "date": TODAY.isoformat(), "value": 2}).status_code == 401
    for url in (f"/boards/{board.id}", "/boards", "/", f"/screen/{token}/../boards"):
        response = client.get(url, headers=bearer)
        assert response.status_code in (302, 404) and "/screen" not in (response.location or ""), url
    assert client.post(f"/screen/{token}/data").status_code == 405
    assert client.get("/screen/not-a-token/data").status_code == 404


def test_revoked_token_stops_at_next_refresh(client, db, people, org, now):
    board = org.board(people.tutor)
    screen, token = _screen(db, people, [board])
    assert client.get(f"/screen/{token}/data").status_code == 200
    login(client, "admin", "clef-direction-2026")
    assert client.post(f"/screens/{screen.id}/revoke").status_code == 302
    client.post("/logout")
    response = client.get(f"/screen/{token}/data")
    assert response.status_code == 404 and "révoqué" in response.get_json()["error"]["message"]
    assert client.get(f"/screen/{token}").status_code == 404
    fresh(db)
    assert db.get(Screen, screen.id).revoked_at is not None


def test_admin_registers_a_screen_and_sees_the_link_once(client, db, people, org):
    board = org.board(people.tutor)
    login(client, "admin", "clef-direction-2026")
    response = client.post("/screens", data={"name": "Quai", "boards": [str(board.id)], "refresh_seconds": "30",
                                             "cycle_seconds": "20"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "/screen/" in html
    link = html.split('id="screen-link" href="')[1].split('"')[0]
    client.post("/logout")
    assert client.get(link.replace("http://localhost", "") + "/data").status_code == 200
    login(client, "admin", "clef-direction-2026")
    assert "/screen/" + link.rsplit("/", 1)[1] not in client.get("/screens").get_data(as_text=True)
    bad = client.post("/screens", data={"name": "Quai", "refresh_seconds": "30", "cycle_seconds": "20"})
    assert bad.status_code == 422 and "au moins un tableau" in bad.get_data(as_text=True)


def test_only_admins_manage_screens(client, people, org):
    login(client, "tutor", "clef-formateur-2026")
    assert client.get("/screens").status_code == 403
    assert client.post("/screens/1/revoke").status_code == 403
