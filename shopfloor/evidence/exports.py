"""Building report files, and freezing the version declared final by candidate and tutor."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.auth.models import User
from shopfloor.errors import Conflict, Forbidden, NotFound, ValidationError
from shopfloor.evidence.models import FinalReport
from shopfloor.evidence.report import ReportData, report_data
from shopfloor.referential.models import Certification

FORMATS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
}


@dataclass
class ReportFile:
    content: bytes
    mimetype: str
    filename: str


def report_certification(apprentice: User, code: str | None) -> Certification:
    """The certification asked for, which must be one the apprentice prepares."""
    certs = {c.code: c for c in apprentice.certifications}
    if not code:
        if len(certs) == 1:
            return next(iter(certs.values()))
        raise ValidationError("Précisez la certification (paramètre « certification »).", "certification")
    if code.upper() not in certs:
        raise ValidationError(f"{apprentice.username} ne prépare pas le CQPM {code}.", "certification")
    return certs[code.upper()]


def build(data: ReportData, fmt: str, photo_url) -> ReportFile:
    from shopfloor.evidence import report_render
    if fmt not in FORMATS:
        raise ValidationError(f"Format inconnu : {fmt} (docx, html ou xlsx).", "format")
    if fmt == "docx":
        content = report_render.render_docx(data)
    elif fmt == "xlsx":
        content = report_render.render_xlsx(data)
    else:
        content = report_render.render_html(data, photo_url).encode("utf-8")
    stamp = data.generated_at.strftime("%Y%m%d")
    return ReportFile(content, FORMATS[fmt], f"dossier-{data.certification_code}-{data.apprentice_username}-{stamp}.{fmt}")


def make_report(db: Session, apprentice: User, certification: Certification, fmt: str, *, now: datetime,
                include_submitted: bool, activity_labels: dict[str, str], upload_dir: Path, photo_url) -> ReportFile:
    data = report_data(db, apprentice, certification, now=now, include_submitted=include_submitted,
                       activity_labels=activity_labels, upload_dir=upload_dir)
    return build(data, fmt, photo_url)


def final_report(db: Session, apprentice: User, certification: Certification) -> FinalReport | None:
    return db.scalar(select(FinalReport).where(FinalReport.apprentice_id == apprentice.id,
                                               FinalReport.certification_id == certification.id))


def declare_final(db: Session, actor: User, apprentice: User, certification: Certification, *, now: datetime,
                  include_submitted: bool, render, storage: Path) -> FinalReport:
    """The candidate, then the tutor (or the other way round), declare the file final.

    Once both have, the DOCX, HTML and XLSX are rendered by `render(fmt)` and stored
    with their SHA-256: that version can be shown again whatever changes later."""
    record = final_report(db, apprentice, certification)
    if record is not None and record.frozen_at:
        raise Conflict(f"Le dossier a été figé le {record.frozen_at:%d/%m/%Y} ; il ne change plus.", "certification")
    if record is None:
        record = FinalReport(apprentice_id=apprentice.id, certification_id=certification.id, files={})
        db.add(record)
    if actor.id == apprentice.id:
        record.candidate_declared_at = now
        record.include_submitted = include_submitted
    elif actor.role == "tutor" and apprentice.tutor_id == actor.id:
        record.tutor_declared_at, record.tutor_id = now, actor.id
    else:
        raise Forbidden("Seuls le candidat et son tuteur déclarent le dossier final.", "username")
    if record.candidate_declared_at and record.tutor_declared_at:
        files = {}
        folder = storage / "final" / f"{apprentice.id}-{certification.code}"
        folder.mkdir(parents=True, exist_ok=True)
        for fmt in FORMATS:
            report = render(fmt, record.include_submitted)
            (folder / report.filename).write_bytes(report.content)
            files[fmt] = {"name": report.filename, "sha256": hashlib.sha256(report.content).hexdigest(),
                          "size": len(report.content)}
        record.files, record.frozen_at = files, now
    db.flush()
    return record


def frozen_file(record: FinalReport | None, fmt: str, storage: Path) -> ReportFile:
    if record is None or not record.frozen_at or fmt not in record.files:
        raise NotFound("Aucun dossier figé pour cette certification.", "format")
    meta = record.files[fmt]
    path = storage / "final" / f"{record.apprentice_id}-{record.certification.code}" / meta["name"]
    content = path.read_bytes()
    if hashlib.sha256(content).hexdigest() != meta["sha256"]:
        raise Conflict("Le fichier figé ne correspond plus à son empreinte SHA-256 : il a été altéré.", "format")
    return ReportFile(content, FORMATS[fmt], meta["name"])
