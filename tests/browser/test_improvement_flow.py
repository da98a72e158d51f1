"""In Chromium, as Inès: a problem sheet opened from a Pareto, Ishikawa and 5 pourquoi, two actions, the A3
view, and the sheet submitted as evidence of LEAN-1."""
from datetime import date, timedelta

from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot


def test_problem_sheet_from_pareto_to_evidence(page, live_server):
    log_in(page, live_server, "ines", "demo-apprenti")
    page.goto(f"{live_server}/improvement/pareto")
    page.fill("#label", "Arrêts de la ligne 2 par cause")
    page.fill("#values", "Bourrage convoyeur ; 14\nCapteur de présence ; 6\nManque de pièces ; 4\nRéglage presse ; 3")
    page.click("#draw-manual")
    page.locator("#pareto-plot .main-svg").first.wait_for()
    screenshot(page, "improvement-pareto")
    page.get_by_role("button", name="Ouvrir une fiche problème").click()
    assert page.input_value("#title") == "Analyse : Arrêts de la ligne 2 par cause"
    page.fill("#title", "Arrêts ligne 2 : bourrages du convoyeur")
    page.select_option("#method", "QRQC")
    page.fill("#what", "Le convoyeur de la ligne 2 se bloque à l'entrée du poste de sertissage.")
    page.click("main button[type=submit]")
    page.get_by_text("Fiche problème ouverte").wait_for()
    sheet_url = page.url.split("#")[0]

    page.fill("#qui", "Équipe de jour ligne 2")
    page.fill("#combien", "14 arrêts en 4 semaines")
    page.get_by_role("button", name="Enregistrer le QQOQCCP").click()
    page.get_by_text("Fiche enregistrée").wait_for()
    for family, cause in (("materiel", "Guide usé"), ("methodes", "Pas de réglage au changement de série")):
        page.select_option("#category", family)
        page.fill("#cause-text", cause)
        with page.expect_navigation():   # the flash of the previous round is still on the page
            page.get_by_role("button", name="Ajouter la cause").click()
        page.get_by_text("Cause ajoutée").wait_for()
    page.get_by_role("button", name="Voter pour Guide usé").click()
    page.get_by_text("Vote enregistré").wait_for()
    page.locator("tr", has_text="Guide usé").get_by_role("button", name="Analyser (5 pourquoi)").click()
    page.get_by_text("Cause choisie").wait_for()
    for answer in ("Le guide a 4 mm de jeu", "Les patins sont usés jusqu'au métal", "Aucune inspection des patins"):
        page.fill("#why-answer", answer)
        with page.expect_navigation():   # the flash of the previous round is still on the page
            page.locator("#add-why button[type=submit]").click()
        page.get_by_text("Pourquoi ajouté").wait_for()
    due = (date.today() + timedelta(days=14)).isoformat()
    for title, deliverable in (("Remplacer les patins du guide", "Patins neufs, jeu < 1 mm"),
                               ("Ajouter l'inspection à la gamme préventive", "Gamme v3 validée")):
        page.fill("#corrective-title", title)
        page.fill("#corrective-deliverable", deliverable)
        page.fill("#corrective-due", due)
        with page.expect_navigation():   # the flash of the previous round is still on the page
            page.locator("#add-corrective button[type=submit]").click()
        page.get_by_text("Action planifiée").wait_for()
    expect(page.locator("#actions tbody tr")).to_have_count(2)
    screenshot(page, "improvement-sheet")

    page.get_by_role("link", name="Vue A3").click()
    page.locator("svg.ishikawa").wait_for()
    assert page.locator("svg.ishikawa text", has_text="Guide usé").count() == 1
    page.locator("#a3-pareto .main-svg").first.wait_for()
    assert "Aucune inspection des patins" in page.content()
    page.set_viewport_size({"width": 1600, "height": 1000})
    screenshot(page, "improvement-a3")

    page.goto(sheet_url)
    page.get_by_role("link", name="Preuves").click()
    assert page.is_checked("input[name=competence][value='LEAN-1']")
    page.fill("#statement", "J'ai animé le QRQC : Pareto des arrêts, Ishikawa voté par l'équipe, 5 pourquoi et plan d'actions.")
    page.get_by_role("button", name="Relier").click()
    page.get_by_role("button", name="Soumettre au tuteur").first.click()
    page.get_by_text("soumise à votre tuteur").wait_for()
    screenshot(page, "improvement-evidence")
