"""With the Content-Security-Policy on, the main pages of every module run no blocked script, raise no
violation, and plotly still draws (issue 12)."""
from __future__ import annotations

from shopfloor.demo import PASSWORDS
from tests.browser.conftest import log_in

COLLECT = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


def _visit(page, base, path, problems):
    response = page.goto(f"{base}{path}")
    page.wait_for_load_state("load")
    assert response.status in (200, 304), (path, response.status)
    assert "Content-Security-Policy" in {k.title(): v for k, v in response.headers.items()}, path
    problems += [f"{path}: {v}" for v in page.evaluate("window.__cspViolations || []")]


def _nav_paths(page, base):
    hrefs = page.eval_on_selector_all("header.top nav a", "links => links.map(a => a.getAttribute('href'))")
    return [h for h in dict.fromkeys(hrefs) if h and h.startswith("/")]


def test_no_csp_violation_on_the_main_pages_of_every_module(live_server, page):
    problems: list[str] = []
    page.add_init_script(COLLECT)
    page.on("console", lambda msg: problems.append(f"console: {msg.text}")
            if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    for username, password in (("tuteur", PASSWORDS["tutor"]), ("admin", PASSWORDS["admin"]),
                               ("emma", PASSWORDS["apprentice"])):
        log_in(page, live_server, username, password)
        paths = ["/"] + _nav_paths(page, live_server)
        paths += {"tuteur": ["/coverage", "/maintenance/kpis", "/review"], "admin": ["/admin/users", "/admin/audit"],
                  "emma": ["/activities", "/maintenance/"]}[username]
        for path in dict.fromkeys(paths):
            _visit(page, live_server, path, problems)
        page.click("header.top button:has-text('Déconnexion')")
        page.wait_for_url(f"{live_server}/login")
    assert problems == []


def test_plotly_still_draws_under_the_policy(live_server, page):
    page.add_init_script(COLLECT)
    log_in(page, live_server, "tuteur", PASSWORDS["tutor"])
    page.goto(f"{live_server}/coverage")
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=15000)
    page.goto(f"{live_server}/maintenance/kpis")
    page.wait_for_load_state("load")
    assert page.evaluate("window.__cspViolations") == []
    assert page.evaluate("typeof window.Plotly") == "object"


def test_the_print_and_confirm_buttons_work_without_inline_handlers(live_server, page):
    page.add_init_script("window.print = function () { window.__printed = (window.__printed || 0) + 1; };")
    log_in(page, live_server, "tuteur", PASSWORDS["tutor"])
    page.goto(f"{live_server}/boards")
    href = page.locator("a[href^='/boards/']").evaluate_all(
        "links => links.map(a => a.getAttribute('href')).find(h => /^\\/boards\\/\\d+$/.test(h))")
    page.goto(f"{live_server}{href}/print")
    page.click("button[data-print]")
    assert page.evaluate("window.__printed") == 1
    page.context.clear_cookies()
    log_in(page, live_server, "emma", PASSWORDS["apprentice"])
    page.goto(f"{live_server}/activities")
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    for link in page.locator("a[href^='/activities/']").evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        if not link.rstrip("/").split("/")[-1].isdigit():
            continue
        page.goto(f"{live_server}{link}")
        if page.locator("form[data-confirm]").count():
            url = page.url
            page.locator("form[data-confirm] button[type=submit]").first.click()
            page.wait_for_timeout(300)
            assert asked and page.url == url  # dismissed: nothing deleted, still on the page
            return
    raise AssertionError("no activity page with a confirmed form in the demo")
