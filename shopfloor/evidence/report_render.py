"""Renderers for the candidate's evidence report: DOCX (to edit for the jury), XLSX and printable HTML.

Pure functions of a :class:`~shopfloor.evidence.report.ReportData`: no Flask request, no database.
Dates held in the report are aware UTC datetimes; they are shown in Europe/Paris.
"""
from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape, quoteattr

from jinja2 import Environment, PackageLoader

from shopfloor.clock import PARIS
from shopfloor.evidence.report import (ReportBlock, ReportCompetence, ReportData, ReportEvidence,
                                       ReportPhoto)
from shopfloor.evidence.services import MAX_IMAGE_PIXELS

TITLE = "Dossier de preuves – CQPM"
SUBMITTED_MARKER = "[SOUMISE – en attente de validation]"
NO_EVIDENCE_ALL_COVERED = "Toutes les compétences ont au moins une preuve."
STATE_LABELS = {"validated": "validée", "submitted": "soumise"}

MAX_PHOTO_PX = 1600          # long side of an embedded photo, at most
PHOTO_JPEG_QUALITY = 80
PHOTO_WIDTH_CM = 12.0
PHOTO_MAX_HEIGHT_CM = 16.0   # portrait photos: cap the height so a photo fits on a page with its caption

# Characters XML 1.0 forbids (python-docx and openpyxl refuse them; browsers choke on them).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EXCEL_MAX_CHARS = 32767


# --------------------------------------------------------------------------- shared helpers

def to_paris(value: datetime | None) -> datetime | None:
    """An aware datetime in Europe/Paris. A naive value is taken as UTC (what the database stores)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(PARIS)


def fmt_date(value: datetime | date | None) -> str:
    """dd/mm/yyyy, in Paris time for datetimes; "" for None."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_paris(value)
    return value.strftime("%d/%m/%Y")


def fmt_datetime(value: datetime | None) -> str:
    """dd/mm/yyyy à HH:MM in Paris time; "" for None."""
    if value is None:
        return ""
    return to_paris(value).strftime("%d/%m/%Y à %H:%M")


def clean(value: object) -> str:
    """Text safe for XML-based formats: str() of the value, without control characters."""
    if value is None:
        return ""
    return _XML_ILLEGAL.sub("", value if isinstance(value, str) else str(value))


def scope_line(data: ReportData) -> str:
    if data.include_submitted:
        return "Preuves validées et soumises (les preuves soumises non encore validées sont signalées)"
    return "Preuves validées par le tuteur"


def opinion_line(comp: ReportCompetence) -> str:
    if not comp.opinion_level:
        return "Avis de l'entreprise : non renseigné"
    text = f"Avis de l'entreprise : {comp.opinion_level}"
    if comp.opinion_date:
        text += f" ({fmt_date(comp.opinion_date)})"
    if comp.opinion_comment and comp.opinion_comment.strip():
        text += f" – {comp.opinion_comment.strip()}"
    return text


def evidence_heading(ev: ReportEvidence) -> str:
    return f"{ev.activity_title} – {fmt_date(ev.performed_at)}"


def evidence_facts(ev: ReportEvidence) -> list[tuple[str, str]]:
    """The rows of the small table describing an evidence's activity."""
    rows = [("Date", fmt_datetime(ev.performed_at)), ("Lieu", ev.place or "—"),
            ("Type d'activité", ev.activity_type or "—")]
    rows += [(clean(label), clean(value) or "—") for label, value in ev.activity_data or ()]
    return rows


def criteria_lines(ev: ReportEvidence) -> list[str]:
    return [f"{heading} : {text}" if heading else text for heading, text in ev.criteria_observed or ()]


def tutor_comment_label(ev: ReportEvidence) -> str:
    if not ev.tutor_name and ev.reviewed_at is None:
        return "Commentaire du tuteur"
    parts = [p for p in (ev.tutor_name, fmt_date(ev.reviewed_at)) if p]
    return f"Commentaire du tuteur ({', '.join(parts)})"


