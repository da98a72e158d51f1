"""What other modules may use from stock: the one door into the store (issue 13).

Maintenance takes spare parts from the store and proposes purchases on a shortage, QSE counts the
waste the collection rounds bring back and quarantines suspect lots, both read master-data tables
and print QR codes. They call these functions and read the attributes of what they answer; they
never import stock's models or its private functions. The ledger stays the only writer of moves."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from modules.stock import ledger, picking, replenishment
from modules.stock.labels import qr_svg
from modules.stock.inputs import read_table
from modules.stock.models import Balance, CollectionLine, Item, Location, Lot, Move, PurchaseProposal, Reception
from modules.stock.reception import QUARANTINE_BY_DEFAULT, anomaly_label, quarantine_location
from shopfloor import clock
from shopfloor.auth.models import User

__all__ = [
    "QUARANTINE_BY_DEFAULT", "anomaly_label", "find_item", "find_location", "find_lots",
    "pick_to_destination", "propose_purchase", "qr_svg", "quarantine_lots", "quarantined_qty", "read_table",
    "reception", "reception_by_delivery_note", "waste_by_item",
]


# -- master data ---------------------------------------------------------------------------

def find_item(db: Session, sku: str) -> Item | None:
    """The item with this SKU (as typed, exact), or None."""
    return db.scalar(select(Item).where(Item.sku == sku))


def find_location(db: Session, code: str) -> Location | None:
    """The location with this code (as typed, exact), or None."""
    return db.scalar(select(Location).where(Location.code == code))


def find_lots(db: Session, number: str, sku: str = "", limit: int = 2) -> list[Lot]:
    """Lots with this number (of the item with this SKU when given), at most `limit`."""
    query = select(Lot).join(Item, Item.id == Lot.item_id).where(Lot.number == number)
    if sku:
        query = query.where(Item.sku == sku)
    return list(db.scalars(query.limit(limit)))


# -- receptions ----------------------------------------------------------------------------

def reception(db: Session, reception_id: int) -> Reception | None:
    return db.get(Reception, reception_id)


def reception_by_delivery_note(db: Session, delivery_note: str) -> Reception | None:
    """The latest reception of this delivery note (what a scanner reads on the BL)."""
    return db.scalar(select(Reception).where(Reception.delivery_note == delivery_note)
                     .order_by(Reception.id.desc()).limit(1))


# -- spare parts and purchases -------------------------------------------------------------

def pick_to_destination(db: Session, actor: User, item: Item, qty: Decimal, destination: Location, now: datetime,
                        title: str):
    """Reserve `qty` of `item` for `destination` and confirm the pick at once (parts taken for a work
    order). A shortage is a Conflict and reserves nothing. Answers the confirmed pick list."""
    pick = picking.allocate(db, actor, requests=[(item, qty)], destination=destination, now=now, title=title)
    return picking.confirm_all(db, actor, pick, now)


def propose_purchase(db: Session, item: Item, qty: Decimal, now: datetime) -> PurchaseProposal:
    """The open purchase proposal of `item` (one per item: the unique index), made for at least `qty`
    when there is none yet: the same row the replenishment job writes."""
    existing = db.scalar(select(PurchaseProposal).where(PurchaseProposal.item_id == item.id,
                                                        PurchaseProposal.status == "open"))
    if existing is not None:
        return existing
    position = replenishment.stock_positions(db, [item.id])[item.id]
    point = replenishment.reorder_point(item, None) or Decimal(0)
    proposal = PurchaseProposal(item_id=item.id, status="open", position_qty=position, reorder_point=point,
                                suggested_qty=max(qty - position, qty), created_at=now)
    db.add(proposal)
    db.flush()
    return proposal


# -- quarantine (containment of a non-conformity) ----------------------------------------------

def quarantined_qty(db: Session, lot_ids: list[int]) -> dict[int, Decimal]:
    """Quantity of each lot held in quarantine locations."""
    if not lot_ids:
        return {}
    rows = db.execute(select(Balance.lot_id, func.sum(Balance.qty)).join(Location, Location.id == Balance.location_id)
                      .where(Balance.lot_id.in_(lot_ids), Location.kind == "quarantine").group_by(Balance.lot_id))
    return {lot_id: Decimal(qty).normalize() for lot_id, qty in rows}


def quarantine_lots(db: Session, actor: User, lots: list[Lot], now: datetime, *, kinds: tuple[str, ...],
                    activity_id: int | None, note: str) -> dict[int, tuple[Decimal, Decimal]]:
    """Move the free stock of `lots` found in locations of `kinds` to quarantine, through the ledger
    (items locked in id order first). Reserved stock is not moved. {lot_id: (moved, reserved left)}."""
    if not lots:
        return {}
    target = quarantine_location(db)
    ledger.lock_items(db, [lot.item_id for lot in lots])
    done: dict[int, tuple[Decimal, Decimal]] = {}
    for lot in lots:
        item = ledger.lock_item(db, lot.item_id)
        rows = db.scalars(select(Balance).join(Location, Location.id == Balance.location_id)
                          .where(Balance.lot_id == lot.id, Location.kind.in_(kinds), Balance.qty > 0)
                          .order_by(Location.code).execution_options(populate_existing=True)).all()
        moved = reserved = Decimal(0)
        for row in rows:
            reserved += row.reserved
            free = row.qty - row.reserved
            if free > 0:
                ledger.move(db, item=item, lot=lot, qty=free, source=row.location, target=target,
                            reason="quarantine", user=actor, at=now, activity_id=activity_id, note=note)
                moved += free
        done[lot.id] = (moved, reserved)
    return done


# -- collection rounds -------------------------------------------------------------------------

def waste_by_item(db: Session, start: date, end: date) -> list[tuple[str, float]]:
    """Waste brought back by the collection rounds over the Paris days start..end, by item:
    [("name (unit)", qty)], largest first."""
    first, after = clock.days_bounds(start, end)
    total = func.sum(CollectionLine.qty)
    rows = db.execute(select(Item.name, Item.unit, total)
                      .join(Item, Item.id == CollectionLine.item_id).join(Move, Move.id == CollectionLine.move_id)
                      .where(CollectionLine.kind == "waste", Move.at >= first, Move.at < after)
                      .group_by(Item.name, Item.unit).order_by(total.desc()))
    return [(f"{name} ({unit})", float(qty)) for name, unit, qty in rows]
