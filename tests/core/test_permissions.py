"""Every page and endpoint checks the role server-side: the route × role matrix."""
import base64
import io

import pytest

from tests.conftest import login

PASSWORDS = {"admin": "clef-direction-2026", "tutor": "clef-formateur-2026", "appr": "clef-atelier-2026"}
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
                                                     "password": "clef-nouvelle-2026"})
    assert response.status_code == (302 if status == 200 else 403)


# -- One record, seen only by the right people ------------------------------------------
# Every page and endpoint that shows or changes one work order or one AIC meeting answers 404 to a
# second apprentice and a second tutor (404, not 403: the id is not confirmed). The routes are
# found in the URL map, so a new one is checked without being listed here.
RECORD_ARGUMENTS = ("wo_id", "meeting_id", "problem_id")
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")
STEPS = ("separate", "lock", "tag", "purge", "verify")
API_BODIES = {"results": {"values": {}}}


@pytest.fixture
def records(app, client, db, people, now):
    """A corrective WO taken and diagnosed by `appr` (Logistique), and a meeting `appr` led on the
    Logistique board with one problem; `appr2` is in Maintenance and follows `tutor2`."""
    from dashboards import inputs as board_inputs, meetings, services as boards
    from shopfloor.auth.models import Site, Team
    site = Site(name="Usine test")
    logistics, maintenance = Team(site=site, name="Logistique"), Team(site=site, name="Maintenance")
    db.add_all([site, logistics, maintenance])
    db.flush()
    people.apprentice.team, people.other_apprentice.team = logistics, maintenance
    db.commit()
    api = "/api/v1/maintenance"
    tutor, appr = people.headers(people.tutor), people.headers(people.apprentice)
    assert client.post(f"{api}/equipment", headers=tutor, json={
        "code": "CMP-01", "name": "Compresseur", "technologies": ["electrique"], "criticality": "A",
        "energies": ["electrique"]}).status_code == 201
    wo_id = client.post(f"{api}/work-orders", headers=appr, json={"equipment": "CMP-01",
                                                                 "symptom": "Ne démarre plus"}).json["id"]
    steps = [{"energy": "electrique", "step": s} for s in STEPS]
    assert client.post(f"{api}/work-orders/{wo_id}/lockout", headers=appr, json={"steps": steps}).status_code == 200
    assert client.post(f"{api}/work-orders/{wo_id}/diagnosis", headers=appr, json={
        "lost_function": "Produire de l'air", "root_cause": "Contacteur KM1 brûlé (diagnostic d'Alice)",
        "failure_mode": "COU", "failure_cause": "FAT",
        "hypotheses": [{"hypothesis": "Contacteur KM1", "test": "Mesure bobine", "result": "confirmed"}],
        "consequences": {"production": "Ligne 2 arrêtée 3 h"}}).status_code == 200, "diagnosis"
    board = boards.create_board(db, people.tutor, board_inputs.new_board({
        "name": "Logistique AIC", "level": 1, "team": "Logistique",
        "rows": [{"letter": "S", "indicator": "aic.safety", "target": 0, "threshold": 1}]}), now.date())
    meeting = meetings.create_meeting(db, people.apprentice, board, performed_at=now, now=now,
                                      participants=["Alice Apprentie"], reviewed=[], led=True)
    problem = meetings.add_problem(db, people.apprentice, meeting, title="Rupture de colle", letter="D",
                                   category="Rupture", treatment="none", now=now)
    db.commit()
    return {"wo_id": wo_id, "meeting_id": meeting.id, "problem_id": problem.id}


def _record_rules(app):
    for rule in app.url_map.iter_rules():
        if not rule.arguments or not rule.arguments <= set(RECORD_ARGUMENTS):
            continue
        if "problem_id" in rule.arguments and not rule.rule.startswith("/boards/"):
            continue  # an improvement problem sheet, not a meeting's problem
        yield rule


def _url(rule, records):
    url = rule.rule
    for arg in rule.arguments:
        url = url.replace(f"<int:{arg}>", str(records[arg]))
    return url


def test_record_routes_are_found(app):
    rules = {r.rule for r in _record_rules(app)}
    assert "/maintenance/work-orders/<int:wo_id>" in rules
    assert "/api/v1/maintenance/work-orders/<int:wo_id>" in rules
    assert "/boards/meetings/<int:meeting_id>" in rules and "/boards/meetings/<int:meeting_id>/problems" in rules