def tutor_comment_text(ev: ReportEvidence) -> str:
    if ev.tutor_comment and ev.tutor_comment.strip():
        return ev.tutor_comment
    if ev.state == "submitted" and ev.reviewed_at is None:
        return "(en attente de validation)"
    return "(sans commentaire)"


def block_heading(block: ReportBlock) -> str:
    return f"{block.label} – {block.title}"


def competence_heading(comp: ReportCompetence) -> str:
    return f"{comp.code} – {comp.title}"


def block_coverage(block: ReportBlock) -> tuple[int, int]:
    """(competences with at least one evidence, total competences) of a block."""
    return sum(1 for c in block.competences if c.evidence), len(block.competences)


# --------------------------------------------------------------------------- photos

@dataclass(frozen=True)
class PreparedPhoto:
    jpeg: bytes
    width: int
    height: int


def prepare_photo(path: Path | str) -> PreparedPhoto | None:
    """The photo downscaled to MAX_PHOTO_PX on its long side, upright (EXIF), as JPEG bytes.

    None when the file is missing, unreadable or not an image.
    """
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as img:
            if img.width * img.height > MAX_IMAGE_PIXELS:  # from the header: never decode a bomb
                return None
            if img.format == "JPEG":
                # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the result stays >= 3/4 of the target:
                # several times faster than decoding every pixel of a phone photo and resizing afterwards.
                w, h = img.size
                ratio = MAX_PHOTO_PX / max(w, h)
                if ratio < 1:
                    img.draft(img.mode, (max(1, int(w * ratio * 0.75)), max(1, int(h * ratio * 0.75))))
            img.load()
            img = ImageOps.exif_transpose(img)
            if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
                rgba = img.convert("RGBA")
                flat = Image.new("RGB", rgba.size, (255, 255, 255))
                flat.paste(rgba, mask=rgba.getchannel("A"))
                img = flat
            elif img.mode != "RGB":
                img = img.convert("RGB")
            img.thumbnail((MAX_PHOTO_PX, MAX_PHOTO_PX))
            out = io.BytesIO()
            img.save(out, "JPEG", quality=PHOTO_JPEG_QUALITY, optimize=False)
            return PreparedPhoto(out.getvalue(), img.width, img.height)
    except Exception:  # noqa: BLE001 - any broken/missing/hostile file just becomes "photo indisponible"
        return None


def _all_photos(data: ReportData) -> list[ReportPhoto]:
    return [p for c in data.competences for ev in c.evidence for p in ev.photos]


# --------------------------------------------------------------------------- DOCX

_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_NEWLINES = re.compile(r"\r\n?|\n")


def _w_runs(text: str, rpr: str = "") -> str:
    """WordprocessingML run(s) for a text: line breaks become <w:br/>, tabs <w:tab/>."""
    text = clean(text)
    if not text:
        return ""
    parts = []
    for i, line in enumerate(_NEWLINES.split(text)):
        if i:
            parts.append("<w:br/>")
        for j, chunk in enumerate(line.split("\t")):
            if j:
                parts.append("<w:tab/>")
            if chunk:
                parts.append(f'<w:t xml:space="preserve">{xml_escape(chunk)}</w:t>')
    return f"<w:r>{rpr}{''.join(parts)}</w:r>"


def _w_p(text: str, style_id: str | None = None, *, page_break: bool = False, extra_runs: str = "") -> str:
    ppr = ""
    if style_id or page_break:
        ppr = ("<w:pPr>" + (f"<w:pStyle w:val={quoteattr(style_id)}/>" if style_id else "")
               + ("<w:pageBreakBefore/>" if page_break else "") + "</w:pPr>")
    return f"<w:p>{ppr}{_w_runs(text)}{extra_runs}</w:p>"


