"""Every page and endpoint checks the role server-side: the route × role matrix."""
import pytest

from tests.conftest import login

PASSWORDS = {"admin": "password-admin", "tutor": "password-tutor", "appr": "password-appr"}
ROLE_USER = {"admin": "admin", "tutor": "tutor", "apprentice": "appr"}
PUBLIC = {"/login", "/healthz", "/api/openapi.json", "/assets/plotly.min.js", "/static/<path:filename>",
          # a workshop screen: its token is the key; these views are public and read-only
          "/screen/<token>", "/screen/<token>/data", "/aic-static/<path:filename>"}


def html_get_routes(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith("/api/"):
            yield rule


def test_every_page_refuses_anonymous_users(app, client):
    for rule in app.url_map.iter_rules():
        if rule.rule in PUBLIC or rule.rule.startswith("/api/"):
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<int:{arg}>", "1").replace(f"<{arg}>", "x")
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(url, method=method)
        assert response.status_code in (302, 404) and (response.status_code == 404 or "/login" in response.location), url


def test_every_api_endpoint_needs_a_token(app, client):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<int:{arg}>", "1").replace(f"<{arg}>", "x")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert client.open(url, method=method).status_code == 401, (method, url)


@pytest.mark.parametrize("role", ["admin", "tutor", "apprentice"])
def test_pages_answer_by_declared_roles(app, client, people, role):
    login(client, ROLE_USER[role], PASSWORDS[ROLE_USER[role]])
    for rule in html_get_routes(app):
        if rule.rule in PUBLIC:
            continue
        view = app.view_functions[rule.endpoint]
        allowed = getattr(view, "required_roles", None)
        assert allowed is not None, f"{rule.rule} declares no roles"
        response = client.get(rule.rule)
        if role in allowed:
            assert response.status_code in (200, 302), (role, rule.rule, response.status_code)
        else:
            assert response.status_code == 403, (role, rule.rule, response.status_code)


def test_every_view_declares_its_roles(app):
    for rule in app.url_map.iter_rules():
        if rule.rule in PUBLIC or rule.endpoint in ("auth.login", "auth.logout", "web.openapi"):
            continue
        assert getattr(app.view_functions[rule.endpoint], "required_roles", None), rule.rule


@pytest.mark.parametrize("role,status", [("admin", 200), ("tutor", 403), ("apprentice", 403)])
def test_admin_pages_by_role(client, people, role, status):
    login(client, ROLE_USER[role], PASSWORDS[ROLE_USER[role]])
    assert client.get("/admin/users").status_code == status
    assert client.get("/admin/users/appr").status_code == status
    response = client.post("/admin/users/new", data={"username": "x1", "full_name": "X", "role": "admin",
                                                     "password": "password-x"})
    assert response.status_code == (302 if status == 200 else 403)
