"""Regulatory watch (QSE-3): the register of texts, review reminders (a scheduled job) and the CSV export."""
from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from modules.qse.inputs import REGULATORY_FIELDS, RegulatoryTextInput
from modules.qse.models import REG_COMPLIANCE, REG_DOMAINS, RegulatoryText
from modules.qse.pagination import Page, paginate
from shopfloor import access, clock
from shopfloor.auth.models import User
from shopfloor.errors import Conflict, Forbidden
from shopfloor.notifications.services import notify_many
from shopfloor.urls import link

FIELDS = REGULATORY_FIELDS


def check_may_edit(actor: User) -> None:
    """The watch is kept by the QSE coordinator (an apprentice certified QSE), tutors and admins."""
    if actor.role == "apprentice" and "QSE" not in actor.certification_codes:
        raise Forbidden("La veille réglementaire est tenue par le coordonnateur QSE, son tuteur ou un "
                        "administrateur.", "reference")


def save_text(db: Session, actor: User, values: RegulatoryTextInput, text: RegulatoryText | None = None
              ) -> RegulatoryText:
    """A new text of the register (or `text` changed) as parsed by inputs.regulatory_text."""
    check_may_edit(actor)
    clash = db.scalar(select(RegulatoryText.id).where(RegulatoryText.reference == values.reference))
    if clash is not None and (text is None or clash != text.id):
        raise Conflict(f"Le texte « {values.reference} » est déjà dans le registre.", "reference")
    text = text or RegulatoryText(owner_id=actor.id)
    for name, value in asdict(values).items():
        setattr(text, name, value)
    db.add(text)
    db.flush()
    return text


def get_text(db: Session, text_id: int) -> RegulatoryText:
    return access.get(db, RegulatoryText, text_id)


def _conditions(domain: str, compliance: str, q: str) -> list:
    conditions = []
    if domain:
        conditions.append(RegulatoryText.domain == domain)
    if compliance:
        conditions.append(RegulatoryText.compliance == compliance)
    if q:
        pattern = f"%{q.strip()}%"
        conditions.append(or_(RegulatoryText.reference.ilike(pattern), RegulatoryText.title.ilike(pattern)))
    return conditions


def register(db: Session, *, domain: str = "", compliance: str = "", q: str = "", page: int = 1) -> Page:
    conditions = _conditions(domain, compliance, q)
    query = select(RegulatoryText).where(*conditions).order_by(RegulatoryText.next_review.is_(None),
                                                               RegulatoryText.next_review, RegulatoryText.id)
    return paginate(db, query, page, select(func.count(RegulatoryText.id)).where(*conditions))


def export_csv(db: Session, *, domain: str = "", compliance: str = "", q: str = "") -> str:
    """The whole (filtered) register as CSV for a spreadsheet (semicolons, UTF-8 with BOM)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["Référence", "Intitulé", "Domaine", "Source", "Publié le", "Applicabilité", "Exigences",
                     "Conformité", "Action prévue", "Prochaine revue"])
    query = (select(RegulatoryText).where(*_conditions(domain, compliance, q))
             .order_by(RegulatoryText.domain, RegulatoryText.reference))
    for text in db.scalars(query):
        writer.writerow([text.reference, text.title, REG_DOMAINS[text.domain], text.source,
                         text.published_on.isoformat() if text.published_on else "", text.applicability,
                         text.requirements, REG_COMPLIANCE[text.compliance], text.action_planned,
                         text.next_review.isoformat() if text.next_review else ""])
    return out.getvalue()


def remind_due_reviews(db: Session, now: datetime) -> str:
    """Notify each owner once per review date that falls due; safe to run twice or on two workers
    (the notification key is unique and reminded_for records the date already reminded)."""
    today = clock.paris_day(now)
    due = (RegulatoryText.next_review <= today, RegulatoryText.owner_id.is_not(None),
           or_(RegulatoryText.reminded_for.is_(None), RegulatoryText.reminded_for != RegulatoryText.next_review))
    rows = db.execute(select(RegulatoryText.id, RegulatoryText.owner_id, RegulatoryText.reference,
                             RegulatoryText.next_review).where(*due)).all()
    if not rows:
        return "0 revue réglementaire à rappeler"
    notify_many(db, [{"user_id": owner_id, "key": f"qse.regulatory_review.{text_id}.{review.isoformat()}",
                      "message": f"Veille réglementaire : revue de « {reference} » due le {review:%d/%m/%Y}",
                      "url": link("qse.regulatory_text", text_id=text_id)} for text_id, owner_id, reference, review in rows], now)
    db.execute(update(RegulatoryText).where(RegulatoryText.id.in_([r[0] for r in rows]))
               .values(reminded_for=RegulatoryText.next_review).execution_options(synchronize_session=False))
    db.flush()
    return f"{len(rows)} revue(s) réglementaire(s) rappelée(s)"


def as_json(text: RegulatoryText) -> dict:
    return {"id": text.id, **{name: (getattr(text, name).isoformat() if hasattr(getattr(text, name), "isoformat")
                                     else getattr(text, name)) for name in FIELDS}}