def _w_table(rows: list[tuple[str, ...]], widths_twips: tuple[int, ...], table_style: str,
             label_style: str, cell_style: str, *, header: bool = False) -> str:
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths_twips)
    out = [f'<w:tbl><w:tblPr><w:tblStyle w:val={quoteattr(table_style)}/><w:tblW w:type="auto" w:w="0"/>'
           f'<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" w:lastColumn="0" '
           f'w:noHBand="0" w:noVBand="1"/></w:tblPr><w:tblGrid>{grid}</w:tblGrid>']
    for i, values in enumerate(rows):
        out.append("<w:tr>")
        for j, (value, width) in enumerate(zip(values, widths_twips)):
            is_label = (i == 0) if header else (j == 0)
            out.append(f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{width}"/></w:tcPr>'
                       f"{_w_p(value, label_style if is_label else cell_style)}</w:tc>")
        out.append("</w:tr>")
    out.append("</w:tbl>")
    return "".join(out)


def _twips(cm: float) -> int:
    return round(cm / 2.54 * 1440)


def render_docx(data: ReportData) -> bytes:
    """The evidence report as a Word document the candidate edits before sending it to the jury.

    Photos are prepared (downscaled, upright) in worker threads while the text is being built. The bulk of
    the text is emitted as WordprocessingML fragments parsed once per evidence: python-docx's element-by-element
    API (and its style look-up by name on every paragraph) takes seconds on a 300-evidence report.
    """
    paths = list(dict.fromkeys(str(p.path) for p in _all_photos(data)))   # each distinct photo prepared once
    workers = max(1, min(len(paths), 8, os.cpu_count() or 1))
    # Pillow releases the GIL while decoding, so the photos are prepared while the text is being built.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending = {path: pool.submit(prepare_photo, path) for path in paths}
        try:
            return _build_docx(data, pending)
        finally:
            for future in pending.values():     # on error, do not decode the remaining photos for nothing
                future.cancel()