@pytest.mark.parametrize("outsider", ["other_apprentice", "other_tutor"])
def test_a_second_apprentice_and_a_second_tutor_get_404_on_every_record_route(app, client, people, records,
                                                                               outsider):
    user = getattr(people, outsider)
    headers = people.headers(user)
    login(client, user.username, PASSWORDS["tutor" if user.role == "tutor" else "appr"])
    checked = 0
    for rule in _record_rules(app):
        url = _url(rule, records)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if rule.rule.startswith("/api/"):
                body = API_BODIES.get(url.rsplit("/", 1)[-1], {}) if method == "POST" else None
                response = client.open(url, method=method, headers=headers, json=body)
            else:
                response = client.open(url, method=method, data={})
            # a role the route never serves is refused before any record is read (403, same for every id)
            by_role = user.role not in app.view_functions[rule.endpoint].required_roles
            assert response.status_code == (403 if by_role else 404), (outsider, method, url, response.status_code)
            checked += 1
    assert checked >= 15
    # the lists do not show the record either
    listed = client.get("/api/v1/maintenance/work-orders", headers=headers).json
    assert records["wo_id"] not in [wo["id"] for wo in listed]
    assert "diagnostic d'Alice" not in client.get("/maintenance/").get_data(as_text=True)


@pytest.mark.parametrize("insider", ["apprentice", "tutor", "admin"])
def test_the_author_their_tutor_and_admins_see_the_records(app, client, people, records, insider):
    user = getattr(people, insider)
    login(client, user.username, PASSWORDS[{"apprentice": "appr"}.get(user.role, user.role)])
    for rule in _record_rules(app):
        if "GET" not in rule.methods:
            continue
        url = _url(rule, records)
        if rule.rule.startswith("/api/"):
            response = client.get(url, headers=people.headers(user))
        else:
            response = client.get(url)
        assert response.status_code == 200, (insider, url, response.status_code)
    page = client.get(f"/maintenance/work-orders/{records['wo_id']}").get_data(as_text=True)
    assert "diagnostic d'Alice" in page or "Contacteur KM1" in page


def test_a_tutor_of_another_team_cannot_add_problems_and_a_team_member_only_reads(app, client, db, people,
                                                                                   records):
    from dashboards.models import Problem
    from shopfloor.auth.models import User
    from sqlalchemy import func, select
    login(client, "tutor2", PASSWORDS["tutor"])
    response = client.post(f"/boards/meetings/{records['meeting_id']}/problems",
                           data={"title": "Intrus", "letter": "S", "category": "X", "treatment": "none"})
    assert response.status_code == 404
    client.post("/logout")
    teammate = db.get(User, people.other_apprentice.id)
    teammate.team = people.apprentice.team
    db.commit()
    login(client, "appr2", PASSWORDS["appr"])
    assert client.get(f"/boards/meetings/{records['meeting_id']}").status_code == 200
    response = client.post(f"/boards/meetings/{records['meeting_id']}/problems",
                           data={"title": "Pas l'animateur", "letter": "S", "category": "X", "treatment": "none"})
    assert response.status_code == 403
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Problem)) == 1


@pytest.mark.parametrize("outsider", ["other_apprentice", "other_tutor"])
def test_a_second_apprentice_and_a_second_tutor_neither_see_nor_change_an_activity_or_its_evidence(
        app, client, db, people, now, outsider):
    """Someone else's activity or evidence answers 404, like a missing one (403 only for a role the route never
    serves), and nothing shows or changes."""
    from shopfloor.evidence import services as evidence
    from shopfloor.evidence.models import Activity, Evidence
    activity = evidence.create_activity(db, people.apprentice, title="Réception Hydrauliq", performed_at=now,
                                        now=now, description="Travail d'Alice")
    proof = evidence.link_competence(db, people.apprentice, activity, "LOG-1", "Ce que j'ai fait moi-même", now)
    db.commit()
    ids = {"activity_id": activity.id, "evidence_id": proof.id}
    user = getattr(people, outsider)
    headers = people.headers(user)
    login(client, user.username, PASSWORDS["tutor" if user.role == "tutor" else "appr"])
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.arguments or not rule.arguments <= set(ids):
            continue
        url = _url(rule, ids)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if url.endswith("/attachments"):
                response = client.open(url, method=method, headers=headers, content_type="multipart/form-data",
                                       data={"files": (io.BytesIO(PNG), "photo.png"), "file": (io.BytesIO(PNG), "p.png")})
            elif rule.rule.startswith("/api/"):
                response = client.open(url, method=method, headers=headers,
                                       json={"title": "Pris", "statement": "Pris"} if method != "GET" else None)
            else:
                response = client.open(url, method=method, data={"title": "Pris", "statement": "Pris"})
            by_role = user.role not in app.view_functions[rule.endpoint].required_roles
            assert response.status_code == (403 if by_role else 404), (outsider, method, url, response.status_code)
            assert "Travail d'Alice" not in response.get_data(as_text=True), (method, url)
            checked += 1
    assert checked >= 15
    db.rollback()
    db.expire_all()
    assert db.get(Activity, activity.id).title == "Réception Hydrauliq"
    assert db.get(Evidence, proof.id).statement == "Ce que j'ai fait moi-même" and db.get(Evidence, proof.id).state == "draft"
