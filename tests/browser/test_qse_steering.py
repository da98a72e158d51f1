"""In Chromium, as Nathan (QSE): the objectives with their off-target alert, an indicator's chart with its target line
and a measurement, the context grids and the planning Gantt of the demo (QSE-1, QSE-4 … QSE-7)."""
from tests.browser.conftest import log_in, screenshot


def test_objectives_indicator_context_and_gantt(page, live_server):
    log_in(page, live_server, "nathan", "demo-apprenti")
    page.goto(f"{live_server}/qse/objectives")
    page.locator("#off-target").wait_for()
    screenshot(page, "qse-objectives")
    page.get_by_role("link", name="Réclamations clients").first.click()
    page.locator("#indicator-chart .main-svg").first.wait_for()
    page.fill("#comment", "Relevé du tableau de bord")
    page.fill("#value", "1")
    page.click("form[action$='/measure'] button[type=submit]")
    page.locator(".flash", has_text="Mesure enregistrée").wait_for()
    screenshot(page, "qse-indicator")
    page.goto(f"{live_server}/qse/")
    page.get_by_role("link", name="Contexte de l'atelier vérins").click()
    page.get_by_text("Fournisseur unique de joints").wait_for()
    screenshot(page, "qse-context")
    page.goto(f"{live_server}/qse/")
    page.get_by_role("link", name="Planning QSE").last.click()
    page.locator("#gantt .main-svg").first.wait_for()
    page.set_viewport_size({"width": 800, "height": 1000})
    screenshot(page, "qse-gantt-800")