def _build_docx(data: ReportData, pending: dict[str, Future]) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.image.image import Image as DocxImage
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.packuri import PackURI
    from docx.oxml import parse_xml
    from docx.oxml.ns import qn
    from docx.oxml.shape import CT_Inline
    from docx.parts.image import ImagePart
    from docx.shared import Cm, Emu, Pt, RGBColor

    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2)
    section.top_margin = section.bottom_margin = Cm(2)

    # French proofing language for the whole document (the candidate edits it in Word / LibreOffice).
    rpr_default = doc.styles.element.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}")
    if rpr_default is not None:
        lang = rpr_default.find(qn("w:lang"))
        if lang is None:
            lang = rpr_default.makeelement(qn("w:lang"), {})
            rpr_default.append(lang)
        lang.set(qn("w:val"), "fr-FR")

    props = doc.core_properties
    props.title = f"{TITLE} – {clean(data.apprentice_name)}"
    props.subject = clean(f"{data.certification_code} {data.certification_title}")
    props.author = clean(data.apprentice_name)
    props.language = "fr-FR"
    props.created = to_paris(data.generated_at).astimezone(timezone.utc)

    # Named styles rather than direct formatting: the candidate can restyle the whole document at once.
    styles = doc.styles
    grey = RGBColor(0x59, 0x59, 0x59)

    def add_style(name: str, style_id: str, base: str, *, bold=False, italic=False, color=None, keep_with_next=False,
                  center=False, space_after=None) -> str:
        st = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        st.style_id = style_id          # ASCII ids: python-docx would derive "Légendephoto" from the name
        st.base_style = styles[base]
        st.quick_style = True
        if bold:
            st.font.bold = True
        if italic:
            st.font.italic = True
        if color is not None:
            st.font.color.rgb = color
        pf = st.paragraph_format
        if keep_with_next:
            pf.keep_with_next = True
        if center:
            pf.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if space_after is not None:
            pf.space_after = space_after
        return st.style_id

    S_TITLE, S_SUBTITLE = styles["Title"].style_id, styles["Subtitle"].style_id
    S_H = {1: styles["Heading 1"].style_id, 2: styles["Heading 2"].style_id, 3: styles["Heading 3"].style_id}
    S_BULLET, S_GRID = styles["List Bullet"].style_id, styles["Table Grid"].style_id
    S_LABEL = add_style("Libellé", "SfLabel", "Normal", bold=True, keep_with_next=True, space_after=Pt(2))
    S_CELL_LABEL = add_style("Libellé tableau", "SfCellLabel", "Normal", bold=True, space_after=Pt(0))
    S_CELL = add_style("Valeur tableau", "SfCell", "Normal", space_after=Pt(0))
    S_NOTE = add_style("Mention", "SfNote", "Normal", italic=True, color=grey)
    S_PHOTO = add_style("Photo", "SfPhoto", "Normal", keep_with_next=True, center=True, space_after=Pt(2))
    S_CAPTION = add_style("Légende photo", "SfCaption", "Caption", center=True, color=grey)
    MARKER_RPR = '<w:rPr><w:b/><w:color w:val="C00000"/></w:rPr>'
    FACT_WIDTHS = (_twips(5), _twips(12))
    photo_width, photo_max_h = Cm(PHOTO_WIDTH_CM), Cm(PHOTO_MAX_HEIGHT_CM)

    # Each distinct photo becomes one image part, shared by every evidence showing it. Not run.add_picture():
    # python-docx de-duplicates images by re-hashing every image already in the package on each call, and
    # numbers shapes by scanning the whole document: quadratic, about a second for 100 photos.
    image_rids: dict[str, str] = {}
    shape_ids = [1000]   # docPr ids; the blank template holds no drawing

    def add_image_part(jpeg: bytes) -> str:
        partname = PackURI(f"/word/media/report_photo{len(image_rids) + 1}.jpeg")
        part = ImagePart.from_image(DocxImage.from_blob(jpeg), partname)
        return doc.part.relate_to(part, RT.IMAGE)

    body = doc.element.body
    sect_pr = body.find(qn("w:sectPr"))

    def emit(fragments: list[str]) -> None:
        """Parse WordprocessingML fragments once and insert them at the end of the body."""
        if not fragments:
            return
        holder = parse_xml(f'<w:body xmlns:w="{_W_NS}">{"".join(fragments)}</w:body>')
        for child in list(holder):
            if sect_pr is not None:
                sect_pr.addprevious(child)
            else:
                body.append(child)
        fragments.clear()

    out: list[str] = []

    # ---- title page
    out += [_w_p(TITLE, S_TITLE), _w_p(f"{data.certification_code} – {data.certification_title}", S_SUBTITLE),
            _w_p(f"Candidat(e) : {data.apprentice_name}"),
            _w_p(f"Tuteur : {data.tutor_name or 'non renseigné'}"),
            _w_p(f"Document généré le {fmt_date(data.generated_at)}"),
            _w_p(scope_line(data), S_NOTE), _w_p(f"Nombre de preuves : {data.evidence_count}")]

    # ---- summary, on its own page
    summary = [("Bloc", "Intitulé", "Compétences avec preuve")]
    summary += [(b.label, b.title, "{} / {}".format(*block_coverage(b))) for b in data.blocks]
    out += [_w_p("Sommaire", S_H[1], page_break=True),
            _w_table(summary, (_twips(4), _twips(9), _twips(4)), S_GRID, S_CELL_LABEL, S_CELL, header=True),
            _w_p("")]
    emit(out)
    doc.tables[-1].alignment = WD_TABLE_ALIGNMENT.CENTER

    # ---- blocks, competences, evidence
    for block in data.blocks:
        out.append(_w_p(block_heading(block), S_H[1], page_break=True))
        for comp in block.competences:
            out.append(_w_p(competence_heading(comp), S_H[2]))
            out.append(_w_p(opinion_line(comp), None if comp.opinion_level else S_NOTE))
            if not comp.evidence:
                out.append(_w_p("Aucune preuve pour cette compétence.", S_NOTE))
            for ev in comp.evidence:
                marker = _w_runs(" " + SUBMITTED_MARKER, MARKER_RPR) if ev.state == "submitted" else ""
                out.append(_w_p(evidence_heading(ev), S_H[3], extra_runs=marker))
                out.append(_w_table(evidence_facts(ev), FACT_WIDTHS, S_GRID, S_CELL_LABEL, S_CELL))
                if ev.activity_description and ev.activity_description.strip():
                    out += [_w_p("Description de l'activité", S_LABEL), _w_p(ev.activity_description)]
                out += [_w_p("Ce que j'ai fait (déclaration)", S_LABEL), _w_p(ev.statement or "—"),
                        _w_p("Critères observés par le tuteur", S_LABEL)]
                lines = criteria_lines(ev)
                out += [_w_p(line, S_BULLET) for line in lines] or [_w_p("Aucun critère renseigné.", S_NOTE)]
                out += [_w_p(tutor_comment_label(ev), S_LABEL), _w_p(tutor_comment_text(ev))]

                for photo in ev.photos:
                    prepared = pending[str(photo.path)].result()
                    if prepared is None:
                        out.append(_w_p(f"(photo indisponible : {photo.filename})", S_NOTE))
                        continue
                    emit(out)
                    rid = image_rids.get(str(photo.path))
                    if rid is None:
                        rid = image_rids[str(photo.path)] = add_image_part(prepared.jpeg)
                    if prepared.height * photo_width > prepared.width * photo_max_h:
                        cy = photo_max_h
                        cx = Emu(round(cy * prepared.width / prepared.height))
                    else:
                        cx = photo_width
                        cy = Emu(round(cx * prepared.height / prepared.width))
                    shape_ids[0] += 1
                    p = doc.add_paragraph()
                    p._p.style = S_PHOTO
                    p._p.add_r().add_drawing(
                        CT_Inline.new_pic_inline(shape_ids[0], rid, f"photo{shape_ids[0]}.jpg", cx, cy))
                    out.append(_w_p(photo.filename, S_CAPTION))
                emit(out)

    # ---- competences without evidence
    out.append(_w_p("Compétences sans preuve", S_H[1], page_break=True))
    missing = data.without_evidence
    out += [_w_p(competence_heading(c), S_BULLET) for c in missing] or [_w_p(NO_EVIDENCE_ALL_COVERED)]
    emit(out)

    return _save_docx(doc)


