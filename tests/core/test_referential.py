"""The CQPM referential: complete, clean, loaded idempotently, browsable and served by the API."""
import re

from sqlalchemy import func, select

from shopfloor.referential.models import Block, Certification, Competence, Criterion
from shopfloor.referential.services import load_referential, shipped_referential
from tests.conftest import login

EXPECTED = {"LEAN": 9, "LOG": 7, "INDUS": 8, "QSE": 11, "MAINT": 6}
OCR_NOISE = re.compile(r"ceuvre|systéme|\bI'|\*\*|<i>|\u00ad|  |\w- \w")


def count(db, model):
    return db.scalar(select(func.count()).select_from(model))


def test_shipped_data_has_every_certification_block_and_competence():
    data = shipped_referential()
    assert [c["code"] for c in data["certifications"]] == list(EXPECTED)
    assert sum(len(c["blocks"]) for c in data["certifications"]) == 17
    for cert in data["certifications"]:
        numbers = [comp["number"] for b in cert["blocks"] for comp in b["competences"]]
        assert numbers == list(range(1, EXPECTED[cert["code"]] + 1)), cert["code"]


def test_no_empty_criteria_results_or_ocr_noise():
    data = shipped_referential()
    for cert in data["certifications"]:
        for block in cert["blocks"]:
            assert block["title"].strip() and block["knowledge"], block["title"]
            for comp in block["competences"]:
                code = f"{cert['code']}-{comp['number']}"
                assert comp["title"].strip() and comp["conditions"].strip(), code
                assert comp["criteria"] and comp["expected_results"], code
                assert {c["heading"] for c in comp["criteria"]} <= {"methods", "means", "relations", "environment"}
                texts = [comp["title"], comp["conditions"], *comp["expected_results"],
                         *(c["text"] for c in comp["criteria"])]
                for text in texts:
                    assert text.strip() == text and text and not OCR_NOISE.search(text), (code, text)


def test_loaded_referential_counts_and_codes(db):
    assert count(db, Certification) == 5
    assert count(db, Block) == 17
    assert count(db, Competence) == 41
    codes = set(db.scalars(select(Competence.code)))
    assert {"LOG-1", "LOG-7", "QSE-11", "MAINT-6", "LEAN-9", "INDUS-8"} <= codes
    assert all(re.fullmatch(r"(LEAN|LOG|INDUS|QSE|MAINT)-\d+", c) for c in codes)
    empty = db.scalar(select(func.count()).select_from(Competence).where(~Competence.criteria.any()))
    assert empty == 0


def test_loading_twice_changes_nothing(db):
    before = [(c.id, c.competence_id, c.heading, c.position, c.text)
              for c in db.scalars(select(Criterion).order_by(Criterion.id))]
    load_referential(db)
    db.commit()
    after = [(c.id, c.competence_id, c.heading, c.position, c.text)
             for c in db.scalars(select(Criterion).order_by(Criterion.id))]
    assert after == before
    assert count(db, Competence) == 41 and count(db, Block) == 17


def test_api_competences_shape(client, people):
    response = client.get("/api/v1/competences", headers=people.headers(people.apprentice))
    assert response.status_code == 200
    certs = response.get_json()["certifications"]
    assert len(certs) == 5
    log = next(c for c in certs if c["code"] == "LOG")
    assert log["blocks"][0]["code"] == "BDC0307"
    comp = log["blocks"][0]["competences"][0]
    assert comp["code"] == "LOG-1" and comp["number"] == 1 and comp["title"]
    assert comp["criteria"][0].keys() >= {"heading", "text"} and comp["expected_results"]


def test_referential_pages_for_every_logged_in_role(client, people):
    for username, password in (("appr", "clef-atelier-2026"), ("tutor", "clef-formateur-2026"), ("admin", "clef-direction-2026")):
        login(client, username, password)
        assert "Pilote opérationnel" in client.get("/referential").get_data(as_text=True)
        assert "BDC0308" in client.get("/referential/LOG").get_data(as_text=True)
        page = client.get("/referential/competence/QSE-8").get_data(as_text=True)
        assert "Méthodes utilisées" in page and "Résultats attendus" in page
        client.post("/logout")
    assert client.get("/referential").status_code == 302
    assert client.get("/referential/NOPE").status_code == 302
