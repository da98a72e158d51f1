"""Picking for the line: allocation by the item's strategy, scan confirmation, cancellation,
the production programme and the line calls that pick lists serve.

Rules (issue #4 §5):
- FEFO: earliest expiry, then earliest received, then lowest lot id; lots without expiry after those with one.
- FIFO: earliest received, then lowest lot id. LIFO: latest received first (then highest lot id).
- Only free stock (qty - reserved) in active *storage* locations is picked: never reception, quarantine,
  line-side, shipping, scrap or waste stock.
- A lot is never picked when expired (expiry before today) or when its remaining shelf life in days is
  under the item's removal margin; such lots are flagged for disposal.
- Allocation is all or nothing: a shortage on any item is a 409 naming it and what is available.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.orm import Session, joinedload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from shopfloor import access
from shopfloor import bounds
from shopfloor import clock
from shopfloor.auth.models import User
from shopfloor.auth.services import can_see_apprentice
from shopfloor.db import lock, lock_by_id
from shopfloor.errors import Conflict, ValidationError
from shopfloor.evidence.activities import new_activity
from shopfloor.evidence.freeze import exclude_frozen
from shopfloor.evidence.models import Activity
from shopfloor.evidence.services import ensure_editable
from modules.stock import flags, ledger
from modules.stock.ledger import ItemRow, Reservation, ReservedMove
from modules.stock.lookup import item_by_sku, location_by_code
from modules.stock.models import Balance, Item, LineCall, Location, Lot, PickLine, PickList, ProgrammeLine

PICKABLE_KINDS = ("storage",)
DESTINATION_KINDS = ("line", "shipping")
ACTIVITY = Activity.__table__
PICK_LIST = PickList.__table__
PICK_LINE = PickLine.__table__


@dataclass(frozen=True, slots=True)
class LotRef:
    number: str
    expiry: date | None


@dataclass(frozen=True, slots=True)
class LocationRef:
    code: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """A balance with free stock in a pickable location, as the candidates query reads it (no ORM object);
    `usable` is the query's verdict on the lot's expiry against the item's removal margin."""
    id: int
    item_id: int
    sku: str
    lot_id: int
    location_id: int
    qty: Decimal
    reserved: Decimal
    usable: bool
    lot: LotRef
    location: LocationRef

    @property
    def free(self) -> Decimal:
        return self.qty - self.reserved


@dataclass
class Allocation:
    balance: Candidate
    qty: Decimal


@dataclass
class Flagged:
    balance: Candidate
    reason: str


@dataclass(frozen=True, slots=True)
class PlannedLine:
    """A pick line as allocation inserted it: what the answer reads of a PickLine, without reloading it."""
    rank: int
    item: ItemRow
    lot: LotRef
    location: LocationRef
    qty: Decimal
    picked_at: datetime | None = None


@dataclass
class Allocated:
    pick: PickList
    destination_code: str
    lines: list[PlannedLine]
    flagged: list[Flagged] = field(default_factory=list)


def fmt(qty: Decimal) -> str:
    return f"{Decimal(qty).normalize():f}"


ORDERS = {"fefo": (Lot.expiry.is_(None), Lot.expiry, Lot.received_at, Lot.id, Location.code),
          "lifo": (Lot.received_at.desc(), Lot.id.desc(), Location.code),
          "fifo": (Lot.received_at, Lot.id, Location.code)}


def _order(item):
    return ORDERS.get(item.strategy, ORDERS["fifo"])


def _candidates_query(order):
    usable = or_(Lot.expiry.is_(None), Lot.expiry >= bindparam("first_usable_expiry"))
    return (select(Balance.id, Balance.lot_id, Balance.location_id, Balance.qty, Balance.reserved,
                   usable.label("usable"), Lot.number, Lot.expiry, Location.code)
            .join(Lot, Lot.id == Balance.lot_id).join(Location, Location.id == Balance.location_id)
            .where(Balance.item_id == bindparam("item_id"), Balance.qty > Balance.reserved,
                   Location.kind.in_(PICKABLE_KINDS), Location.active.is_(True))
            .order_by(*order))


CANDIDATES = {strategy: _candidates_query(order) for strategy, order in ORDERS.items()}  # built once


def _first_usable_expiry(item, today: date) -> date:
    """A lot expiring before this day is refused: expired, or under the item's removal margin."""
    return today + timedelta(days=max(item.removal_margin_days or 0, 0))