class _MediaStoredZipWriter:
    """python-docx's physical package writer, except that JPEG/PNG media are stored, not deflated:
    deflating 30 MB of JPEG takes about a second and gains nothing."""

    def __init__(self, stream: io.BytesIO):
        import zipfile
        self._zipfile = zipfile
        self._zip = zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED)

    def write(self, pack_uri, blob: bytes) -> None:
        name = pack_uri.membername
        stored = name.startswith("word/media/") and name.lower().endswith((".jpeg", ".jpg", ".png"))
        self._zip.writestr(name, blob,
                           compress_type=self._zipfile.ZIP_STORED if stored else self._zipfile.ZIP_DEFLATED)

    def close(self) -> None:
        self._zip.close()


def _save_docx(doc) -> bytes:
    try:
        from docx.opc.pkgwriter import PackageWriter

        package = doc.part.package
        parts = list(package.parts)
        for part in parts:
            part.before_marshal()
        buf = io.BytesIO()
        writer = _MediaStoredZipWriter(buf)
        PackageWriter._write_content_types_stream(writer, parts)
        PackageWriter._write_pkg_rels(writer, package.rels)
        PackageWriter._write_parts(writer, parts)
        writer.close()
        return buf.getvalue()
    except AttributeError:      # python-docx internals moved: the ordinary (slower) save
        buf = io.BytesIO()
        doc.save(buf)
        return buf.getvalue()


# --------------------------------------------------------------------------- XLSX

EVIDENCE_COLUMNS: list[tuple[str, float]] = [
    ("Bloc", 14), ("Compétence", 13), ("Intitulé compétence", 40), ("État", 10), ("Date", 12),
    ("Lieu", 22), ("Type d'activité", 22), ("Activité", 36), ("Déclaration", 60), ("Critères observés", 60),
    ("Tuteur", 22), ("Commentaire du tuteur", 50), ("Date de validation", 16), ("Photos", 8),
]
COVERAGE_COLUMNS: list[tuple[str, float]] = [
    ("Bloc", 14), ("Compétence", 13), ("Intitulé", 50), ("Nombre de preuves", 18),
    ("Avis de l'entreprise", 26), ("Date de l'avis", 14),
]


