"""The evidence API and pages: the five-person permission matrix, the freeze, reports, final file."""
import hashlib
import io

import pytest
from docx import Document
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import func, select

from shopfloor.evidence.models import Activity, Evidence
from shopfloor.referential.models import Competence
from tests.conftest import fresh, login


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 90), (20, 120, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def api(client, people):
    def call(method, url, user, **kwargs):
        return client.open(url, method=method, headers=people.headers(user), **kwargs)
    return call


def create_submitted(api, people, code="LOG-1", title="Réception transporteur"):
    act = api("POST", "/api/v1/activities", people.apprentice,
              json={"type": "generic", "title": title, "performed_at": "2026-11-18T10:30", "description": "Palette"})
    assert act.status_code == 201, act.get_json()
    ev = api("POST", "/api/v1/evidence", people.apprentice,
             json={"activity_id": act.get_json()["id"], "competence": code, "statement": "J'ai tout vérifié."})
    assert ev.status_code == 201 and ev.get_json()["state"] == "draft"
    assert api("POST", f"/api/v1/evidence/{ev.get_json()['id']}/submit", people.apprentice).status_code == 200
    return act.get_json()["id"], ev.get_json()["id"]


def criteria(db, code="LOG-1"):
    return [c.id for c in db.scalar(select(Competence).where(Competence.code == code)).criteria[:2]]


def test_permission_matrix_on_one_piece_of_evidence(api, people, db):
    activity_id, evidence_id = create_submitted(api, people)
    expect = {  # user: (read activity, review, coverage, report); someone else's record answers 404
        "apprentice": (200, 403, 200, 200),
        "other_apprentice": (404, 403, 403, 403),
        "tutor": (200, None, 200, 200),
        "other_tutor": (404, 404, 403, 403),
        "admin": (200, 403, 200, 200),
    }
    for name, (read, review, coverage, report) in expect.items():
        user = getattr(people, name)
        assert api("GET", f"/api/v1/activities/{activity_id}", user).status_code == read, name
        assert api("GET", "/api/v1/apprentices/appr/coverage?certification=LOG", user).status_code == coverage, name
        assert api("GET", "/api/v1/apprentices/appr/report.xlsx?certification=LOG", user).status_code == report, name
        if review:
            response = api("POST", f"/api/v1/evidence/{evidence_id}/review", user,
                           json={"decision": "validate", "criteria": criteria(db)})
            assert response.status_code == review, name
    assert api("PATCH", f"/api/v1/activities/{activity_id}", people.other_apprentice, json={"title": "x"}).status_code == 404
    assert api("POST", f"/api/v1/evidence/{evidence_id}/submit", people.other_apprentice).status_code == 404
    response = api("POST", f"/api/v1/evidence/{evidence_id}/review", people.tutor,
                   json={"decision": "validate", "comment": "Bien", "criteria": criteria(db)})
    assert response.status_code == 200 and response.get_json()["state"] == "validated"


def test_bad_evidence_input_is_a_clear_4xx_and_writes_nothing(api, people, db):
    act = api("POST", "/api/v1/activities", people.apprentice,
              json={"title": "Inventaire", "performed_at": "2026-11-18T10:30"}).get_json()
    cases = [
        ({"activity_id": act["id"], "competence": "QSE-1"}, 422, "competence"),   # not a prepared certification
        ({"activity_id": act["id"], "competence": "LOG-42"}, 422, "competence"),
        ({"activity_id": "abc", "competence": "LOG-1"}, 422, "activity_id"),
        ({"activity_id": 999999, "competence": "LOG-1"}, 404, "activity_id"),
        ({"competence": "LOG-1"}, 422, "activity_id"),
    ]
    for payload, status, field in cases:
        response = api("POST", "/api/v1/evidence", people.apprentice, json=payload)
        assert response.status_code == status and response.get_json()["error"]["field"] == field, payload
    response = api("POST", "/api/v1/evidence", people.tutor, json={"activity_id": act["id"], "competence": "LOG-1"})
    assert response.status_code == 403
    assert db.scalar(select(func.count()).select_from(Evidence)) == 0


def test_review_input_errors(api, people, db):
    _, evidence_id = create_submitted(api, people)
    url = f"/api/v1/evidence/{evidence_id}/review"
    assert api("POST", url, people.tutor, json={"decision": "maybe"}).get_json()["error"]["field"] == "decision"
    assert api("POST", url, people.tutor, json={"decision": "return"}).get_json()["error"]["field"] == "comment"
    assert api("POST", url, people.tutor, json={"decision": "validate", "criteria": "x"}).status_code == 422
    assert api("POST", url, people.tutor, json={"decision": "validate", "criteria": [criteria(db, "QSE-2")[0]]}).status_code == 422
    fresh(db)
    assert db.get(Evidence, evidence_id).state == "submitted"


def test_validated_activity_refuses_edits_by_api_and_page(api, people, db, client):
    activity_id, evidence_id = create_submitted(api, people)
    api("POST", f"/api/v1/evidence/{evidence_id}/review", people.tutor,
        json={"decision": "validate", "comment": "ok", "criteria": criteria(db)})
    response = api("PATCH", f"/api/v1/activities/{activity_id}", people.apprentice, json={"title": "Nouveau"})
    assert response.status_code == 409 and "figée" in response.get_json()["error"]["message"]
    assert api("DELETE", f"/api/v1/activities/{activity_id}", people.apprentice).status_code == 409
    response = api("POST", f"/api/v1/activities/{activity_id}/attachments", people.apprentice,
                   data={"file": (io.BytesIO(png()), "p.png")}, content_type="multipart/form-data")
    assert response.status_code == 409
    login(client, "appr", "clef-atelier-2026")
    page = client.get(f"/activities/{activity_id}/edit")
    assert page.status_code == 409 and "figée" in page.get_data(as_text=True)
    post = client.post(f"/activities/{activity_id}/edit", data={"title": "X", "performed_at": "2026-11-18T10:00"})
    assert post.status_code == 409
    fresh(db)
    assert db.get(Activity, activity_id).title == "Réception transporteur"


def test_docx_report_holds_statement_criteria_comment_and_photo(api, people, db):
    activity_id, evidence_id = create_submitted(api, people)
    response = api("POST", f"/api/v1/activities/{activity_id}/attachments", people.apprentice,
                   data={"file": (io.BytesIO(png()), "palette.png")}, content_type="multipart/form-data")
    assert response.status_code == 201
    ids = criteria(db)
    api("POST", f"/api/v1/evidence/{evidence_id}/review", people.tutor,
        json={"decision": "validate", "comment": "Contrôle rigoureux.", "criteria": ids})
    response = api("GET", "/api/v1/apprentices/appr/report.docx?certification=LOG", people.apprentice)
    assert response.status_code == 200
    doc = Document(io.BytesIO(response.data))
    text = "\n".join(p.text for p in doc.paragraphs) + "\n".join(
        c.text for t in doc.tables for r in t.rows for c in r.cells)
    comp = db.scalar(select(Competence).where(Competence.code == "LOG-1"))
    assert "J'ai tout vérifié." in text and "Contrôle rigoureux." in text
    assert comp.criteria[0].text in text and comp.criteria[1].text in text
    assert len(doc.inline_shapes) == 1
    assert "LOG-2" in text  # still without evidence, listed at the end
    workbook = load_workbook(io.BytesIO(api("GET", "/api/v1/apprentices/appr/report.xlsx?certification=LOG",
                                            people.tutor).data))
    assert workbook["Preuves"].max_row == 2
    html = api("GET", "/api/v1/apprentices/appr/report.html?certification=LOG", people.tutor).get_data(as_text=True)
    assert "Contrôle rigoureux." in html


def test_report_options_and_errors(api, people, db):
    create_submitted(api, people)
    validated_only = Document(io.BytesIO(api("GET", "/api/v1/apprentices/appr/report.docx?certification=LOG",
                                             people.apprentice).data))
    assert "J'ai tout vérifié." not in "\n".join(p.text for p in validated_only.paragraphs)
    with_submitted = Document(io.BytesIO(api(
        "GET", "/api/v1/apprentices/appr/report.docx?certification=LOG&include_submitted=1", people.apprentice).data))
    assert "J'ai tout vérifié." in "\n".join(p.text for p in with_submitted.paragraphs)
    response = api("GET", "/api/v1/apprentices/appr/report.docx?certification=QSE", people.apprentice)
    assert response.status_code == 422 and response.get_json()["error"]["field"] == "certification"
    response = api("GET", "/api/v1/apprentices/appr/report.pdf?certification=LOG", people.apprentice)
    assert response.status_code == 422 and response.get_json()["error"]["field"] == "format"
    assert api("GET", "/api/v1/apprentices/appr/report.docx", people.apprentice).status_code == 422  # two CQPM


def test_coverage_api_contract(api, people, db):
    _, evidence_id = create_submitted(api, people)
    body = api("GET", "/api/v1/apprentices/appr/coverage?certification=LOG", people.apprentice).get_json()
    assert len(body["competences"]) == 7
    log1 = next(c for c in body["competences"] if c["code"] == "LOG-1")
    assert {k: log1[k] for k in ("validated", "submitted", "draft", "returned")} == {
        "validated": 0, "submitted": 1, "draft": 0, "returned": 0}
    assert api("GET", "/api/v1/apprentices/appr/coverage?certification=QSE", people.apprentice).status_code == 422
    assert api("GET", "/api/v1/apprentices/nobody/coverage", people.admin).status_code == 404


def test_final_report_is_frozen_with_checksums(api, people, db, client, app):
    _, evidence_id = create_submitted(api, people)
    api("POST", f"/api/v1/evidence/{evidence_id}/review", people.tutor,
        json={"decision": "validate", "comment": "ok", "criteria": criteria(db)})
    login(client, "appr", "clef-atelier-2026")
    assert client.post("/apprentices/appr/final/LOG").status_code == 302
    assert client.get("/apprentices/appr/final/LOG.docx").status_code == 404   # tutor has not declared yet
    client.post("/logout")
    login(client, "tutor2", "clef-formateur-2026")
    assert client.post("/apprentices/appr/final/LOG").status_code == 403
    client.post("/logout")
    login(client, "tutor", "clef-formateur-2026")
    assert client.post("/apprentices/appr/final/LOG").status_code == 302
    frozen = client.get("/apprentices/appr/final/LOG.docx")
    assert frozen.status_code == 200
    fresh(db)
    from shopfloor.evidence.models import FinalReport
    record = db.scalar(select(FinalReport))
    assert record.frozen_at and hashlib.sha256(frozen.data).hexdigest() == record.files["docx"]["sha256"]
    # later work does not change the frozen file
    create_submitted(api, people, "LOG-2", "Autre travail")
    assert client.get("/apprentices/appr/final/LOG.docx").data == frozen.data
    assert client.post("/apprentices/appr/final/LOG").status_code == 409


def test_apprentice_flow_through_pages(client, people, db):
    login(client, "appr", "clef-atelier-2026")
    response = client.post("/activities/new", data={
        "title": "Rédaction d'un mode opératoire", "performed_at": "2026-11-19T14:00", "description": "Poste 3",
        "files": (io.BytesIO(png()), "poste.png")}, content_type="multipart/form-data")
    assert response.status_code == 302
    activity_id = int(response.location.rsplit("/", 1)[1])
    page = client.get(f"/activities/{activity_id}").get_data(as_text=True)
    assert "poste.png" in page and "LOG-1" in page
    assert client.post(f"/activities/{activity_id}/evidence", data={"competence": ["LOG-1", "MAINT-2"],
                                                                 "statement": "J'ai rédigé et testé."}).status_code == 302
    fresh(db)
    evidence = db.scalars(select(Evidence).order_by(Evidence.id)).all()
    assert [e.competence.code for e in evidence] == ["LOG-1", "MAINT-2"]
    response = client.post(f"/evidence/{evidence[0].id}/statement", data={"statement": "J'ai rédigé puis testé.",
                                                                          "submit": "1"})
    assert response.status_code == 302
    bad = client.post("/activities/new", data={"title": "", "performed_at": "2026-11-19T14:00"})
    assert bad.status_code == 422 and "obligatoire" in bad.get_data(as_text=True)
    bad = client.post("/activities/new", data={"title": "Photo", "performed_at": "2026-11-19T14:00",
                                               "files": (io.BytesIO(b"#!/bin/sh\necho"), "x.jpg")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422 and "Type de fichier refusé" in bad.get_data(as_text=True)
    fresh(db)
    assert db.scalar(select(func.count()).select_from(Activity)) == 1
    client.post("/logout")
    login(client, "tutor", "clef-formateur-2026")
    queue = client.get("/review").get_data(as_text=True)
    assert "mode opératoire" in queue
    review_page = client.get(f"/review/{evidence[0].id}").get_data(as_text=True)
    assert "rédigé puis testé." in review_page and "Méthodes utilisées" in review_page
    response = client.post(f"/review/{evidence[0].id}", data={"decision": "return", "comment": ""})
    assert response.status_code == 422
    ids = criteria(db)
    response = client.post(f"/review/{evidence[0].id}", data={"decision": "validate", "comment": "Bien",
                                                              "criteria": [str(i) for i in ids]})
    assert response.status_code == 302
    assert "LOG" in client.get("/coverage?certification=LOG").get_data(as_text=True)


def test_attachment_files_only_for_those_who_may_see_them(api, people, client, db):
    activity_id, _ = create_submitted(api, people)
    api("POST", f"/api/v1/activities/{activity_id}/attachments", people.apprentice,
        data={"file": (io.BytesIO(png()), "p.png")}, content_type="multipart/form-data")
    fresh(db)
    stored = db.scalar(select(Activity).where(Activity.id == activity_id)).attachments[0].stored_name
    for username, password, status in (("appr", "clef-atelier-2026", 200), ("tutor", "clef-formateur-2026", 200),
                                       ("appr2", "clef-atelier-2026", 404), ("tutor2", "clef-formateur-2026", 404)):
        login(client, username, password)
        assert client.get(f"/files/{stored}").status_code == status, username
        assert client.get(f"/files/{stored}?thumb=1").status_code == status, username
        client.post("/logout")