def candidates(db: Session, item, today: date) -> tuple[list[Candidate], list[Flagged]]:
    """Free storage stock of the item in strategy order, and the lots refused for their expiry: one query,
    the order, the exclusions and the margin in SQL (`item`: an Item or a locked ItemRow)."""
    rows = ledger.core(db, CANDIDATES.get(item.strategy, CANDIDATES["fifo"]),
                       {"item_id": item.id, "first_usable_expiry": _first_usable_expiry(item, today)}).all()
    found, flagged = [], []
    for row_id, lot_id, location_id, qty, reserved, ok, number, expiry, code in rows:
        row = Candidate(row_id, item.id, item.sku, lot_id, location_id, qty, reserved, bool(ok),
                        LotRef(number, expiry), LocationRef(code))
        (found.append(row) if row.usable else flagged.append(Flagged(row, expiry_problem(item, row.lot, today))))
    return found, flagged


def expiry_problem(item, lot, today: date) -> str | None:
    if lot.expiry is None:
        return None
    remaining = (lot.expiry - today).days
    if remaining < 0:
        return f"périmé depuis le {lot.expiry:%d/%m/%Y}"
    if remaining < item.removal_margin_days:
        return (f"péremption le {lot.expiry:%d/%m/%Y} : {remaining} j restants, "
                f"sous la marge de retrait de {item.removal_margin_days} j")
    return None


def plan(db: Session, item, qty: Decimal, today: date) -> tuple[list[Allocation], list[Flagged], Decimal]:
    """How `qty` would be taken (without reserving), what was refused, and the total free usable stock."""
    usable, flagged = candidates(db, item, today)
    taken, left = [], qty
    for row in usable:
        if left <= 0:
            break
        part = min(left, row.free)
        taken.append(Allocation(row, part))
        left -= part
    available = sum((row.free for row in usable), Decimal(0))
    return taken, flagged, available


def _destination(location):
    if location.kind not in DESTINATION_KINDS:
        raise ValidationError(f"{location.code} n'est pas un emplacement bord de ligne (ni d'expédition).", "destination")
    return location


def _wanted(requests) -> dict[int, Decimal]:
    wanted: dict[int, Decimal] = {}
    for item, qty in requests:
        if qty is None or Decimal(qty) <= 0:
            raise ValidationError("La quantité doit être strictement positive.", "qty")
        wanted[item.id] = wanted.get(item.id, Decimal(0)) + Decimal(qty)
    if not wanted:
        raise ValidationError("Aucun article à prélever.", "sku")
    return wanted


def allocate(db: Session, actor: User, *, requests: list[tuple[Item, Decimal]], destination: Location,
             now: datetime, needed_at: datetime | None = None, title: str | None = None) -> PickList:
    """Reserve stock for a pick list, all or nothing; lines split across lots and locations."""
    return allocate_pick(db, actor, requests=requests, destination=destination, now=now, needed_at=needed_at,
                         title=title).pick


def allocate_pick(db: Session, actor: User, *, requests, destination, now: datetime,
                  needed_at: datetime | None = None, title: str | None = None) -> Allocated:
    """allocate(), answering the lines it inserted and the lots it refused as well (items and destination:
    ORM objects or the rows of modules.stock.lookup). Set-based: the items locked in one statement, one
    candidates query per item, one INSERT of the lines, one guarded UPDATE per balance reserved."""
    _destination(destination)
    wanted = _wanted(requests)
    items = ledger.lock_item_rows(db, wanted)
    today = clock.paris_day(now)
    plans, shortages, flagged = [], [], []
    for item_id, qty in wanted.items():
        item = items[item_id]
        taken, refused, available = plan(db, item, qty, today)
        flagged += refused
        if available < qty:
            shortages.append(f"{item.sku} ({item.name}) : {fmt(qty)} {item.unit} demandé(s), "
                             f"{fmt(available)} disponible(s)")
        plans.append((item, taken))
    if shortages:
        raise Conflict("Stock insuffisant, rien n'a été réservé — " + " ; ".join(shortages) + ".", "qty")
    pick = _insert_pick(db, new_activity(PickList, actor, now, destination_id=destination.id, needed_at=needed_at,
                                         status="allocated", title=title or _title(plans, destination)))
    lines = _insert_lines(db, pick, plans)
    flags.flag_for_disposal(db, [(r.balance.lot_id, r.balance.lot.expiry, r.reason) for r in flagged], now)
    return Allocated(pick, destination.code, lines, flagged)


