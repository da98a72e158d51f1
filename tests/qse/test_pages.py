"""The QSE pages, through a logged-in browser session (CSRF off in these tests)."""
from sqlalchemy import select

from modules.qse.models import Audit, NonConformity
from tests.conftest import fresh, login
from tests.qse.conftest import stock_of


def test_every_page_answers(client, people):
    login(client, "appr", "clef-atelier-2026")
    for url in ["/qse/", "/qse/nonconformities", "/qse/nonconformities/new", "/qse/audits", "/qse/audits/new",
                "/qse/audits/programme", "/qse/risks", "/qse/risks/new", "/qse/events", "/qse/regulatory",
                "/qse/regulatory/new", "/qse/regulatory/export.csv", "/qse/nonconformities?status=active&severity=major",
                "/qse/risks?category=ohs&min_score=4"]:
        assert client.get(url).status_code == 200, url
    assert client.get("/qse/nonconformities?severity=grave", follow_redirects=True).status_code == 200
    assert client.get("/qse/risks?min_score=abc", follow_redirects=True).status_code == 200


def test_nc_form_contain_and_close_refusal(client, db, people, store):
    store.receive("COL-100", 10, lot="EPX-A", expiry=store.day(90))
    login(client, "appr", "clef-atelier-2026")
    bad = client.post("/qse/nonconformities/new", data={"title": "Colle", "source": "production", "severity": "x",
                                                        "description": "d"})
    assert bad.status_code == 422 and "severity" in bad.get_data(as_text=True)
    created = client.post("/qse/nonconformities/new", data={
        "title": "Colle trop visqueuse", "source": "production", "severity": "minor", "requirement": "customer",
        "description": "Collage non conforme", "lots": "EPX-A\n"})
    assert created.status_code == 302
    fresh(db)
    nc = db.scalar(select(NonConformity))
    assert client.post(f"/qse/nonconformities/{nc.id}/contain", data={}).status_code == 302
    fresh(db)
    assert stock_of(db, "EPX-A") == {"QUAR-01": (10.0, 0.0)}
    page = client.get(f"/qse/nonconformities/{nc.id}").get_data(as_text=True)
    assert "EPX-A : 10 déplacé(s), 10 en quarantaine" in page and "l&#39;efficacité n&#39;est pas enregistrée" in page
    refused = client.post(f"/qse/nonconformities/{nc.id}/close")
    assert refused.status_code == 409 and "Clôture impossible" in refused.get_data(as_text=True)
    assert client.post(f"/qse/nonconformities/{nc.id}/effectiveness",
                       data={"effectiveness": "Plus de défaut", "effective": "true"}).status_code == 302
    assert client.post(f"/qse/nonconformities/{nc.id}/close").status_code == 302
    login(client, "appr2", "clef-atelier-2026")
    assert client.get(f"/qse/nonconformities/{nc.id}").status_code == 404   # someone else's: as if missing


def test_audit_pages_findings_and_print_report(client, db, people):
    login(client, "appr", "clef-atelier-2026")
    assert client.post("/qse/audits/new", data={"process": "", "standards": "iso9001"}).status_code == 422
    assert client.post("/qse/audits/new", data={"process": "Expédition", "standards": ["iso9001"],
                                                "clauses": "8.5 8.6", "questions": "Le BL est-il signé ?"}
                       ).status_code == 302
    fresh(db)
    audit = db.scalar(select(Audit))
    for clause, kind in (("8.5", "minor"), ("8.6", "conform"), ("8.5", "opportunity")):
        assert client.post(f"/qse/audits/{audit.id}/finding",
                           data={"clause": clause, "kind": kind, "evidence": f"Constat {clause} {kind}"}
                           ).status_code == 302
    assert client.post(f"/qse/audits/{audit.id}/finding", data={"clause": "8.5", "kind": "minor", "evidence": ""}
                       ).status_code == 422
    fresh(db)
    minor = [f for f in db.get(Audit, audit.id).findings if f.kind == "minor"][0]
    opened = client.post(f"/qse/audits/{audit.id}/findings/{minor.id}/nonconformity")
    assert opened.status_code == 302 and "/qse/nonconformities/" in opened.location
    printed = client.get(f"/qse/audits/{audit.id}/report").get_data(as_text=True)
    assert "§ 8.5 Production et prestation de service" in printed and "Constat 8.5 opportunity" in printed
    docx = client.get(f"/qse/audits/{audit.id}/report.docx")
    assert docx.status_code == 200 and docx.data[:2] == b"PK"
    assert client.post("/qse/audits/programme", data={"year": 2026, "month": 3, "process": "Expédition",
                                                      "standard": "iso9001"}).status_code == 403
    login(client, "tutor", "clef-formateur-2026")
    assert client.post("/qse/audits/programme", data={"year": 2026, "month": 3, "process": "Expédition",
                                                      "standard": "iso9001"}).status_code == 302
    assert "Expédition" in client.get("/qse/audits/programme?year=2026").get_data(as_text=True)
