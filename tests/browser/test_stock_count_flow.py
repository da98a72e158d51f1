"""In Chromium: lucas counts a rack on a blind sheet with scanner entries, his tutor validates it."""
import re

from tests.browser.conftest import log_in, screenshot


def _scan(page, location, sku, lot, qty):
    """Type like a USB scanner: each code then Enter (Enter moves to the next field; on the quantity it submits)."""
    page.fill("#location", "")
    page.type("#location", location)
    page.keyboard.press("Enter")
    page.type("#sku", sku)
    page.keyboard.press("Enter")
    page.type("#lot", lot)
    page.keyboard.press("Enter")
    page.type("#counted_qty", qty)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_apprentice_counts_a_rack_and_the_tutor_validates(page, live_server):
    log_in(page, live_server, "lucas", "demo-apprenti")
    page.goto(f"{live_server}/stock/counts")
    page.select_option("#scope", "rack")
    page.fill("#value", "A-02-01")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/stock/counts/\d+"))
    count_url = page.url.split("?")[0]
    sheet = page.locator("#sheet")
    assert "Attendu" not in sheet.inner_text()  # blind sheet
    rows = sheet.locator("tbody tr")
    entries = []
    for index in range(rows.count()):
        cells = rows.nth(index).locator("td")
        entries.append((cells.nth(0).inner_text().strip(), cells.nth(1).inner_text().split("\n")[0].strip(),
                        cells.nth(2).inner_text().strip()))
    assert entries, "the demo store has stock on rack A-02-01"
    screenshot(page, "stock-count-blind-sheet")

    # the counter does not know the book; the tutor page will show it. Count every line with the number on the shelf:
    # we read the book through the tutor's view afterwards, so here we type a plausible count and one short line.
    page.click("text=Déconnexion")
    log_in(page, live_server, "tuteur", "demo-formation")
    page.goto(count_url)
    book = {}
    rows = page.locator("#sheet tbody tr")
    for index in range(rows.count()):
        cells = rows.nth(index).locator("td")
        key = (cells.nth(0).inner_text().strip(), cells.nth(1).inner_text().split("\n")[0].strip(),
               cells.nth(2).inner_text().strip())
        book[key] = cells.nth(4).inner_text().strip()
    page.click("text=Déconnexion")

    log_in(page, live_server, "lucas", "demo-apprenti")
    page.goto(count_url)
    first = entries[0]
    short = str(int(float(book[first])) - 1) if float(book[first]) >= 1 else book[first]
    _scan(page, *first, short)
    assert page.get_by_text("recomptez").first.is_visible() or page.get_by_text("comptage enregistré").first.is_visible()
    assert page.locator("#sku").evaluate("el => document.activeElement === el")  # ready for the next item
    _scan(page, *first, short)  # the recount confirms the missing unit
    for entry in entries[1:]:
        _scan(page, *entry, book[entry])
    assert page.get_by_text(f"({len(entries)}/{len(entries)} lignes comptées)").is_visible()
    screenshot(page, "stock-count-entered")
    page.click("text=Déconnexion")

    log_in(page, live_server, "tuteur", "demo-formation")
    page.goto(count_url)
    page.get_by_role("button", name="Valider l'inventaire").click()
    page.get_by_text("Inventaire validé").wait_for()
    assert page.locator(".badge.validated").first.is_visible()
    assert "Exactitude" in page.locator("main").inner_text()
    screenshot(page, "stock-count-validated")
