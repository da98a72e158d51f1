"""In Chromium, as emma: the demo analysis (KPIs, Pareto, proposal, measured progress action), then a new
analysis of one machine with its conclusions; as the tutor, the register forms."""
from tests.browser.conftest import log_in, screenshot


def test_analysis_pages(live_server, page):
    log_in(page, live_server, "emma", "demo-apprenti")
    page.goto(f"{live_server}/maintenance/analyses")
    page.get_by_role("link", name="Analyse des pannes du parc sur six mois").click()
    page.get_by_text("Stock de sécurité des pièces critiques").wait_for()
    page.get_by_text("MTTR (h) : avant").wait_for()
    screenshot(page, "maintenance_analysis")
    page.goto(f"{live_server}/maintenance/analyses")
    page.select_option("main select[name=equipment]", "CMP-01")
    page.fill("main input[name=from]", "2026-05-01")
    page.click("main button[type=submit]")
    page.get_by_text("Analyse créée").wait_for()
    page.fill("#conclusions textarea", "Les surchauffes du compresseur viennent de l'encrassement du radiateur.")
    page.click("#conclusions button[type=submit]")
    page.get_by_text("Conclusions enregistrées").wait_for()
    screenshot(page, "maintenance_analysis_new")


def test_register_forms(live_server, page):
    log_in(page, live_server, "tuteur", "demo-formation")
    page.goto(f"{live_server}/maintenance/equipment/new")
    page.fill("main input[name=code]", "MEUL-01")
    page.fill("main input[name=name]", "Touret à meuler")
    page.check("main input[name=energies][value=electrique]")
    page.fill("main textarea[name=reference_values]", "vibration = 1,2")
    page.click("main button[type=submit]")
    page.get_by_text("Équipement MEUL-01 créé").wait_for()
    page.goto(f"{live_server}/maintenance/plans/new?equipment=MEUL-01")
    page.fill("main input[name=interval]", "abc")
    page.click("main button[type=submit]")
    page.get_by_text("interval_days").first.wait_for()
    screenshot(page, "maintenance_plan_form_error")
