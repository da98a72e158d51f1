"""What the stores contribute to the AIC boards. Keys are a contract with dashboards/.

compute(db, day, team_id) → float, or None when there is no data for that day. Days are Paris
calendar days. Stock quantities (value, expired, stockouts) belong to the store, not to a team:
they ignore team_id. Indicators about work done (counts, receptions, pick lists) keep the
activities of that team when a team is given.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, aliased

from shopfloor.registry import Indicator
from shopfloor import clock
from modules.stock.models import (
    Balance, Count, CountLine, Item, Location, Lot, Move, PickList, ProgrammeLine, Reception, ReceptionLine)
from modules.stock.replenishment import DEMAND_REASONS, STOCK_KINDS

ACCURACY_COUNTS = 5        # inventory accuracy: the last five validated counts
COVERAGE_WINDOW_DAYS = 30  # average daily consumption over the last 30 days


def _net_after(db: Session, end: datetime, kinds, *, value: bool, where=()) -> Decimal:
    """Net quantity (or value) that entered locations of `kinds` after `end`: what to take off today's
    balances to know them at `end`."""
    source, target = aliased(Location), aliased(Location)
    sign = (case((target.kind.in_(kinds), Move.qty), else_=0) - case((source.kind.in_(kinds), Move.qty), else_=0))
    amount = sign * Item.unit_cost if value else sign
    query = (select(func.coalesce(func.sum(amount), 0)).select_from(Move).join(Item, Item.id == Move.item_id)
             .outerjoin(source, source.id == Move.from_location_id).outerjoin(target, target.id == Move.to_location_id)
             .where(Move.at >= end, *where))
    return Decimal(db.scalar(query) or 0)


def stock_value_at(db: Session, end: datetime, *, where_balance=(), where_move=()) -> Decimal:
    current = db.scalar(select(func.coalesce(func.sum(Balance.qty * Item.unit_cost), 0))
                        .join(Item, Item.id == Balance.item_id).join(Location, Location.id == Balance.location_id)
                        .where(Location.kind.in_(STOCK_KINDS), *where_balance))
    return Decimal(current or 0) - _net_after(db, end, STOCK_KINDS, value=True, where=where_move)


def _has_items(db: Session) -> bool:
    return db.scalar(select(Item.id).limit(1)) is not None


# -- The indicators ---------------------------------------------------------------

def stock_value(db: Session, day: date, team_id: int | None) -> float | None:
    if not _has_items(db):
        return None
    return round(float(stock_value_at(db, clock.day_bounds(day)[1])), 2)


def demand_value(db: Session, start: datetime, end: datetime) -> Decimal:
    source = aliased(Location)
    return Decimal(db.scalar(
        select(func.coalesce(func.sum(Move.qty * Item.unit_cost), 0)).join(Item, Item.id == Move.item_id)
        .join(source, source.id == Move.from_location_id)
        .where(source.kind == "storage", Move.reason.in_(DEMAND_REASONS), Move.at >= start, Move.at < end)) or 0)


def coverage_days(db: Session, day: date, team_id: int | None) -> float | None:
    """Stock value ÷ average daily consumption value over the last 30 days."""
    end = clock.day_bounds(day)[1]
    daily = demand_value(db, end - timedelta(days=COVERAGE_WINDOW_DAYS), end) / COVERAGE_WINDOW_DAYS
    if daily <= 0:
        return None
    return round(float(stock_value_at(db, end) / daily), 1)


def expired_value(db: Session, day: date, team_id: int | None) -> float | None:
    """Value of the stock in lots past their expiry on that day (waiting for disposal)."""
    if not _has_items(db):
        return None
    expired_lots = select(Lot.id).where(Lot.expiry < day)
    value = stock_value_at(db, clock.day_bounds(day)[1], where_balance=(Balance.lot_id.in_(expired_lots),),
                           where_move=(Move.lot_id.in_(expired_lots),))
    return round(float(value), 2)


def stockouts(db: Session, day: date, team_id: int | None) -> float | None:
    """Items needed that day (programme lines or demand moves) with no free stock left in storage."""
    if not _has_items(db):
        return None
    start, end = clock.day_bounds(day)
    source = aliased(Location)
    needed = set(db.scalars(select(ProgrammeLine.item_id).where(ProgrammeLine.needed_at >= start,
                                                                ProgrammeLine.needed_at < end)))
    needed |= set(db.scalars(select(Move.item_id).join(source, source.id == Move.from_location_id)
                             .where(source.kind == "storage", Move.reason.in_(DEMAND_REASONS),
                                    Move.at >= start, Move.at < end)))
    if not needed:
        return 0.0
    storage = ("storage",)
    free_now = dict(db.execute(
        select(Balance.item_id, func.sum(Balance.qty - Balance.reserved)).join(Location, Location.id == Balance.location_id)
        .where(Location.kind.in_(storage), Balance.item_id.in_(needed)).group_by(Balance.item_id)).all())
    out = 0
    for item_id in needed:
        at_end = Decimal(free_now.get(item_id) or 0) - _net_after(db, end, storage, value=False,
                                                                   where=(Move.item_id == item_id,))
        out += at_end <= 0
    return float(out)


def inventory_accuracy(db: Session, day: date, team_id: int | None) -> float | None:
    """Share of lines without difference over the last validated counts up to that day (line-weighted)."""
    end = clock.day_bounds(day)[1]
    query = (select(Count.id, Count.accuracy_pct, func.count(CountLine.id)).join(CountLine, CountLine.count_id == Count.id)
             .where(Count.status == "validated", Count.validated_at < end).group_by(Count.id, Count.accuracy_pct,
                                                                                  Count.validated_at)
             .order_by(Count.validated_at.desc()).limit(ACCURACY_COUNTS))
    if team_id is not None:
        query = query.where(Count.team_id == team_id)
    rows = db.execute(query).all()
    lines = sum(n for _, _, n in rows)
    if not lines:
        return None
    return round(float(sum(Decimal(pct) * n for _, pct, n in rows) / lines), 1)


def nonconforming_receptions(db: Session, day: date, team_id: int | None) -> float | None:
    """Share of reception lines received that day that were not conforming."""
    start, end = clock.day_bounds(day)
    query = (select(func.count(ReceptionLine.id), func.sum(case((ReceptionLine.conforming.is_(False), 1), else_=0)))
             .join(Reception, Reception.id == ReceptionLine.reception_id)
             .where(Reception.performed_at >= start, Reception.performed_at < end))
    if team_id is not None:
        query = query.where(Reception.team_id == team_id)
    total, bad = db.execute(query).one()
    if not total:
        return None
    return round(100.0 * (bad or 0) / total, 1)


def line_supply_on_time(db: Session, day: date, team_id: int | None) -> float | None:
    """Share of the pick lists needed at the line that day that were confirmed before they were needed."""
    start, end = clock.day_bounds(day)
    on_time = and_(PickList.status == "confirmed", PickList.confirmed_at <= PickList.needed_at)
    query = (select(func.count(PickList.id), func.sum(case((on_time, 1), else_=0)))
             .where(PickList.needed_at >= start, PickList.needed_at < end, PickList.status != "cancelled"))
    if team_id is not None:
        query = query.where(PickList.team_id == team_id)
    total, good = db.execute(query).one()
    if not total:
        return None
    return round(100.0 * (good or 0) / total, 1)


INDICATORS = [
    Indicator("stock.stockouts", "Ruptures", "D", "ruptures", False, stockouts),
    Indicator("stock.inventory_accuracy", "Exactitude des stocks", "Q", "%", True, inventory_accuracy),
    Indicator("stock.nonconforming_receptions", "Réceptions non conformes", "Q", "%", False, nonconforming_receptions),
    Indicator("stock.line_supply_on_time", "Approvisionnement des lignes à l'heure", "D", "%", True,
              line_supply_on_time),
    Indicator("stock.value", "Valeur du stock", "C", "€", False, stock_value),
    Indicator("stock.coverage_days", "Couverture du stock", "C", "j", False, coverage_days),
    Indicator("stock.expired", "Stock périmé", "Q", "€", False, expired_value),
]