NEW_ACTIVITY = insert(ACTIVITY).returning(ACTIVITY.c.id)
NEW_PICK_LIST = insert(PICK_LIST)
NEW_PICK_LINE = insert(PICK_LINE)


def _insert_pick(db: Session, pick: PickList) -> PickList:
    """The new pick list (built by new_activity: author, site, team, time) written by two INSERTs rather
    than a flush (the unit of work of an activity's many relationships was a third of an allocation), then
    attached to the session as if loaded. The bounds guard checks its values here, as at a flush; the
    freeze and cancellation guards have nothing to refuse on a new activity that has no origin."""
    bounds.check_object(pick)
    pick.id = ledger.core(db, NEW_ACTIVITY, {
        "type": pick.type, "author_id": pick.author.id, "performed_at": pick.performed_at, "site_id": pick.site_id,
        "team_id": pick.team_id, "title": pick.title}).scalar_one()
    ledger.core(db, NEW_PICK_LIST, {"id": pick.id, "destination_id": pick.destination_id, "status": pick.status,
                                   "needed_at": pick.needed_at})
    pick.author_id = pick.author.id
    make_transient_to_detached(pick)
    stale = db.identity_map.get(db.identity_key(PickList, pick.id))
    if stale is not None:  # a pick list of a rolled-back transaction that had this id (SQLite hands it out again)
        db.expunge(stale)
    db.add(pick)
    return pick


def _insert_lines(db: Session, pick: PickList, plans) -> list[PlannedLine]:
    """The reservations (guarded UPDATEs) and the pick lines (one multi-row INSERT) of a new pick list: it
    was just inserted by this transaction, so it is neither frozen nor cancelled."""
    parts = [(item, part) for item, taken in plans for part in taken]
    ledger.reserve_balances(db, [Reservation(p.balance.id, p.qty, p.balance.free, p.balance.location.code)
                                 for _, p in parts])
    rows = [{"pick_list_id": pick.id, "rank": rank, "item_id": item.id, "lot_id": p.balance.lot_id,
             "location_id": p.balance.location_id, "qty": p.qty, "released": False}
            for rank, (item, p) in enumerate(parts)]
    # one row: the cached single-row statement; several: one multi-row VALUES (compiled each time)
    ledger.core(db, NEW_PICK_LINE, rows[0]) if len(rows) == 1 else ledger.core(db, NEW_PICK_LINE.values(rows))
    return [PlannedLine(rank, item, p.balance.lot, p.balance.location, p.qty) for rank, (item, p) in enumerate(parts)]


def _title(plans, destination) -> str:
    items = ", ".join(f"{item.sku} × {fmt(sum((p.qty for p in taken), Decimal(0)))}" for item, taken in plans)
    return f"Prélèvement {items} → {destination.code}"[:200]


def flagged_lots(db: Session, item: Item, now: datetime) -> list[Flagged]:
    return candidates(db, item, clock.paris_day(now))[1]


# -- Who may act on a pick list ----------------------------------------------------------

def can_handle(actor: User, activity: Activity) -> bool:
    return actor.id == activity.author_id or can_see_apprentice(actor, activity.author)


def get_pick(db: Session, actor: User, pick_id: int) -> PickList:
    return access.visible(db, PickList, actor, pick_id, label="Liste de prélèvement")


def _open(pick: PickList) -> None:
    ensure_editable(pick)
    if pick.status != "allocated":
        raise Conflict(f"Liste de prélèvement {pick.id} déjà "
                       f"{'confirmée' if pick.status == 'confirmed' else 'annulée'}.", "id")


def _lock_open(db: Session, pick: PickList) -> None:
    """Lock the pick list and re-read it and its lines before deciding: of two confirms (or a
    confirm and a cancel) sent together, the second waits for the first, then finds its state.
    The lines come in one query with their item, lot and location (the round needs them all);
    populate_existing stays there: the lock keeps the rows fresh, not copies loaded before it."""
    lock(db, pick)
    lines = db.scalars(select(PickLine).where(PickLine.pick_list_id == pick.id).order_by(PickLine.rank)
                       .options(joinedload(PickLine.item), joinedload(PickLine.lot), joinedload(PickLine.location))
                       .execution_options(populate_existing=True)).all()
    set_committed_value(pick, "lines", list(lines))
    _open(pick)


def round_key(line) -> tuple[str, int]:
    return line.location.code, line.rank


def round_order(pick: PickList) -> list[PickLine]:
    """The lines along the storage addresses (the round), whatever their allocation order."""
    return sorted(pick.lines, key=round_key)


