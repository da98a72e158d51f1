"""In Chromium, as the tutor: every stock page without parameters opens, at 1280 and 800 px."""
from shopfloor import create_app
from tests.browser.conftest import log_in, screenshot

ERROR_TEXT = ("Action refusée", "Erreur (", "Traceback", "Internal Server Error")


def _stock_pages(app_config) -> list[str]:
    app = create_app(app_config)
    try:
        return sorted({rule.rule for rule in app.url_map.iter_rules()
                       if rule.endpoint.split(".")[0] == "stock" and "GET" in rule.methods
                       and not rule.arguments})
    finally:
        app.extensions["shopfloor_sessions"].engine.dispose()


def test_tutor_opens_every_stock_page(page, live_server, app_config):
    urls = _stock_pages(app_config)
    assert "/stock/layout" in urls and "/stock/labels" in urls
    log_in(page, live_server, "tuteur", "demo-formation")
    for url in urls:
        response = page.goto(live_server + url)
        text = page.locator("main").inner_text()
        assert response.status == 200, url
        assert not any(marker in text for marker in ERROR_TEXT), url
    page.goto(f"{live_server}/stock/layout")
    screenshot(page, "stock-layout")
    page.goto(f"{live_server}/stock/labels/locations?prefix=A-01&format=code128")
    assert page.locator("svg, img").count() > 0
    screenshot(page, "stock-labels-code128")
    page.goto(f"{live_server}/stock/labels/lots?sku=COL-EPX-250&format=qr")
    screenshot(page, "stock-labels-qr")


def test_main_stock_pages_fit_a_small_tablet(page, live_server):
    page.set_viewport_size({"width": 800, "height": 1000})
    log_in(page, live_server, "lucas", "demo-apprenti")
    for name, url in [("index", "/stock/"), ("receptions", "/stock/receptions"), ("reception-new", "/stock/receptions/new"),
                      ("pick-new", "/stock/picks/new"), ("quarantine", "/stock/quarantine"),
                      ("operations", "/stock/operations"), ("layout", "/stock/layout")]:
        page.goto(live_server + url)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{url} scrolls sideways by {overflow} px"
        screenshot(page, f"stock-800-{name}")
