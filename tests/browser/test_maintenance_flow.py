"""In Chromium, as emma (MAINT): a preventive WO from the schedule (lockout, routine with one value out of
tolerance, report), then a breakdown with its diagnosis; both submitted to the tutor as evidence."""
import re

from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot


def _lock_out_and_start(page):
    boxes = page.locator("#lockout input[name=step]:not([disabled])")
    boxes.first.wait_for()   # the work order page has loaded
    assert boxes.count() >= 5
    page.get_by_role("button", name="Démarrer l'intervention").click()
    page.get_by_text("la consignation n'est pas complète").first.wait_for()   # refused without the lockout
    boxes = page.locator("#lockout input[name=step]:not([disabled])")
    for index in range(boxes.count()):
        boxes.nth(index).check()
    page.get_by_role("button", name="Enregistrer les étapes cochées").click()
    page.get_by_text("Consignation enregistrée").wait_for()
    page.get_by_role("button", name="Démarrer l'intervention").click()
    page.get_by_text("Intervention démarrée").wait_for()


def _submit_evidence(page, statement):
    page.get_by_role("link", name="Preuves").click()
    page.fill("#statement", statement)
    page.get_by_role("button", name="Relier").click()
    page.get_by_text("Compétence reliée").wait_for()
    buttons = page.get_by_role("button", name="Soumettre au tuteur")
    submitted = 0
    while left := buttons.count():
        buttons.first.click()
        expect(buttons).to_have_count(left - 1)   # the page after the submission, not the one before
        submitted += 1
    return submitted


def test_emma_runs_a_preventive_then_a_breakdown_and_submits_both(page, live_server):
    log_in(page, live_server, "emma", "demo-apprenti")
    page.goto(f"{live_server}/maintenance/")
    screenshot(page, "maintenance-schedule")
    page.get_by_role("link", name=re.compile("Visite mensuelle du compresseur")).first.click()
    _lock_out_and_start(page)

    page.fill("input[name=r_0]", "6,8")          # 7.5 bar ± 0.3: out of tolerance
    page.fill("input[name=r_1]", "78")
    page.check("input[name=r_2]")
    page.check("input[name=r_3]")
    page.get_by_role("button", name="Enregistrer la gamme").click()
    page.get_by_text("Résultats de la gamme enregistrés").wait_for()
    assert page.locator("#routine .mt-out").count() == 1
    assert page.get_by_role("button", name="Créer l'OT correctif").is_visible()
    page.get_by_role("button", name="Terminer l'intervention").click()
    page.get_by_text("Vérifiez le champ").first.wait_for()   # no report: refused
    page.check("input[name=lockout_removed]")
    page.fill("#time_spent_min", "50")
    page.fill("#report", "Visite faite. Pression de service basse (6,8 bar) : fuite suspectée, OT correctif proposé.")
    screenshot(page, "maintenance-preventive-routine")
    page.get_by_role("button", name="Terminer l'intervention").click()
    page.get_by_text("Intervention terminée").wait_for()
    assert _submit_evidence(page, "J'ai consigné le compresseur, suivi la gamme et relevé une pression hors "
                                  "tolérance.") >= 1
    assert "MAINT-2" in page.locator("main").inner_text()

    page.goto(f"{live_server}/maintenance/equipment/BANC-01")
    page.locator("main").get_by_role("link", name="Signaler une panne").click()
    page.fill("#symptom", "Le vérin double effet ne sort plus")
    page.get_by_role("button", name="Envoyer la demande").click()
    page.wait_for_url(re.compile(r"/maintenance/work-orders/\d+"))
    _lock_out_and_start(page)
    page.fill("#lost_function", "Sortie de tige du vérin V2")
    hypotheses = page.locator("input[name=hypothesis]")
    tests = page.locator("input[name=test]")
    results = page.locator("select[name=result]")
    hypotheses.nth(0).fill("Absence de pression réseau")
    tests.nth(0).fill("Lecture manomètre : 6 bar")
    results.nth(0).select_option("ruled_out")
    hypotheses.nth(1).fill("Distributeur 5/2 bloqué")
    tests.nth(1).fill("Commande manuelle du distributeur : sans effet")
    results.nth(1).select_option("confirmed")
    page.fill("#root_cause", "Tiroir du distributeur grippé par de l'eau dans l'air")
    page.select_option("#failure_mode", "BLO")
    page.select_option("#failure_cause", "ENV")
    page.fill("input[name=cons_production]", "Banc arrêté 2 h")
    page.get_by_role("button", name="Enregistrer le diagnostic").click()
    page.get_by_text("Diagnostic enregistré").wait_for()
    page.check("input[name=lockout_removed]")
    page.fill("#report", "Distributeur démonté, nettoyé, purge du filtre ; essais 10 cycles OK.")
    page.get_by_role("button", name="Terminer l'intervention").click()
    page.get_by_text("Intervention terminée").wait_for()
    screenshot(page, "maintenance-breakdown-diagnosis")
    assert _submit_evidence(page, "Diagnostic par hypothèses puis remise en état du distributeur.") == 2
    text = page.locator("main").inner_text()
    assert "MAINT-4" in text and "MAINT-3" in text
    screenshot(page, "maintenance-evidence-submitted")