def next_line(pick: PickList) -> PickLine | None:
    return next((line for line in round_order(pick) if line.picked_at is None), None)


def confirm_scan(db: Session, actor: User, pick: PickList, location_code: str, code: str, now: datetime) -> PickLine:
    """Confirm one line by scanning its location then its lot (or the item for untracked items)."""
    _lock_open(db, pick)
    location = location_by_code(db, location_code, "location")
    code = (code or "").strip().upper()
    if not code:
        raise ValidationError("Scannez le lot (ou la référence pour un article non suivi en lot).", "code")
    waiting = [line for line in round_order(pick) if line.picked_at is None]
    here = [line for line in waiting if line.location_id == location.id]
    if not here:
        expected = ", ".join(sorted({line.location.code for line in waiting})) or "aucun"
        raise ValidationError(f"Rien à prélever en {location.code} pour cette liste (attendu : {expected}).", "location")
    for line in here:
        if line.lot.number.upper() == code or (line.item.sku == code and not line.item.lot_tracked):
            _pick_line(db, actor, pick, line, now)
            return line
    lots = ", ".join(line.lot.number if line.item.lot_tracked else f"{line.item.sku}" for line in here)
    raise ValidationError(f"« {code} » ne correspond pas : en {location.code}, prenez {lots}.", "code")


def confirm_all(db: Session, actor: User, pick: PickList, now: datetime) -> PickList:
    """Confirm every remaining line, set-based: the items locked in one statement (in id order), the
    moves and balances written by ledger.post_pick_moves, the lines marked in one UPDATE."""
    _lock_open(db, pick)
    waiting = [line for line in round_order(pick) if line.picked_at is None]
    items = ledger.lock_item_rows(db, [line.item_id for line in waiting])
    ledger.post_pick_moves(db, [ReservedMove(items[line.item_id], line.lot_id, line.lot.number, line.location_id,
                                             line.location.code, pick.destination_id, line.qty) for line in waiting],
                           user_id=actor.id, at=now, activity_id=pick.id)
    _mark_lines(db, pick, waiting, picked_at=now)
    _close_if_done(db, pick, now)
    db.flush()
    return pick


def _pick_line(db: Session, actor: User, pick: PickList, line: PickLine, now: datetime) -> None:
    item = ledger.lock_item(db, line.item_id)
    ledger.move(db, item=item, lot=line.lot, qty=line.qty, source=line.location, target=pick.destination,
                reason="pick", user=actor, at=now, activity_id=pick.id, from_reserved=line.qty)
    line.picked_at = now
    _close_if_done(db, pick, now)
    db.flush()


def _close_if_done(db: Session, pick: PickList, now: datetime) -> None:
    """Every line picked: the pick list is confirmed (an ORM change: the flush guards check the activity)
    and the line calls it serves are served."""
    if all(other.picked_at is not None for other in pick.lines):
        pick.status, pick.confirmed_at = "confirmed", now
        db.execute(update(LineCall).where(LineCall.pick_list_id == pick.id, LineCall.status == "picking")
                   .values(status="served", served_at=now).execution_options(synchronize_session="evaluate"))


def _mark_lines(db: Session, pick: PickList, lines: list[PickLine], **values) -> None:
    """Picked or released, in one UPDATE: only lines still waiting, of a pick list neither frozen
    (exclude_frozen, which the bulk-statement guard asks for) nor cancelled; the caller locked the pick
    and checked its state, so a line the UPDATE skips is a race lost: a 409 naming the state."""
    if not lines:
        return
    done = db.execute(exclude_frozen(
        update(PickLine).where(PickLine.id.in_([line.id for line in lines]), PickLine.picked_at.is_(None),
                               PickLine.released.is_(False),
                               ~select(ACTIVITY.c.id).where(ACTIVITY.c.id == PickLine.pick_list_id,
                                                            ACTIVITY.c.cancelled_at.is_not(None)).exists())
        .values(**values), PickLine.pick_list_id).execution_options(synchronize_session=False))
    if done.rowcount != len(lines):
        raise Conflict(f"Liste de prélèvement {pick.id} modifiée entre-temps : rechargez-la.", "id")
    for line in lines:
        for key, value in values.items():
            set_committed_value(line, key, value)


