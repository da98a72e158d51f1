"""What the stock module gives the improvement module: receptions as the origin of a problem sheet (which then
proposes LOG-6) and Pareto sources of reception anomalies."""
from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from modules.stock.models import ANOMALY_KINDS, Reception, ReceptionAnomaly, Supplier
from shopfloor import clock
from shopfloor.origins import activity_itself
from shopfloor.registry import Origin, ParetoSource
from shopfloor.urls import link


def resolve_reception(db: Session, record_id: int) -> tuple[str, str] | None:
    reception = db.get(Reception, record_id)
    if reception is None:
        return None
    return (f"Réception {reception.delivery_note} – {reception.supplier.name}",
            link("stock.reception", reception_id=reception.id))


def _anomalies(db: Session, column, start: date, end: date, team_id: int | None):
    first, after = clock.days_bounds(start, end)
    query = (select(column, func.count(ReceptionAnomaly.id)).select_from(ReceptionAnomaly)
             .join(Reception, Reception.id == ReceptionAnomaly.reception_id)
             .where(Reception.performed_at >= first, Reception.performed_at < after)
             .group_by(column))
    if column is Supplier.name:
        query = query.join(Supplier, Supplier.id == Reception.supplier_id)
    if team_id is not None:
        query = query.where(Reception.team_id == team_id)
    return db.execute(query).all()


def anomalies_by_supplier(db: Session, start: date, end: date, team_id: int | None) -> list[tuple[str, float]]:
    return [(name, float(count)) for name, count in _anomalies(db, Supplier.name, start, end, team_id)]


def anomalies_by_kind(db: Session, start: date, end: date, team_id: int | None) -> list[tuple[str, float]]:
    counts: Counter = Counter()
    for kind, count in _anomalies(db, ReceptionAnomaly.kind, start, end, team_id):
        counts[ANOMALY_KINDS.get(kind, kind)] += count
    return [(label, float(count)) for label, count in counts.items()]


ORIGINS = [Origin("stock_reception", "Réception", resolve_reception, owner=activity_itself)]
PARETO_SOURCES = [
    ParetoSource("stock_anomalies_by_supplier", "Anomalies de réception par fournisseur", anomalies_by_supplier),
    ParetoSource("stock_anomalies_by_kind", "Anomalies de réception par nature", anomalies_by_kind),
]
