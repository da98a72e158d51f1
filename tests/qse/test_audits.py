"""Audits: checklist from the ISO clauses, findings, the DOCX report by clause, finding → NC or action."""
import io
from datetime import timedelta

from docx import Document

from modules.qse import audits, inputs
from modules.qse.models import NonConformity
from shopfloor import clock
from tests.conftest import fresh

AUDIT = {"process": "Réception et stockage", "audit_type": "process", "standards": ["iso9001", "iso45001"],
         "clauses": ["8.4", "8.5", "7.1", "8.1.2"], "auditors": "Nathan Petit", "auditees": "Lucas Martin",
         "scope": "Quai de réception, zone de stockage A", "questions": ["Les FDS des colles sont-elles au poste ?"]}


def test_standards_ship_clauses_4_to_10_with_titles():
    for key, label in (("iso9001", "ISO 9001:2015"), ("iso14001", "ISO 14001:2015"), ("iso45001", "ISO 45001:2018")):
        data = audits.standards()[key]
        assert data["label"] == label
        tops = [c["clause"] for c in data["clauses"] if "." not in c["clause"]]
        assert tops == ["4", "5", "6", "7", "8", "9", "10"]
    assert audits.clause_titles(["iso9001"])["8.4"] == (
        "Maîtrise des processus, produits et services fournis par des prestataires externes")
    assert audits.clause_titles(["iso14001"])["6.1.2"] == "Aspects environnementaux"
    assert audits.clause_titles(["iso45001"])["5.4"] == "Consultation et participation des travailleurs"


def test_checklist_from_chosen_clauses_and_company_questions(db, people, now):
    audit = audits.create_audit(db, people.apprentice, inputs.audit(AUDIT, now), now)
    rows = [(q.standard, q.clause) for q in audit.questions]
    assert rows == [("iso9001", "7.1"), ("iso9001", "8.4"), ("iso9001", "8.5"), ("iso45001", "7.1"),
                    ("iso45001", "8.1.2"), ("", "")]
    assert audit.questions[-1].question == "Les FDS des colles sont-elles au poste ?"
    full = audits.create_audit(db, people.apprentice, inputs.audit({"process": "Maintenance", "standards": ["iso14001"]}, now), now)
    assert len(full.questions) == len([c for c in audits.standards()["iso14001"]["clauses"] if "." in c["clause"]])


def test_api_audit_findings_and_docx_report_by_clause(client, people):
    headers = people.headers(people.apprentice)
    created = client.post("/api/v1/qse/audits", json=AUDIT, headers=headers)
    assert created.status_code == 201
    audit_id = created.json["id"]
    findings = [("8.4", "minor", "Pas d'évaluation annuelle du fournisseur Colles Durand."),
                ("7.1", "strong_point", "Chariots vérifiés chaque matin, check-list signée."),
                ("8.5", "opportunity", "Étiqueter les emplacements de quarantaine au sol."),
                ("8.4", "observation", "Bons de livraison classés sans date de réception.")]
    for clause, kind, evidence in findings:
        answer = client.post(f"/api/v1/qse/audits/{audit_id}/findings",
                             json={"clause": clause, "kind": kind, "evidence": evidence}, headers=headers)
        assert answer.status_code == 201, answer.json
    bad = client.post(f"/api/v1/qse/audits/{audit_id}/findings",
                      json={"clause": "11.2", "kind": "minor", "evidence": "x"}, headers=headers)
    assert bad.status_code == 422 and bad.json["error"]["field"] == "clause"
    bad = client.post(f"/api/v1/qse/audits/{audit_id}/findings",
                      json={"clause": "8.4", "kind": "grave", "evidence": "x"}, headers=headers)
    assert bad.status_code == 422 and bad.json["error"]["field"] == "kind"
    assert client.post(f"/api/v1/qse/audits/{audit_id}/finish", json={"conclusions": "Processus maîtrisé, "
                       "évaluation fournisseurs à instaurer."}, headers=headers).json["status"] == "done"

    report = client.get(f"/api/v1/qse/audits/{audit_id}/report.docx", headers=headers)
    assert report.status_code == 200
    assert report.mimetype.endswith("wordprocessingml.document")
    document = Document(io.BytesIO(report.data))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    headings = [text for style, text in paragraphs if style == "Heading 2"]
    assert headings == ["§ 7.1 Ressources",
                        "§ 8.4 Maîtrise des processus, produits et services fournis par des prestataires externes",
                        "§ 8.5 Production et prestation de service"]
    # each finding sits under its clause's heading
    section, by_clause = None, {}
    for style, text in paragraphs:
        if style == "Heading 2":
            section = text.split()[1]
        elif style == "Heading 1":
            section = text
        elif style == "List Bullet" and section:
            by_clause.setdefault(section, []).append(text)
    assert by_clause["8.4"] == ["Non-conformité mineure : Pas d'évaluation annuelle du fournisseur Colles Durand.",
                                "Observation : Bons de livraison classés sans date de réception."]
    assert by_clause["7.1"] == ["Point fort : Chariots vérifiés chaque matin, check-list signée."]
    assert by_clause["Pistes de progrès"] == ["§ 8.5 : Étiqueter les emplacements de quarantaine au sol."]
    texts = [text for _, text in paragraphs]
    assert "Processus maîtrisé, évaluation fournisseurs à instaurer." in texts
    table = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert table["Processus audité"] == "Réception et stockage"
    assert table["Référentiels"] == "ISO 9001:2015, ISO 45001:2018"


