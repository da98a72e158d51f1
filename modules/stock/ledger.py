"""The only writer of moves and balances: each move updates both in the same transaction.

Concurrency: every function that reads stock to decide something first calls `lock_item`.
On PostgreSQL that is a row lock on the item (SELECT … FOR UPDATE), so two pickers of one
item queue up and the second reads what the first committed. On SQLite a writing request
already holds the database write lock from BEGIN (see shopfloor.db). Balances are then
re-read with populate_existing so a stale identity map never decides.

The set-based functions (lock_item_rows, reserve_balances, release_balances, post_pick_moves) do the
same work on plain rows, one statement per step: the picking hot path (issue 19). Their UPDATEs are
guarded in SQL (`reserved + qty <= qty`, `reserved >= qty`), so the database itself refuses an oversell
whatever a caller read before; a refused UPDATE is the same Conflict as the ORM path's. They write
balances and moves only (no activity, nor a row an activity owns), so the flush guards of
shopfloor.guards have nothing of theirs to see: the callers keep their activity's change in the ORM
flush, where those guards run. Loaded ORM copies of the balances they change are expired.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import bindparam, case, insert, inspect, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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


# -- Set-based, on plain rows ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ItemRow:
    """What allocation and confirmation read of an item, without an ORM object."""
    id: int
    sku: str
    name: str
    unit: str
    strategy: str
    lot_tracked: bool
    removal_margin_days: int


ITEM_COLUMNS = (Item.id, Item.sku, Item.name, Item.unit, Item.strategy, Item.lot_tracked, Item.removal_margin_days)
LOCK_ITEMS = (select(*ITEM_COLUMNS).where(Item.id.in_(bindparam("ids", expanding=True))).order_by(Item.id)
              .with_for_update(of=Item.__table__))


def core(db: Session, statement, params=None):
    """A Core statement on the session's connection and transaction, without the ORM's execution layer:
    SELECTs of plain rows, INSERTs, and UPDATEs of balances (shopfloor.evidence.freeze's bulk-statement
    guard watches UPDATE/DELETE of activities and of the rows they own: those go through db.execute).
    What the session has pending is flushed first, as autoflush would."""
    if db.new or db.dirty or db.deleted:
        db.flush()
    return db.connection().execute(statement, params)


def _held_locks(db: Session) -> dict[int, ItemRow]:
    """Item rows read under their lock in the session's current transaction (a lock lasts until it ends;
    a savepoint rolled back releases the locks taken inside it, so the innermost transaction is the key)."""
    key = db.get_nested_transaction() or db.get_transaction()
    held = db.info.get("stock_item_locks")
    if held is None or held[0] is not key:
        held = (key, {})
        db.info["stock_item_locks"] = held
    return held[1]


def remember_locked(db: Session, rows) -> dict[int, ItemRow]:
    """Record item rows that a statement read FOR UPDATE: the lock holds, the row stays fresh."""
    held = _held_locks(db)
    for row in rows:
        item = row if isinstance(row, ItemRow) else ItemRow(*row)
        held[item.id] = item
    return held


def lock_item_rows(db: Session, item_ids) -> dict[int, ItemRow]:
    """lock_items in one statement, as rows: the items locked in id order and read under the lock.
    An item this transaction already locked is neither locked nor read again (the lock keeps it fresh)."""
    wanted = sorted(set(item_ids))
    held = _held_locks(db)
    missing = [item_id for item_id in wanted if item_id not in held]
    if missing:
        rows = core(db, LOCK_ITEMS, {"ids": missing}).all()
        held = remember_locked(db, rows)
    return {item_id: held[item_id] for item_id in wanted if item_id in held}


@dataclass(frozen=True, slots=True)
class Reservation:
    balance_id: int
    qty: Decimal
    free: Decimal          # as the candidates query read it, for the refusal's message
    location_code: str


BALANCE = Balance.__table__
RESERVE = (update(BALANCE).where(BALANCE.c.id == bindparam("balance_id"),
                                 BALANCE.c.reserved + bindparam("take") <= BALANCE.c.qty)
           .values(reserved=BALANCE.c.reserved + bindparam("take")))  # built once


def reserve_balances(db: Session, parts: list[Reservation]) -> None:
    """reserve() for several balances: one UPDATE each, refused by the database beyond the free stock."""
    for part in parts:
        if part.qty <= 0:
            raise Conflict(f"Plus que {part.free.normalize()} de libre en {part.location_code}.", "qty")
        done = core(db, RESERVE, {"balance_id": part.balance_id, "take": part.qty})
        if done.rowcount != 1:
            raise Conflict(f"Plus que {part.free.normalize()} de libre en {part.location_code}.", "qty")
    _forget(db, Balance, [part.balance_id for part in parts])


_KEY = (BALANCE.c.item_id == bindparam("of_item"), BALANCE.c.lot_id == bindparam("of_lot"),
        BALANCE.c.location_id == bindparam("at_location"))
RELEASE = (update(BALANCE).where(*_KEY).values(
    reserved=case((BALANCE.c.reserved > bindparam("give"), BALANCE.c.reserved - bindparam("give")), else_=0)))
TAKE_RESERVED = (update(BALANCE).where(*_KEY, BALANCE.c.reserved >= bindparam("take"), BALANCE.c.qty >= bindparam("take"))
                 .values(qty=BALANCE.c.qty - bindparam("take"), reserved=BALANCE.c.reserved - bindparam("take")))
FREE = select(BALANCE.c.qty - BALANCE.c.reserved).where(*_KEY)


def release_balances(db: Session, parts: list[tuple[int, int, int, Decimal]]) -> None:
    """release() for several (item, lot, location, qty): one UPDATE each, never below nothing reserved."""
    for item_id, lot_id, location_id, qty in parts:
        core(db, RELEASE, {"of_item": item_id, "of_lot": lot_id, "at_location": location_id, "give": qty})
    _forget_balances(db, [(item_id, lot_id, location_id) for item_id, lot_id, location_id, _ in parts])


@dataclass(frozen=True, slots=True)
class ReservedMove:
    """A reserved quantity moving from its storage balance to a destination (a pick being confirmed)."""
    item: ItemRow
    lot_id: int
    lot_number: str
    source_id: int
    source_code: str
    target_id: int
    qty: Decimal


def post_pick_moves(db: Session, moves: list[ReservedMove], *, user_id: int, at: datetime,
                    activity_id: int | None) -> None:
    """move(..., from_reserved=qty) for several moves: one guarded UPDATE per source balance, one upsert
    of the target balances, one multi-row INSERT of the moves."""
    if not moves:
        return
    for entry in moves:
        check_qty(entry.item, entry.qty)
        if entry.qty <= 0:
            raise ValidationError("La quantité doit être positive.", "qty")
    for entry in moves:
        _take_reserved(db, entry)
    _add_to_targets(db, moves)
    core(db, insert(Move.__table__).values([
        {"item_id": m.item.id, "lot_id": m.lot_id, "from_location_id": m.source_id, "to_location_id": m.target_id,
         "qty": m.qty, "reason": "pick", "note": "", "activity_id": activity_id, "user_id": user_id, "at": at}
        for m in moves]))
    _forget_balances(db, [(m.item.id, m.lot_id, loc) for m in moves for loc in (m.source_id, m.target_id)])


def _take_reserved(db: Session, entry: ReservedMove) -> None:
    key = {"of_item": entry.item.id, "of_lot": entry.lot_id, "at_location": entry.source_id}
    done = core(db, TAKE_RESERVED, {**key, "take": entry.qty})
    if done.rowcount != 1:
        row = core(db, FREE, key).first()
        free = row[0].normalize() if row else 0
        raise Conflict(f"Stock insuffisant de {entry.item.sku} lot {entry.lot_number} en {entry.source_code} : "
                       f"{free} disponible(s), {entry.qty.normalize()} demandé(s).", "qty")


def _add_to_targets(db: Session, moves: list[ReservedMove]) -> None:
    """One upsert of the target balances (one row per item, lot and target: a statement may not touch a row twice)."""
    added: dict[tuple[int, int, int], Decimal] = {}
    for m in moves:
        key = (m.item.id, m.lot_id, m.target_id)
        added[key] = added.get(key, Decimal(0)) + m.qty
    dialect_insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = dialect_insert(Balance.__table__).values(
        [{"item_id": i, "lot_id": lot, "location_id": loc, "qty": qty, "reserved": 0}
         for (i, lot, loc), qty in added.items()])
    core(db, statement.on_conflict_do_update(
        index_elements=["item_id", "lot_id", "location_id"],
        set_={"qty": Balance.__table__.c.qty + statement.excluded.qty}))


def _forget(db: Session, model, ids) -> None:
    """Expire the loaded ORM copies of rows a Core statement changed, so no stale value decides or flushes."""
    for ident in ids:
        obj = db.identity_map.get(db.identity_key(model, ident))
        if obj is not None:
            db.expire(obj)


def _forget_balances(db: Session, keys) -> None:
    wanted = set(keys)
    for obj in list(db.identity_map.values()):
        if isinstance(obj, Balance):
            loaded = inspect(obj).dict  # not the attributes: reading an expired one would load it
            if (loaded.get("item_id"), loaded.get("lot_id"), loaded.get("location_id")) in wanted:
                db.expire(obj)


# -- One row at a time, on ORM objects -----------------------------------------------------

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
