"""API contract: bearer tokens, the error format, the OpenAPI document, nothing written on bad input."""
from sqlalchemy import func, select

from shopfloor.evidence.models import Activity


def test_healthz_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_401_without_or_with_a_bad_token(client, people):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/competences", headers=headers)
        assert response.status_code == 401
        error = response.get_json()["error"]
        assert error["code"] == "unauthorized" and error["message"] and "field" in error


def test_session_cookie_does_not_authenticate_the_api(client, people):
    client.post("/login", data={"username": "appr", "password": "clef-atelier-2026"})
    assert client.get("/api/v1/competences").status_code == 401


def test_revoked_token_and_inactive_user_are_refused(client, people, db, now):
    from shopfloor.auth.services import revoke_tokens
    headers = people.headers(people.apprentice)
    assert client.get("/api/v1/me", headers=headers).get_json()["username"] == "appr"
    revoke_tokens(db, people.apprentice, now)
    db.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_403_for_a_wrong_role(client, people):
    response = client.get("/api/v1/reviews", headers=people.headers(people.apprentice))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_bad_input_names_the_field_and_writes_nothing(client, people, db):
    headers = people.headers(people.apprentice)
    cases = [
        ({"title": "", "performed_at": "2026-11-01T10:00"}, "title", 422),
        ({"title": "Ok", "performed_at": "yesterday"}, "performed_at", 422),
        ({"title": "Ok", "performed_at": "2999-01-01T10:00"}, "performed_at", 422),
        ({"title": 12, "performed_at": "2026-11-01T10:00"}, "title", 422),
        ({"type": "rocket", "title": "Ok", "performed_at": "2026-11-01T10:00"}, "type", 422),
    ]
    for payload, field, status in cases:
        response = client.post("/api/v1/activities", json=payload, headers=headers)
        assert response.status_code == status, payload
        assert response.get_json()["error"]["field"] == field, payload
    response = client.post("/api/v1/activities", data="{not json", headers=dict(headers, **{"Content-Type": "application/json"}))
    assert response.status_code == 400
    response = client.post("/api/v1/activities", json=[1, 2], headers=headers)
    assert response.status_code == 400
    assert db.scalar(select(func.count()).select_from(Activity)) == 0


def test_unknown_api_path_is_a_json_404(client, people):
    response = client.get("/api/v1/nothing-here", headers=people.headers(people.apprentice))
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_openapi_describes_every_endpoint(app, client):
    document = client.get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    described = {(path, method) for path, ops in document["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = rule.rule.replace("<int:", "<").replace("<", "{").replace(">", "}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (path, method.lower()) in described, (path, method)
                assert document["paths"][path][method.lower()]["summary"] != rule.endpoint, rule.endpoint
    assert "/api/v1/competences" in document["paths"]