def test_finding_opens_a_nonconformity_or_an_action_in_one_step(client, db, people):
    headers = people.headers(people.apprentice)
    audit_id = client.post("/api/v1/qse/audits", json=AUDIT, headers=headers).json["id"]
    minor = client.post(f"/api/v1/qse/audits/{audit_id}/findings", json={
        "clause": "8.4", "kind": "major", "evidence": "Aucun contrôle à réception des certificats matière."},
        headers=headers).json["id"]
    opportunity = client.post(f"/api/v1/qse/audits/{audit_id}/findings", json={
        "clause": "8.5", "kind": "opportunity", "evidence": "Afficher le plan de stockage."}, headers=headers).json["id"]
    nc = client.post(f"/api/v1/qse/audits/{audit_id}/findings/{minor}/nonconformity", json={}, headers=headers)
    assert nc.status_code == 201
    twice = client.post(f"/api/v1/qse/audits/{audit_id}/findings/{minor}/nonconformity", json={}, headers=headers)
    assert twice.status_code == 409
    action = client.post(f"/api/v1/qse/audits/{audit_id}/findings/{opportunity}/action",
                         # the API reads the real clock: a due date relative to the test clock is past by now
                         json={"owner": "appr", "due": (clock.paris_day() + timedelta(days=20)).isoformat()},
                         headers=headers)
    assert action.status_code == 201, action.json
    fresh(db)
    record = db.get(NonConformity, nc.json["id"])
    assert (record.source, record.severity, record.requirement, record.finding_id) == ("audit", "major", "standard",
                                                                                       minor)
    assert "8.4" in record.title
    detail = client.get(f"/api/v1/qse/audits/{audit_id}", headers=headers).json
    assert [f["action_id"] for f in detail["findings"]] == [None, action.json["id"]]
    assert audits.open_findings_count(db, None) == 2


def test_only_the_author_tutor_or_admin_changes_an_audit(client, people):
    audit_id = client.post("/api/v1/qse/audits", json=AUDIT, headers=people.headers(people.apprentice)).json["id"]
    finding = {"clause": "8.4", "kind": "conform", "evidence": "OK"}
    url = f"/api/v1/qse/audits/{audit_id}/findings"
    assert client.post(url, json=finding, headers=people.headers(people.other_apprentice)).status_code == 404
    assert client.get(f"/api/v1/qse/audits/{audit_id}/report.docx",
                      headers=people.headers(people.other_tutor)).status_code == 404
    assert client.post(url, json=finding, headers=people.headers(people.tutor)).status_code == 201
    assert client.post(url, json=finding, headers=people.headers(people.admin)).status_code == 201
