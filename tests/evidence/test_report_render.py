"""Renderers of the candidate's evidence report (DOCX / XLSX / HTML), on hand-built ReportData: no app, no DB."""
from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from PIL import Image

from shopfloor.evidence.report import (ReportBlock, ReportCompetence, ReportData, ReportEvidence,
                                       ReportPhoto)
from shopfloor.evidence.report_render import (MAX_PHOTO_PX, SUBMITTED_MARKER, render_docx, render_html,
                                              render_xlsx)

UTC = timezone.utc
STATEMENT = "J'ai remplacé le roulement de la broche\net vérifié le jeu axial."
CRITERION = "Le candidat consigne la machine avant intervention"
COMMENT = "Travail soigné, consignation respectée."


def make_photo(path: Path, size=(800, 600), color=(200, 30, 30), orientation: int | None = None) -> Path:
    img = Image.new("RGB", size, color)
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    img.save(path, "JPEG", exif=exif.tobytes())
    return path


def evidence(id_: int, *, state: str = "validated", photos=(), statement: str = STATEMENT,
             performed_at=datetime(2025, 3, 12, 13, 30, tzinfo=UTC), reviewed=True) -> ReportEvidence:
    return ReportEvidence(
        id=id_, state=state, performed_at=performed_at, place="Usine Nord – Équipe B",
        activity_type="Intervention de maintenance", activity_title=f"Remplacement roulement #{id_}",
        activity_description="Broche du tour CN 3 : bruit anormal.",
        activity_data=[("Équipement", "Tour CN 3"), ("Durée (h)", "2,5")],
        statement=statement,
        criteria_observed=[("Sécurité", CRITERION), ("Qualité", "Le jeu mesuré est conforme")] if reviewed else [],
        tutor_name="Marie Curie" if reviewed else "", tutor_comment=COMMENT if reviewed else "",
        reviewed_at=datetime(2025, 3, 14, 8, 0, tzinfo=UTC) if reviewed else None,
        photos=list(photos))


def make_data(tmp_path: Path, *, include_submitted: bool = False, statement: str = STATEMENT,
              extra_photos=()) -> ReportData:
    p1 = make_photo(tmp_path / "a.jpg")
    p2 = make_photo(tmp_path / "b.jpg", color=(30, 30, 200))
    shared = ReportPhoto("broche.jpg", p1)
    ev1 = evidence(1, photos=[shared, ReportPhoto("jeu.jpg", p2), *extra_photos], statement=statement)
    ev2 = evidence(2, photos=[shared])                 # the same photo on a second evidence
    evs = [ev1, ev2]
    if include_submitted:
        evs.append(evidence(3, state="submitted", reviewed=False))
    c1 = ReportCompetence("MAI-1", 1, "Réaliser une intervention de maintenance corrective", evs,
                          "Acquis (autonome)", "Très bon niveau", date(2025, 3, 20))
    c2 = ReportCompetence("MAI-2", 2, "Diagnostiquer une panne", [], None, "", None)
    c3 = ReportCompetence("QSE-1", 1, "Appliquer les règles de sécurité",
                          [evidence(4, performed_at=datetime(2025, 3, 31, 22, 30, tzinfo=UTC))],
                          "En cours d'acquisition", "", date(2025, 4, 2))
    return ReportData(
        apprentice_name="Léa Martin", apprentice_username="lmartin", tutor_name="Marie Curie",
        certification_code="CQPM 0285", certification_title="Technicien(ne) de maintenance industrielle",
        generated_at=datetime(2025, 3, 31, 22, 30, tzinfo=UTC),       # 1 April in Paris
        include_submitted=include_submitted,
        blocks=[ReportBlock("MAI – bloc 1", "Maintenance", [c1, c2]),
                ReportBlock("QSE – bloc 2", "Sécurité", [c3])])


def docx_texts(doc) -> list[str]:
    texts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            texts.extend(c.text for c in row.cells)
    return texts


# --------------------------------------------------------------------------- DOCX

