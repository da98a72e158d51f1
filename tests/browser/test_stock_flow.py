"""In Chromium, as lucas: a delivery with a damaged line, the quarantine, a FEFO pick confirmed by scans,
and the reception submitted as evidence for LOG-1. Then every stock page opened by the tutor."""
import re
from datetime import date, timedelta

from tests.browser.conftest import log_in, screenshot
from tests.conftest import NOW


def _scan(page, selector: str, code: str) -> None:
    """A USB scanner types the code then Enter."""
    page.locator(selector).type(code)
    page.keyboard.press("Enter")


def _receive_delivery_with_a_damaged_line(page, base) -> str:
    page.goto(f"{base}/stock/receptions/new")
    page.fill("#delivery_note", "BL-DUR-6120")
    page.select_option("#supplier", "Colles & Peintures Durand")
    page.select_option("#carrier", "Transports Martin")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/stock/receptions/\d+$"))
    reception_url = page.url

    page.fill("#sku", "COL-EPX-250")
    page.fill("#qty", "12")
    page.fill("#lot", "EPX-26-402")
    page.fill("#expiry", (NOW.date() + timedelta(days=360)).isoformat())
    page.click("#line-form button[type=submit]")
    page.get_by_text("Ligne COL-EPX-250 × 12 reçue").wait_for()

    page.fill("#sku", "COL-CYA-20")
    page.fill("#qty", "6")
    page.fill("#lot", "CYA-26-077")
    page.fill("#expiry", (NOW.date() + timedelta(days=300)).isoformat())
    page.uncheck("#packaging_ok")
    page.uncheck("#conforming")
    page.fill("#reason", "Carton écrasé, deux tubes fuient")
    page.select_option("#decision", "quarantine")
    page.click("#line-form button[type=submit]")
    page.get_by_text("Ligne COL-CYA-20 × 6 reçue").wait_for()
    assert "QUAR" in page.locator("tr", has_text="COL-CYA-20").inner_text()
    assert page.locator("h2", has_text="Anomalies").is_visible()
    screenshot(page, "stock-reception-damaged-line")
    return reception_url


MONTHS = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]


def _day(text: str) -> date:
    """A date as the pages show it: "20 mars 2027" (or "1 janv. 2027")."""
    d, m, y = text.strip().split()
    month = next(i for i, name in enumerate(MONTHS, 1) if name.rstrip(".") == m.rstrip(".") or name.startswith(m))
    return date(int(y), month, int(d))


def _pick_lots(page) -> list[tuple[str, date]]:
    rows = page.locator("#round tbody tr")
    return [(rows.nth(i).locator("td").nth(2).inner_text().strip(), _day(rows.nth(i).locator("td").nth(3).inner_text()))
            for i in range(rows.count())]


def _storage_stock(page, base, sku: str) -> list[tuple[str, date, float]]:
    """(lot, expiry, free quantity) of the item's lots in storage, read on its stock page."""
    page.goto(f"{base}/stock/?q={sku}")
    page.get_by_role("link", name=sku).first.click()
    rows = page.locator("#balances tbody tr")
    rows.first.wait_for()   # the item page has loaded
    stock = []
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td")
        if rows.nth(i).locator(".badge").count():
            continue  # quay, quarantine, line-side: not pickable
        qty, reserved = (float(cells.nth(n).inner_text().replace(",", ".").replace("\u202f", "")) for n in (3, 4))
        stock.append((cells.nth(0).inner_text().strip(), _day(cells.nth(1).inner_text()), qty - reserved))
    return stock


def test_apprentice_receives_quarantines_picks_fefo_and_submits_evidence(page, live_server):
    log_in(page, live_server, "lucas", "demo-apprenti")
    reception_url = _receive_delivery_with_a_damaged_line(page, live_server)

    page.goto(f"{live_server}/stock/quarantine")
    row = page.locator("tr", has_text="CYA-26-077")
    assert "COL-CYA-20" in row.inner_text() and "6" in row.inner_text()
    screenshot(page, "stock-quarantine")

    stock_before = _storage_stock(page, live_server, "COL-EPX-250")
    page.goto(f"{live_server}/stock/picks/new")
    page.fill("#sku", "COL-EPX-250")
    page.fill("#qty", "30")
    page.select_option("#destination", "L1")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/stock/picks/\d+$"))
    pick_url = page.url
    picked = _pick_lots(page)
    assert len(picked) >= 2, "30 glues span several lots"
    # FEFO: every lot left free on the shelves expires no earlier than the latest lot picked
    latest_picked = max(expiry for lot, expiry in picked)
    left = [(lot, expiry) for lot, expiry, free in stock_before if free > 0 and lot not in {p for p, _ in picked}]
    assert all(expiry >= latest_picked for lot, expiry in left), (picked, left)
    assert "EPX-26-402" not in {lot for lot, _ in picked}  # the lot just received expires last
    screenshot(page, "stock-pick-allocated")

    while page.locator("#scan-form").count():
        target = page.locator("#scan-form strong").all_inner_texts()
        location, lot = target[0].strip(), target[2].strip()
        _scan(page, "#scan-location", location)
        assert page.locator("#scan-code").evaluate("el => document.activeElement === el")
        with page.expect_navigation():
            _scan(page, "#scan-code", lot)
        page.get_by_text("prélevé en").first.wait_for()
    assert page.url == pick_url
    assert page.locator(".badge", has_text="Livrée").first.is_visible()
    screenshot(page, "stock-pick-confirmed")

    page.goto(reception_url)
    page.get_by_role("link", name="Preuves").click()
    page.wait_for_url(re.compile(r"/activities/\d+$"))
    boxes = page.locator("input[name=competence]")
    boxes.first.wait_for()
    proposed = [boxes.nth(i).get_attribute("value") for i in range(boxes.count()) if boxes.nth(i).is_checked()]
    assert {"LOG-1", "LOG-2", "LOG-6"} <= set(proposed)  # the damaged line proposes LOG-6
    for code in proposed:
        page.uncheck(f"input[name=competence][value='{code}']")
    page.check("input[name=competence][value='LOG-1']")
    page.fill("#statement", "J'ai contrôlé la livraison, isolé le carton écrasé en quarantaine et rangé le reste.")
    page.get_by_role("button", name="Relier").click()
    page.locator("[id^=evidence-]", has_text="LOG-1").get_by_role("button", name="Soumettre au tuteur").click()
    page.get_by_text("soumise à votre tuteur").wait_for()
    assert "Carton écrasé" in page.locator("main").inner_text()
    screenshot(page, "stock-reception-evidence")
