"""What a QSE record or a record QSE builds on starts outside itself, for the cancellation of activities.

A non-conformity opened from a reception or from an audit's finding is an activity of its own: the
reception or the audit it comes from cannot be deleted while it names them (the link would point to
nothing). Cancelling them leaves it standing, naming an origin now shown cancelled. A
non-conformity's containment moves are reversed by the stock module, like every move."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from modules.qse.models import Finding, NonConformity
from shopfloor.registry import Effects


def _opened_from(db: Session, activity) -> list[NonConformity]:
    if activity.type == "stock_reception":
        condition = NonConformity.reception_id == activity.id
    else:
        condition = NonConformity.finding_id.in_(select(Finding.id).where(Finding.audit_id == activity.id))
    return list(db.scalars(select(NonConformity).where(condition, NonConformity.id != activity.id)
                           .order_by(NonConformity.id)))


def describe(db: Session, activity) -> list[str]:
    opened = _opened_from(db, activity)
    return [f"non-conformité(s) ouverte(s) depuis elle : {', '.join(f'n° {nc.id}' for nc in opened)}"] if opened else []


def keep(db: Session, activity, cancellation) -> None:
    """The non-conformities stay: each is its author's activity, with its own life."""


EFFECTS = [Effects("qse_nonconformities_opened", describe, keep, types=("stock_reception", "qse_audit"), order=40)]