def test_docx_content(tmp_path):
    data = make_data(tmp_path)
    doc = Document(io.BytesIO(render_docx(data)))
    paragraphs = [p.text for p in doc.paragraphs]
    texts = docx_texts(doc)

    assert paragraphs[0] == "Dossier de preuves – CQPM"
    assert "Candidat(e) : Léa Martin" in paragraphs
    assert any("CQPM 0285" in t and "Technicien(ne) de maintenance industrielle" in t for t in paragraphs)
    assert "Document généré le 01/04/2025" in paragraphs             # Paris date, not UTC
    assert "Preuves validées par le tuteur" in paragraphs
    assert not any(SUBMITTED_MARKER in t for t in paragraphs)

    headings = {(p.style.name, p.text) for p in doc.paragraphs if p.style.name.startswith("Heading")}
    assert ("Heading 1", "MAI – bloc 1 – Maintenance") in headings
    assert ("Heading 2", "MAI-1 – Réaliser une intervention de maintenance corrective") in headings
    assert ("Heading 3", "Remplacement roulement #1 – 12/03/2025") in headings

    assert STATEMENT in paragraphs                                     # newline kept as a line break
    bullets = [p.text for p in doc.paragraphs if p.style.name == "List Bullet"]
    assert f"Sécurité : {CRITERION}" in bullets
    assert "Commentaire du tuteur (Marie Curie, 14/03/2025)" in paragraphs
    assert COMMENT in paragraphs
    assert "Avis de l'entreprise : Acquis (autonome) (20/03/2025) – Très bon niveau" in paragraphs
    assert "Avis de l'entreprise : non renseigné" in paragraphs

    # facts table and summary table
    assert "Usine Nord – Équipe B" in texts and "Tour CN 3" in texts and "12/03/2025 à 14:30" in texts
    assert "1 / 2" in texts and "1 / 1" in texts

    # closing section lists the competence without evidence
    i = paragraphs.index("Compétences sans preuve")
    assert paragraphs[i + 1:] == ["MAI-2 – Diagnostiquer une panne"]

    # photos: 3 references on validated evidence (one photo used twice) are all embedded; image stored once
    assert len(doc.inline_shapes) == 3
    assert paragraphs.count("broche.jpg") == 2 and "jeu.jpg" in paragraphs
    images = {rel.target_part.partname for rel in doc.part.rels.values() if "image" in rel.reltype}
    assert len(images) == 2


def test_docx_marks_submitted_evidence(tmp_path):
    data = make_data(tmp_path, include_submitted=True)
    doc = Document(io.BytesIO(render_docx(data)))
    paragraphs = [p.text for p in doc.paragraphs]
    assert ("Preuves validées et soumises (les preuves soumises non encore validées sont signalées)"
            in paragraphs)
    marked = [p for p in doc.paragraphs if SUBMITTED_MARKER in p.text]
    assert len(marked) == 1
    assert marked[0].style.name == "Heading 3" and marked[0].text.startswith("Remplacement roulement #3")


def test_docx_all_competences_covered(tmp_path):
    data = make_data(tmp_path)
    data.blocks[0].competences.pop(1)
    doc = Document(io.BytesIO(render_docx(data)))
    paragraphs = [p.text for p in doc.paragraphs]
    assert paragraphs[-2:] == ["Compétences sans preuve", "Toutes les compétences ont au moins une preuve."]


