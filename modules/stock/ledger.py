"""The only writer of moves and balances: each move updates both in the same transaction.

Concurrency: every function that reads stock to decide something first calls `lock_item`.
On PostgreSQL that is a row lock on the item (SELECT … FOR UPDATE), so two pickers of one
item queue up and the second reads what the first committed. On SQLite a writing request
already holds the database write lock from BEGIN (see shopfloor.db). Balances are then
re-read with populate_existing so a stale identity map never decides.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.auth.models import User
from shopfloor.errors import Conflict, ValidationError
from modules.stock.models import Balance, Item, Location, Lot, Move
from modules.stock.quantities import check_qty


def lock_item(db: Session, item_id: int) -> Item:
    item = db.execute(select(Item).where(Item.id == item_id).with_for_update().execution_options(
        populate_existing=True)).scalar_one()
    return item


def lock_items(db: Session, item_ids) -> dict[int, Item]:
    """Lock several items in id order, so two actions locking the same items never deadlock."""
    return {item_id: lock_item(db, item_id) for item_id in sorted(set(item_ids))}


def balances(db: Session, item_id: int, *, location_id: int | None = None) -> list[Balance]:
    """Fresh balances of an item (after lock_item when the answer decides a write)."""
    query = select(Balance).where(Balance.item_id == item_id).execution_options(populate_existing=True)
    if location_id is not None:
        query = query.where(Balance.location_id == location_id)
    return list(db.scalars(query))


def balance(db: Session, item_id: int, lot_id: int, location_id: int, *, create: bool = False) -> Balance | None:
    row = db.scalars(select(Balance).where(Balance.item_id == item_id, Balance.lot_id == lot_id,
                                           Balance.location_id == location_id)
                     .execution_options(populate_existing=True)).one_or_none()
    if row is None and create:
        row = Balance(item_id=item_id, lot_id=lot_id, location_id=location_id, qty=Decimal(0), reserved=Decimal(0))
        db.add(row)
    return row


def move(db: Session, *, item: Item, lot: Lot, qty: Decimal, source: Location | None, target: Location | None,
         reason: str, user: User, at: datetime, activity_id: int | None = None, note: str = "",
         from_reserved: Decimal = Decimal(0)) -> Move:
    """Post one move. `source` None is an entry (reception, positive adjustment); `target` None
    is an exit (shipment, consumption, negative adjustment). `from_reserved` is the part of qty
    that was reserved at the source (a pick being confirmed) and is released with it.
    Refuses to take more than the free (or reserved, for a confirmation) quantity."""
    qty = check_qty(item, Decimal(qty))  # within what the item's unit allows, three decimals
    if qty <= 0:
        raise ValidationError("La quantité doit être positive.", "qty")
    if source is None and target is None:
        raise ValidationError("Un mouvement a une origine, une destination ou les deux.", "location")
    if lot.item_id != item.id:
        raise ValidationError(f"Le lot {lot.number} n'est pas un lot de {item.sku}.", "lot")
    if source is not None:
        row = balance(db, item.id, lot.id, source.id)
        free = (row.qty - row.reserved) if row else Decimal(0)
        if row is None or qty - from_reserved > free or from_reserved > row.reserved:
            raise Conflict(f"Stock insuffisant de {item.sku} lot {lot.number} en {source.code} : "
                           f"{free.normalize() if row else 0} disponible(s), {qty.normalize()} demandé(s).", "qty")
        row.qty -= qty
        row.reserved -= from_reserved
    if target is not None:
        row = balance(db, item.id, lot.id, target.id, create=True)
        row.qty += qty
    entry = Move(item_id=item.id, lot_id=lot.id, from_location_id=source.id if source else None,
                 to_location_id=target.id if target else None, qty=qty, reason=reason, note=note,
                 activity_id=activity_id, user_id=user.id, at=at)
    db.add(entry)
    db.flush()
    return entry


def reserve(db: Session, row: Balance, qty: Decimal) -> None:
    if qty <= 0 or qty > row.qty - row.reserved:
        raise Conflict(f"Plus que {(row.qty - row.reserved).normalize()} de libre en {row.location.code}.", "qty")
    row.reserved += qty


def release(db: Session, row: Balance, qty: Decimal) -> None:
    row.reserved = max(Decimal(0), row.reserved - qty)


def balance_rows(db: Session, *, item_id: int | None = None, location_id: int | None = None,
                 limit: int = 1000) -> list[dict]:
    """Stock on hand (qty > 0) as plain rows, in lot order then location: one indexed query, no ORM objects."""
    query = (select(Item.sku, Lot.number.label("lot"), Lot.expiry, Location.code.label("location"),
                    Location.kind, Balance.qty, Balance.reserved, Balance.id)
             .select_from(Balance).join(Item, Item.id == Balance.item_id).join(Lot, Lot.id == Balance.lot_id)
             .join(Location, Location.id == Balance.location_id).where(Balance.qty > 0)
             .order_by(Item.sku, Lot.expiry.is_(None), Lot.expiry, Lot.received_at, Lot.id, Location.code).limit(limit))
    if item_id is not None:
        query = query.where(Balance.item_id == item_id)
    if location_id is not None:
        query = query.where(Balance.location_id == location_id)
    return [dict(row._mapping) for row in db.execute(query)]