def _paris_date(value: datetime | date | None) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return to_paris(value).date()
    return value


def render_xlsx(data: ReportData) -> bytes:
    """Evidence as a filterable workbook: one row per evidence ("Preuves"), one per competence ("Couverture")."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    wb.properties.creator = "Shopfloor"
    wb.properties.title = f"{TITLE} – {clean(data.apprentice_name)}"
    bold = Font(bold=True)
    header_align = Alignment(vertical="center", wrap_text=True)
    DATE_FMT = "dd/mm/yyyy"

    def sheet(title: str, columns: list[tuple[str, float]], nrows: int):
        ws = wb.create_sheet(title)
        for i, (_, width) in enumerate(columns, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.freeze_panes = "A2"
        last = get_column_letter(len(columns))
        ws.auto_filter.ref = f"A1:{last}{max(1, nrows + 1)}"
        header = []
        for name, _ in columns:
            cell = WriteOnlyCell(ws, value=name)
            cell.font, cell.alignment = bold, header_align
            header.append(cell)
        ws.append(header)
        return ws

    def text(ws, value: object):
        s = clean(value)
        if len(s) > _EXCEL_MAX_CHARS:
            s = s[:_EXCEL_MAX_CHARS - 1] + "…"
        if s.startswith("="):                    # never let user text become a formula
            cell = WriteOnlyCell(ws, value=s)
            cell.data_type = "s"
            return cell
        return s

    def date_cell(ws, value: datetime | date | None):
        d = _paris_date(value)
        if d is None:
            return None
        cell = WriteOnlyCell(ws, value=d)
        cell.number_format = DATE_FMT
        return cell

    competences = [(block, comp) for block in data.blocks for comp in block.competences]

    ws = sheet("Preuves", EVIDENCE_COLUMNS, data.evidence_count)
    for block, comp in competences:
        block_label, code, comp_title = text(ws, block.label), text(ws, comp.code), text(ws, comp.title)
        for ev in comp.evidence:
            ws.append([
                block_label, code, comp_title,
                STATE_LABELS.get(ev.state, ev.state),
                date_cell(ws, ev.performed_at),
                text(ws, ev.place), text(ws, ev.activity_type), text(ws, ev.activity_title),
                text(ws, ev.statement), text(ws, " ; ".join(criteria_lines(ev))),
                text(ws, ev.tutor_name), text(ws, ev.tutor_comment),
                date_cell(ws, ev.reviewed_at),
                len(ev.photos),
            ])

    ws = sheet("Couverture", COVERAGE_COLUMNS, len(competences))
    for block, comp in competences:
        ws.append([text(ws, block.label), text(ws, comp.code), text(ws, comp.title), len(comp.evidence),
                   text(ws, comp.opinion_level or "non renseigné"), date_cell(ws, comp.opinion_date)])

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- HTML

_env = Environment(loader=PackageLoader("shopfloor", "templates"), autoescape=True,
                   trim_blocks=True, lstrip_blocks=True)
_env.filters.update(paris_date=fmt_date, paris_datetime=fmt_datetime, clean=clean)
_env.globals.update(
    TITLE=TITLE, SUBMITTED_MARKER=SUBMITTED_MARKER, NO_EVIDENCE_ALL_COVERED=NO_EVIDENCE_ALL_COVERED,
    scope_line=scope_line, opinion_line=opinion_line, evidence_heading=evidence_heading,
    evidence_facts=evidence_facts, criteria_lines=criteria_lines, tutor_comment_label=tutor_comment_label,
    tutor_comment_text=tutor_comment_text, block_heading=block_heading, competence_heading=competence_heading,
    block_coverage=block_coverage,
)


def render_html(data: ReportData, photo_url: Callable[[ReportPhoto], str]) -> str:
    """A standalone, print-ready HTML page with the same content and order as the DOCX."""
    def photo_available(photo: ReportPhoto) -> bool:
        try:
            return Path(photo.path).is_file()
        except OSError:
            return False

    template = _env.get_template("evidence/report_print.html")
    return template.render(data=data, photo_url=photo_url, photo_available=photo_available)
