"""In Chromium, as Nathan (QSE): a supplier non-conformity opened from Lucas's reception anomaly, contained,
analysed on a problem sheet, its corrective action planned; an audit with three findings and its DOCX report;
both submitted as evidence (QSE-9, QSE-8)."""
from datetime import date, timedelta

from docx import Document

from tests.browser.conftest import log_in, screenshot


def _submit_evidence(page, code: str, statement: str) -> None:
    page.get_by_role("link", name="Preuves").click()
    assert page.is_checked(f"input[name=competence][value='{code}']")
    page.fill("#statement", statement)
    page.get_by_role("button", name="Relier").click()
    page.get_by_role("button", name="Soumettre au tuteur").first.click()
    page.get_by_text("soumise à votre tuteur").wait_for()


def test_nonconformity_and_audit_as_evidence(page, live_server, tmp_path):
    log_in(page, live_server, "nathan", "demo-apprenti")
    page.goto(f"{live_server}/qse/nonconformities/new")
    page.fill("#reception", "BL-HQ-88213")
    page.select_option("#severity", "major")
    page.click("main button[type=submit]")
    page.get_by_text("Non-conformité ouverte").wait_for()
    assert "NC fournisseur" in page.inner_text("h1") and "BL-HQ-88213" in page.inner_text("h1")
    nc_url = page.url
    page.click("#contain")
    page.locator(".flash", has_text="Lots suspects mis en quarantaine").wait_for()
    assert "0 déplacé(s), 4 en quarantaine" in page.content()   # the damaged lot was quarantined at reception
    screenshot(page, "qse-nc-contained")

    page.click("#analyse")
    assert page.input_value("#origin_id") == nc_url.rstrip("/").split("/")[-1]
    page.click("main button[type=submit]")
    page.get_by_text("Fiche problème ouverte").wait_for()
    page.goto(nc_url)
    page.fill("#a_title", "Exiger des palettes cerclées du transporteur")
    page.fill("#a_deliverable", "Cahier des charges transport signé")
    page.fill("#a_due", (date.today() + timedelta(days=21)).isoformat())
    page.click("#plan-action")
    page.get_by_text("Action planifiée").wait_for()
    assert "Exiger des palettes cerclées" in page.content()
    assert "1 action(s) encore ouverte(s)" in page.inner_text("ul.missing")   # closure waits for the action
    screenshot(page, "qse-nc-actions")
    _submit_evidence(page, "QSE-9", "J'ai ouvert la NC fournisseur depuis l'anomalie de réception, sécurisé les lots, "
                                    "lancé l'analyse 8D et planifié l'action corrective.")

    page.goto(f"{live_server}/qse/audits/new")
    page.fill("#process", "Préparation des commandes")
    page.fill("#clauses", "7.1 8.4 8.5")
    page.fill("#auditees", "Lucas Bernard")
    page.click("main button[type=submit]")
    page.get_by_text("Audit créé").wait_for()
    for clause, kind, evidence in (("8.5", "minor", "Deux bons de préparation sans visa du préparateur."),
                                   ("7.1", "strong_point", "Scanners chargés et testés en début de poste."),
                                   ("8.4", "opportunity", "Partager le taux de service fournisseur chaque mois.")):
        page.select_option("#clause", clause)
        page.select_option("#kind", kind)
        page.fill("#evidence", evidence)
        page.click("#add-finding")
        page.get_by_text("Constat ajouté").wait_for()
    page.fill("#conclusions", "Préparation maîtrisée ; visa des bons à rendre systématique.")
    page.click("#finish-audit")
    page.get_by_text("Audit terminé").wait_for()
    screenshot(page, "qse-audit")
    with page.expect_download() as download:
        page.click("#report-docx")
    path = tmp_path / "audit.docx"
    download.value.save_as(path)
    text = [p.text for p in Document(path).paragraphs]
    assert "§ 8.5 Production et prestation de service" in text
    assert "Préparation maîtrisée ; visa des bons à rendre systématique." in text
    _submit_evidence(page, "QSE-8", "J'ai audité la préparation des commandes selon l'ISO 9001 (7.1, 8.4, 8.5).")
    screenshot(page, "qse-evidence")

    page.set_viewport_size({"width": 800, "height": 1000})
    page.goto(f"{live_server}/qse/risks")
    page.locator("#heatmap .main-svg").first.wait_for()
    screenshot(page, "qse-risks-800")
