"""In Chromium at 1920×1080: the workshop screen of a demo board, then an entry posted through the API
appears on it without a reload."""
import json
import urllib.request

from shopfloor import create_app
from shopfloor import clock
from shopfloor.auth.services import create_token, get_user
from tests.browser.conftest import log_in, screenshot



def _api_token(app_config) -> str:
    app = create_app(app_config)
    db = app.extensions["shopfloor_sessions"].open(write=True)
    try:
        token = create_token(db, get_user(db, "lucas"))
        db.commit()
        return token
    finally:
        db.close()
        app.extensions["shopfloor_sessions"].engine.dispose()


def test_screen_updates_in_place(browser, live_server, app_config, page):
    # the admin registers a screen for the Logistique board and gets its link once
    log_in(page, live_server, "admin", "demo-direction")
    page.goto(f"{live_server}/screens")
    page.fill("#name", "Écran quai logistique")
    page.fill("#refresh_seconds", "10")
    page.locator("label", has_text="Logistique – AIC équipe").locator("input").check()
    page.get_by_role("button", name="Créer l'écran").click()
    screenshot(page, "aic_screens_admin")
    link = page.locator("#screen-link").get_attribute("href")
    assert "/screen/" in link

    # A TV keeps polling: its context must close with the test, or it would call a server that is gone.
    tv_context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="fr-FR")
    try:
        tv = tv_context.new_page()
        tv.goto(link)
        safety = tv.locator(".scr-row[data-indicator='aic.safety']")
        safety.wait_for()
        # predicates as functions: a string expression would be eval'ed in the page, which its CSP forbids
        tv.wait_for_function("() => document.getElementById('scr-updated').textContent !== '—'")
        assert safety.locator(".num").inner_text() == "–" and safety.get_attribute("data-status") == "grey"
        assert tv.locator(".scr-cross span").count() == 33
        screenshot(tv, "aic_screen")  # kept with the test artifacts; a test never rewrites the checkout
        tv.evaluate("window.__same_page = true")

        # lucas types today's safety (a near-miss) through the API: the screen shows it, same page, no reload
        token = _api_token(app_config)
        board_id = safety.locator("xpath=ancestor::section").get_attribute("data-board")
        request = urllib.request.Request(
            f"{live_server}/api/v1/boards/{board_id}/entries", method="POST",
            data=json.dumps({"indicator": "aic.safety", "date": clock.paris_day().isoformat(), "value": 1,
                             "comment": "Presque-accident : palette instable"}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request) as response:
            assert response.status == 201
        tv.wait_for_function("() => document.querySelector(\".scr-row[data-indicator='aic.safety']\").dataset.status === 'orange'",
                             timeout=30000)
        assert safety.locator(".num").inner_text() == "1"
        assert safety.locator(".sym").inner_text() == "▲"
        assert tv.evaluate("window.__same_page") is True
        screenshot(tv, "aic_screen_after_entry")
    finally:
        tv_context.close()