def test_missing_or_broken_photo_does_not_fail(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image at all")
    extra = [ReportPhoto("disparue.jpg", tmp_path / "nope.jpg"), ReportPhoto("cassee.jpg", broken)]
    data = make_data(tmp_path, extra_photos=extra)

    doc = Document(io.BytesIO(render_docx(data)))
    paragraphs = [p.text for p in doc.paragraphs]
    assert "(photo indisponible : disparue.jpg)" in paragraphs
    assert "(photo indisponible : cassee.jpg)" in paragraphs
    assert len(doc.inline_shapes) == 3                     # only the readable ones

    html = render_html(data, lambda p: f"/photos/{p.path.name}")
    assert "(photo indisponible : disparue.jpg)" in html
    assert "/photos/nope.jpg" not in html


def test_docx_photo_downscaled_and_upright(tmp_path):
    # 3000x2000 stored landscape, EXIF orientation 6 = "rotate 90° clockwise to display": portrait once upright.
    big = make_photo(tmp_path / "big.jpg", size=(3000, 2000), orientation=6)
    data = make_data(tmp_path, extra_photos=[ReportPhoto("grande.jpg", big)])
    doc = Document(io.BytesIO(render_docx(data)))
    blobs = [rel.target_part.blob for rel in doc.part.rels.values() if "image" in rel.reltype]
    sizes = [Image.open(io.BytesIO(b)).size for b in blobs]
    big_size = max(sizes, key=max)
    assert max(big_size) <= MAX_PHOTO_PX
    assert big_size[1] > big_size[0]                        # portrait: EXIF orientation applied
    assert all(Image.open(io.BytesIO(b)).format == "JPEG" for b in blobs)


def test_docx_transparent_and_tall_photos(tmp_path):
    png = tmp_path / "schema.png"
    Image.new("RGBA", (400, 300), (0, 0, 0, 0)).save(png)
    tall = make_photo(tmp_path / "tall.jpg", size=(500, 2000))
    data = make_data(tmp_path, extra_photos=[ReportPhoto("schema.png", png), ReportPhoto("tall.jpg", tall)])
    raw = render_docx(data)
    doc = Document(io.BytesIO(raw))
    assert len(doc.inline_shapes) == 5
    assert max(s.height.cm for s in doc.inline_shapes) <= 16.01          # tall photo capped in height
    assert max(s.width.cm for s in doc.inline_shapes) <= 12.01
    with zipfile.ZipFile(io.BytesIO(raw)) as z:                        # photos stored, XML deflated
        media = [i for i in z.infolist() if i.filename.startswith("word/media/")]
        assert len(media) == 4 and all(i.compress_type == zipfile.ZIP_STORED for i in media)
        assert z.getinfo("word/document.xml").compress_type == zipfile.ZIP_DEFLATED


def test_docx_survives_control_characters(tmp_path):
    data = make_data(tmp_path, statement="Mesure\x0b faite\x00 au pied à coulisse")
    doc = Document(io.BytesIO(render_docx(data)))
    assert "Mesure faite au pied à coulisse" in [p.text for p in doc.paragraphs]


# --------------------------------------------------------------------------- XLSX

def test_xlsx(tmp_path):
    data = make_data(tmp_path, include_submitted=True, statement="=HYPERLINK(\"http://x\")")
    wb = load_workbook(io.BytesIO(render_xlsx(data)))
    assert wb.sheetnames == ["Preuves", "Couverture"]

    ws = wb["Preuves"]
    header = [c.value for c in ws[1]]
    assert header == ["Bloc", "Compétence", "Intitulé compétence", "État", "Date", "Lieu", "Type d'activité",
                      "Activité", "Déclaration", "Critères observés", "Tuteur", "Commentaire du tuteur",
                      "Date de validation", "Photos"]
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:N5"
    assert ws.max_row == 1 + data.evidence_count == 5

    rows = list(ws.iter_rows(min_row=2, values_only=True))
    first = rows[0]
    assert first[:4] == ("MAI – bloc 1", "MAI-1", "Réaliser une intervention de maintenance corrective", "validée")
    assert isinstance(first[4], datetime) and first[4].date() == date(2025, 3, 12)
    assert ws.cell(row=2, column=5).is_date and ws.cell(row=2, column=5).number_format == "dd/mm/yyyy"
    assert first[8] == "=HYPERLINK(\"http://x\")" and ws.cell(row=2, column=9).data_type == "s"   # not a formula
    assert first[9] == f"Sécurité : {CRITERION} ; Qualité : Le jeu mesuré est conforme"
    assert first[10:] == ("Marie Curie", COMMENT, datetime(2025, 3, 14), 2)
    assert [r[3] for r in rows].count("soumise") == 1
    assert rows[-1][4] == datetime(2025, 4, 1)             # 31/03 22:30 UTC is 1 April in Paris

    cov = wb["Couverture"]
    assert [c.value for c in cov[1]] == ["Bloc", "Compétence", "Intitulé", "Nombre de preuves",
                                         "Avis de l'entreprise", "Date de l'avis"]
    cov_rows = list(cov.iter_rows(min_row=2, values_only=True))
    assert len(cov_rows) == 3
    assert cov_rows[0] == ("MAI – bloc 1", "MAI-1", "Réaliser une intervention de maintenance corrective", 3,
                           "Acquis (autonome)", datetime(2025, 3, 20))
    assert cov_rows[1][3] == 0 and cov_rows[1][4] == "non renseigné" and cov_rows[1][5] is None


# --------------------------------------------------------------------------- HTML

def test_html(tmp_path):
    data = make_data(tmp_path, include_submitted=True, statement="Avant <script>alert('x')</script> après")
    html = render_html(data, lambda p: f"/evidence/photo/{p.path.name}?v=1&s=2")

    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert '<html lang="fr">' in html and '<meta charset="utf-8">' in html
    assert "{% extends" not in html and "<link" not in html and "http://" not in html and "https://" not in html
    assert "@page" in html and "@media print" in html and ">Imprimer</button>" in html

    assert "<script>alert" not in html
    assert "Avant &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; après" in html
    assert 'src="/evidence/photo/a.jpg?v=1&amp;s=2"' in html
    assert f"Sécurité : {CRITERION}" in html and COMMENT in html
    assert SUBMITTED_MARKER in html
    assert "Document généré le 01/04/2025" in html

    # same order as the DOCX
    order = ["Dossier de preuves – CQPM", "Sommaire", "MAI – bloc 1 – Maintenance",
             "MAI-1 – Réaliser une intervention de maintenance corrective", "Avis de l&#39;entreprise : Acquis",
             "Remplacement roulement #1 – 12/03/2025", "Ce que j'ai fait (déclaration)",
             "Critères observés par le tuteur", "Commentaire du tuteur (Marie Curie, 14/03/2025)", "broche.jpg",
             "MAI-2 – Diagnostiquer une panne", "QSE – bloc 2 – Sécurité", "Compétences sans preuve"]
    positions = [html.index(s) for s in order]
    assert positions == sorted(positions)
    assert html.count('class="block"') == 3          # two blocks + closing section, each on a new page


@pytest.mark.parametrize("include_submitted", [False, True])
def test_html_without_submitted(tmp_path, include_submitted):
    html = render_html(make_data(tmp_path, include_submitted=include_submitted), lambda p: "/x")
    assert (SUBMITTED_MARKER in html) is include_submitted
