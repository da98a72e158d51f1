"""The origins (for actions and problem sheets) and Pareto sources the QSE module registers."""
from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from modules.qse.models import NC_SEVERITIES, NC_SOURCES, Finding, NonConformity
from modules.qse.nonconformities import in_period
from shopfloor.origins import activity_itself
from shopfloor.registry import Origin, ParetoSource
from shopfloor.urls import link

def resolve_nonconformity(db: Session, record_id: int):
    nc = db.get(NonConformity, record_id)
    if nc is None:
        return None
    return f"NC n° {nc.id} – {nc.title}", link("qse.nonconformity", nc_id=nc.id)


def resolve_finding(db: Session, record_id: int):
    finding = db.get(Finding, record_id)
    if finding is None:
        return None
    return (f"Constat § {finding.clause} – audit {finding.audit.process}",
            link("qse.audit", audit_id=finding.audit_id))


def finding_audit(db: Session, record_id: int) -> int | None:
    """A finding's actions freeze with its audit."""
    return db.scalar(select(Finding.audit_id).where(Finding.id == record_id))


def _grouped(db: Session, column, labels: dict, start: date, end: date, team_id: int | None):
    query = select(column, func.count()).select_from(NonConformity).where(*in_period(start, end)).group_by(column)
    if team_id is not None:
        query = query.where(NonConformity.team_id == team_id)
    counts: Counter = Counter()
    for key, count in db.execute(query):
        counts[labels.get(key, key)] += count
    return [(label, float(count)) for label, count in counts.items()]


def by_source(db: Session, start: date, end: date, team_id: int | None):
    return _grouped(db, NonConformity.source, NC_SOURCES, start, end, team_id)


def by_severity(db: Session, start: date, end: date, team_id: int | None):
    return _grouped(db, NonConformity.severity, NC_SEVERITIES, start, end, team_id)


ORIGINS = [
    Origin("qse_nonconformity", "Non-conformité", resolve_nonconformity, owner=activity_itself),
    Origin("qse_finding", "Constat d'audit", resolve_finding, owner=finding_audit),
]
PARETO_SOURCES = [
    ParetoSource("qse_nonconformities_by_source", "Non-conformités par source de détection", by_source),
    ParetoSource("qse_nonconformities_by_severity", "Non-conformités par gravité", by_severity),
]