def cancel(db: Session, actor: User, pick: PickList, now: datetime) -> PickList:
    """Give back every reservation not yet picked; lines already picked stay at the line. Set-based: one
    UPDATE per balance released, one for the lines, one for the programme, one for the line calls."""
    _lock_open(db, pick)
    ledger.lock_item_rows(db, [line.item_id for line in pick.lines])
    held = [line for line in pick.lines if line.picked_at is None and not line.released]
    ledger.release_balances(db, [(line.item_id, line.lot_id, line.location_id, line.qty) for line in held])
    _mark_lines(db, pick, held, released=True)
    db.execute(update(ProgrammeLine).where(ProgrammeLine.pick_list_id == pick.id).values(pick_list_id=None)
               .execution_options(synchronize_session="evaluate"))
    db.execute(update(LineCall).where(LineCall.pick_list_id == pick.id, LineCall.status == "picking")
               .values(status="open", pick_list_id=None).execution_options(synchronize_session="evaluate"))
    pick.status, pick.cancelled_at = "cancelled", now
    db.flush()
    return pick


# -- Production programme ----------------------------------------------------------------

def add_programme_line(db: Session, actor: User, *, line_code: str, sku: str, qty: Decimal, needed_at: datetime,
                       workshop: str = "") -> ProgrammeLine:
    destination = _destination(location_by_code(db, line_code, "line"))
    item = item_by_sku(db, sku)
    if qty is None or qty <= 0:
        raise ValidationError("La quantité doit être strictement positive.", "qty")
    row = ProgrammeLine(line_location_id=destination.id, item_id=item.id, qty=qty, needed_at=needed_at,
                        workshop=workshop or destination.code, created_by_id=actor.id)
    db.add(row)
    db.flush()
    return row


def pick_programme(db: Session, actor: User, line_ids: list[int], now: datetime) -> PickList:
    """One pick list for programme lines of one destination (a line-side location)."""
    rows = list(db.scalars(select(ProgrammeLine).where(ProgrammeLine.id.in_(line_ids or [-1]))
                           .order_by(ProgrammeLine.id).with_for_update()
                           .execution_options(populate_existing=True)))
    if not rows:
        raise ValidationError("Cochez au moins une ligne du programme.", "lines")
    if len({row.line_location_id for row in rows}) > 1:
        raise ValidationError("Une liste de prélèvement sert une seule ligne : cochez des besoins d'une même ligne.", "lines")
    busy = [row for row in rows if row.pick_list_id is not None]
    if busy:
        raise Conflict(f"{busy[0].item.sku} pour {busy[0].line_location.code} a déjà sa liste "
                       f"{busy[0].pick_list_id}.", "lines")
    pick = allocate(db, actor, requests=[(row.item, row.qty) for row in rows], destination=rows[0].line_location,
                    now=now, needed_at=min(row.needed_at for row in rows))
    for row in rows:
        row.pick_list_id = pick.id
    db.flush()
    return pick


# -- Line calls ----------------------------------------------------------------------------

def raise_call(db: Session, actor: User, *, line_code: str, sku: str, qty: Decimal, now: datetime) -> LineCall:
    destination = _destination(location_by_code(db, line_code, "line"))
    item = item_by_sku(db, sku)
    if qty is None or qty <= 0:
        raise ValidationError("La quantité doit être strictement positive.", "qty")
    call = LineCall(line_location_id=destination.id, item_id=item.id, qty=qty, raised_at=now,
                    raised_by_id=actor.id, status="open")
    db.add(call)
    db.flush()
    return call


def serve_call(db: Session, actor: User, call_id: int, now: datetime) -> PickList:
    """Allocate the pick that serves a call; the call is served when that pick is confirmed."""
    call = lock_by_id(db, LineCall, call_id, f"Appel {call_id} introuvable.", "id")
    if call.status != "open":
        raise Conflict("Cet appel est déjà pris en charge.", "id")
    pick = allocate(db, actor, requests=[(call.item, call.qty)], destination=call.line_location, now=now,
                    needed_at=call.raised_at,
                    title=f"Appel {call.line_location.code} : {call.item.sku} × {fmt(call.qty)}")
    call.status, call.pick_list_id = "picking", pick.id
    db.flush()
    return pick


def cancel_call(db: Session, actor: User, call_id: int) -> LineCall:
    call = lock_by_id(db, LineCall, call_id, f"Appel {call_id} introuvable.", "id")
    if call.status != "open":
        raise Conflict("Seul un appel en attente peut être annulé.", "id")
    call.status = "cancelled"
    db.flush()
    return call


def call_queue(db: Session) -> list[LineCall]:
    return list(db.scalars(select(LineCall).where(LineCall.status.in_(("open", "picking")))
                           .order_by(LineCall.raised_at).limit(200)))
