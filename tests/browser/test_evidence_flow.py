"""In Chromium: the apprentice's French home page, and the whole evidence cycle as people click it."""
import io

from docx import Document
from PIL import Image

from tests.browser.conftest import log_in, screenshot


def test_apprentice_sees_the_french_home_page(page, live_server):
    log_in(page, live_server, "lucas", "demo-apprenti")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("heading", name="Ma couverture des compétences").is_visible()
    assert page.get_by_role("link", name="Mes activités").first.is_visible()
    screenshot(page, "apprentice-home")


def test_record_link_submit_validate_export_and_frozen(page, live_server, tmp_path):
    photo = tmp_path / "palette.jpg"
    Image.new("RGB", (800, 600), (30, 110, 200)).save(photo, "JPEG")

    log_in(page, live_server, "lucas", "demo-apprenti")
    page.get_by_role("link", name="Nouvelle activité").first.click()
    page.fill("#title", "Rédaction du cahier des charges du poste de contrôle")
    page.fill("#performed_at", "2026-11-19T10:00")
    page.fill("#description", "Spécification fonctionnelle du poste de contrôle réception.")
    page.set_input_files("#files", str(photo))
    page.click("main button[type=submit]")
    screenshot(page, "after-new-activity")
    page.get_by_text("Activité enregistrée").wait_for()
    assert page.locator(".photos img").count() == 1
    page.check("input[name=competence][value='LOG-1']")
    page.fill("#statement", "J'ai rédigé la spécification avec le magasinier et l'ai fait valider.")
    page.get_by_role("button", name="Relier").click()
    page.get_by_role("button", name="Soumettre au tuteur").click()
    page.get_by_text("soumise à votre tuteur").wait_for()
    activity_url = page.url
    page.click("text=Déconnexion")

    log_in(page, live_server, "tuteur", "demo-formation")
    page.get_by_role("link", name="Preuves à valider").click()
    page.locator("tr", has_text="cahier des charges").get_by_role("link", name="Évaluer").click()
    page.get_by_role("button", name="Valider").click()
    page.get_by_text("Cochez au moins un critère").first.wait_for()  # refused: no criterion ticked
    boxes = page.locator("input[name=criteria]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.fill("#comment", "Spécification claire, validée avec le magasin.")
    screenshot(page, "tutor-review")
    page.get_by_role("button", name="Valider").click()
    page.get_by_text("validée").first.wait_for()
    page.click("text=Déconnexion")

    log_in(page, live_server, "lucas", "demo-apprenti")
    page.goto(f"{live_server}/apprentices/lucas")
    row = page.locator(".cov-comp", has_text="LOG-1")
    assert "validée" in row.inner_text()
    screenshot(page, "apprentice-coverage")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="DOCX", exact=True).first.click()
    doc = Document(io.BytesIO(open(download_info.value.path(), "rb").read()))
    text = "\n".join(p.text for p in doc.paragraphs) + "\n".join(
        c.text for t in doc.tables for r in t.rows for c in r.cells)
    assert "J'ai rédigé la spécification" in text and "Spécification claire" in text
    assert len(doc.inline_shapes) >= 1

    page.goto(activity_url)
    assert page.get_by_text("Activité figée").is_visible()
    assert page.get_by_role("link", name="Modifier").count() == 0
    response = page.goto(activity_url + "/edit")
    assert response.status == 409 and "figée" in page.content()
