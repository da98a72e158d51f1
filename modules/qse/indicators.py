"""What the QSE module gives the AIC boards (contract: keys, letters, units, directions)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from modules.qse import audits, events
from modules.qse.models import NonConformity
from shopfloor import clock
from shopfloor.registry import Indicator


def open_nonconformities(db: Session, day: date, team_id: int | None) -> float:
    """Non-conformities detected by `day` and not closed by then."""
    end = clock.day_bounds(day)[1]
    query = (select(func.count()).select_from(NonConformity)
             .where(NonConformity.detected_at < end,
                    (NonConformity.closed_at.is_(None)) | (NonConformity.closed_at >= end)))
    if team_id is not None:
        query = query.where(NonConformity.team_id == team_id)
    return db.scalar(query) or 0


def days_without_accident(db: Session, day: date, team_id: int | None) -> float | None:
    return events.days_without_accident(db, day, team_id)


def near_misses_month(db: Session, day: date, team_id: int | None) -> float:
    return events.count_in_month(db, "near_miss", day, team_id)


def cost_of_non_quality(db: Session, day: date, team_id: int | None) -> float:
    """Cost of the non-conformities detected in the calendar month of `day`, up to `day`."""
    first, end = clock.days_bounds(clock.month_start(day), day)
    query = (select(func.coalesce(func.sum(NonConformity.cost), 0)).select_from(NonConformity)
             .where(NonConformity.detected_at >= first, NonConformity.detected_at < end))
    if team_id is not None:
        query = query.where(NonConformity.team_id == team_id)
    return float(db.scalar(query) or 0)


def open_audit_findings(db: Session, day: date, team_id: int | None) -> float:
    return audits.open_findings_count(db, team_id)


# A near-miss reported is a hazard seen before it hurts: the boards still read fewer as better
# (the contract's direction), and the safety page says that reporting them is encouraged.
INDICATORS = [
    Indicator("qse.open_nonconformities", "Non-conformités ouvertes", "Q", "NC", False, open_nonconformities),
    Indicator("qse.days_without_accident", "Jours sans accident", "S", "j", True, days_without_accident),
    Indicator("qse.near_misses_month", "Presqu'accidents du mois", "S", "presqu'accidents", False, near_misses_month),
    Indicator("qse.cost_of_non_quality", "Coût de non-qualité du mois", "C", "€", False, cost_of_non_quality),
    Indicator("qse.open_audit_findings", "Constats d'audit ouverts", "Q", "constats", False, open_audit_findings),
]
