"""Inventory counts (LOG-2): cycle and full counts, blind entry by scan, recount, validation.

Stock moving during a count — the rule chosen: a line's expected quantity is the book
quantity when the line is created, refreshed each time the line is counted (the counter
compares the shelf with the book of that moment). At validation each line's balance is read
again after locking the item: if it differs from the expected quantity, stock moved after the
line was counted, the difference would be wrong, and validation is refused (409) until those
lines are counted again. Adjustments are therefore always counted − book at counting time,
posted on a book that has not moved since.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session, selectinload

from shopfloor import access
from shopfloor.auth.models import User
from shopfloor.auth.services import can_see_apprentice
from shopfloor.db import lock
from shopfloor.errors import Conflict, Forbidden, ValidationError
from shopfloor.evidence.activities import new_activity
from shopfloor.evidence.services import ensure_editable
from modules.stock import ledger
from modules.stock.lookup import item_by_sku, location_by_code, lot_by_number
from modules.stock.models import COUNT_SCOPES, Balance, Count, CountLine, Item, Location, Lot, Move, activity_title

# Scrap and waste are not stock any more; every other kind of location is counted.
COUNTED_KINDS = ("storage", "quarantine", "line", "shipping", "reception")
ABC_FREQUENCY_DAYS = {"A": 30, "B": 91, "C": 365}  # A monthly, B quarterly, C yearly
DEFAULT_THRESHOLD_PCT = Decimal(5)
DEFAULT_THRESHOLD_VALUE = Decimal(100)
HUNDRED = Decimal(100)


# -- Creating a count -------------------------------------------------------------

def create_count(db: Session, actor: User, *, scope: str, value: str = "", now: datetime,
                 threshold_pct: Decimal | None = DEFAULT_THRESHOLD_PCT,
                 threshold_value: Decimal | None = DEFAULT_THRESHOLD_VALUE, title: str | None = None) -> Count:
    """A count with one line per stocked (location, item, lot) in its scope, expected qty snapshotted."""
    if scope not in COUNT_SCOPES:
        raise ValidationError(f"Périmètre inconnu « {scope} » (attendu : {', '.join(COUNT_SCOPES)}).", "scope")
    value = (value or "").strip().upper()
    _check_thresholds(threshold_pct, threshold_value)
    locations = scope_location_ids(db, scope, value)
    items = due_item_ids(db, value or None, now) if scope == "abc" else None
    count = new_activity(Count, actor, now, title=activity_title(title or _default_title(scope, value)),
                         scope=scope, scope_value=value,
                         status="open", threshold_pct=threshold_pct, threshold_value=threshold_value)
    db.add(count)
    db.flush()
    query = select(Balance.location_id, Balance.item_id, Balance.lot_id, Balance.qty).where(
        Balance.qty > 0, Balance.location_id.in_(locations))
    if items is not None:
        query = query.where(Balance.item_id.in_(items))
    rows = [{"count_id": count.id, "location_id": loc, "item_id": item, "lot_id": lot, "expected_qty": qty,
             "status": "to_count"} for loc, item, lot, qty in db.execute(query)]
    if rows:
        db.execute(insert(CountLine), rows)
    db.expire(count, ["lines"])
    return count


def _check_thresholds(pct: Decimal | None, value: Decimal | None) -> None:
    if pct is not None and not (0 <= pct <= 1000):
        raise ValidationError("Le seuil de recomptage en % doit être entre 0 et 1000.", "threshold_pct")
    if value is not None and value < 0:
        raise ValidationError("Le seuil de recomptage en € ne peut pas être négatif.", "threshold_value")


def _default_title(scope: str, value: str) -> str:
    if scope == "full":
        return "Inventaire complet du magasin"
    if scope == "abc":
        return f"Inventaire tournant classe {value}" if value else "Inventaire tournant (articles à compter)"
    return f"Inventaire {COUNT_SCOPES[scope].lower()} {value}"


def scope_location_ids(db: Session, scope: str, value: str) -> list[int]:
    """Locations a count covers: all counted kinds for a full count, storage for an ABC cycle count,
    the addresses under a zone (A), aisle (A-01) or rack (A-01-02) prefix otherwise."""
    query = select(Location.id).where(Location.active.is_(True), Location.kind.in_(COUNTED_KINDS))
    if scope == "abc":
        if value and value not in ABC_FREQUENCY_DAYS:
            raise ValidationError("Pour un inventaire tournant, la classe vaut A, B, C ou rien (toutes).", "value")
        query = query.where(Location.kind == "storage")
    elif scope != "full":
        expected_parts = {"zone": 1, "aisle": 2, "rack": 3}[scope]
        if not value or len(value.split("-")) != expected_parts:
            example = {"zone": "A", "aisle": "A-01", "rack": "A-01-02"}[scope]
            raise ValidationError(f"Indiquez {COUNT_SCOPES[scope].lower()} à compter (ex. {example}).", "value")
        query = query.where(or_(Location.code == value, Location.code.like(value + "-%")))
    ids = list(db.scalars(query.order_by(Location.code)))
    if not ids:
        raise ValidationError(f"Aucun emplacement ne correspond à « {value or scope} ».", "value")
    return ids


def last_counted(db: Session) -> dict[int, datetime]:
    """Each item's last validated count."""
    rows = db.execute(select(CountLine.item_id, func.max(Count.validated_at)).join(Count)
                      .where(Count.status == "validated").group_by(CountLine.item_id))
    return dict(rows.all())


def due_item_ids(db: Session, abc_class: str | None, now: datetime) -> list[int]:
    """Items whose class frequency says they are due (never counted = due); items without a class are C."""
    last = last_counted(db)
    due = []
    for item_id, cls in db.execute(select(Item.id, Item.abc_class).where(Item.active.is_(True))):
        cls = cls if cls in ABC_FREQUENCY_DAYS else "C"
        if abc_class and cls != abc_class:
            continue
        when = last.get(item_id)
        if when is None or now - when >= timedelta(days=ABC_FREQUENCY_DAYS[cls]):
            due.append(item_id)
    return due


# -- Reading ----------------------------------------------------------------------

def visible_count(db: Session, actor: User, count_id: int) -> Count:
    return access.visible(db, Count, actor, count_id, field="count_id", label="Inventaire",
                          options=[selectinload(Count.lines).selectinload(CountLine.item),
                                   selectinload(Count.lines).selectinload(CountLine.location),
                                   selectinload(Count.lines).selectinload(CountLine.lot)])


def sorted_lines(count: Count) -> list[CountLine]:
    """The count sheet, along the round: by location code, then item."""
    return sorted(count.lines, key=lambda line: (line.location.code, line.item.sku, line.lot.number))


def can_validate(actor: User, count: Count) -> bool:
    return actor.role in ("tutor", "admin") and actor.id != count.author_id and can_see_apprentice(actor, count.author)


# -- Counting ---------------------------------------------------------------------

def record_line(db: Session, actor: User, count: Count, *, location_code: str, sku: str, lot_number: str | None,
                counted_qty: Decimal, now: datetime) -> CountLine:
    """One scanned entry: location → item → lot → quantity. A line over the threshold needs a recount;
    the recount is what counts. Counting a location the sheet did not list adds a line."""
    if count.author_id != actor.id:
        raise Forbidden("Seul l'auteur de l'inventaire saisit ses comptages.", "count_id")
    _lock(db, count)
    _ensure_open(count)
    ensure_editable(count)
    location = location_by_code(db, location_code)
    _check_in_scope(db, count, location)
    item = item_by_sku(db, sku)
    ledger.lock_item(db, item.id)
    line = _line_for(db, count, location, item, (lot_number or "").strip())
    book = ledger.balance(db, item.id, line.lot_id, location.id)
    line.expected_qty = book.qty if book else Decimal(0)
    if line.status in ("recount", "recounted"):
        line.recount_qty = counted_qty
        line.status = "recounted"
    else:
        line.counted_qty, line.recount_qty = counted_qty, None
        line.status = "recount" if exceeds_threshold(count, line.item, counted_qty - line.expected_qty, line.expected_qty) \
            else "counted"
    line.counted_by_id, line.counted_at = actor.id, now
    db.flush()
    return line


def _lock(db: Session, count: Count) -> None:
    """Lock the count and re-read it and its lines before deciding: a validation and a count entry
    (or two validations) sent together queue up, and the second sees what the first committed."""
    lock(db, count)
    db.scalars(select(CountLine).where(CountLine.count_id == count.id)
               .execution_options(populate_existing=True)).all()
    db.expire(count, ["lines"])


def _ensure_open(count: Count) -> None:
    if count.status != "open":
        raise Conflict("Cet inventaire est déjà validé : il ne peut plus changer.", "count_id")


def _check_in_scope(db: Session, count: Count, location: Location) -> None:
    if location.kind not in COUNTED_KINDS:
        raise ValidationError(f"{location.code} est un emplacement de rebut ou de déchets : il ne se compte pas.",
                              "location")
    if count.scope == "full":
        return
    if count.scope == "abc":
        if location.kind != "storage":
            raise ValidationError(f"{location.code} n'est pas un emplacement de stockage.", "location")
        return
    if not (location.code == count.scope_value or location.code.startswith(count.scope_value + "-")):
        raise ValidationError(f"{location.code} est hors du périmètre de cet inventaire ({count.scope_value}).",
                              "location")


def _line_for(db: Session, count: Count, location: Location, item: Item, lot_number: str) -> CountLine:
    lines = [line for line in count.lines if line.location_id == location.id and line.item_id == item.id]
    if lot_number:
        lot = lot_by_number(db, item, lot_number)
        found = [line for line in lines if line.lot_id == lot.id]
        return found[0] if found else _add_line(db, count, location, item, lot)
    if len(lines) == 1:
        return lines[0]
    if len(lines) > 1:
        raise ValidationError(f"Plusieurs lots de {item.sku} sont en {location.code} : scannez le lot.", "lot")
    if item.lot_tracked:
        raise ValidationError(f"{item.sku} est suivi par lot : scannez le numéro de lot.", "lot")
    return _add_line(db, count, location, item, _untracked_lot(db, count, item, location))


def _untracked_lot(db: Session, count: Count, item: Item, location: Location) -> Lot:
    """For an item without lot tracking found where nothing was expected: its latest lot,
    or a system lot numbered after this count."""
    lot = db.scalars(select(Lot).where(Lot.item_id == item.id).order_by(Lot.received_at.desc(), Lot.id.desc())
                     .limit(1)).first()
    if lot is None:
        lot = Lot(item_id=item.id, number=f"INV{count.id}", received_at=count.performed_at)
        db.add(lot)
        db.flush()
    return lot


def _add_line(db: Session, count: Count, location: Location, item: Item, lot: Lot) -> CountLine:
    line = CountLine(count=count, location=location, item=item, lot=lot, status="to_count")
    db.add(line)
    return line


def exceeds_threshold(count: Count, item: Item, difference: Decimal, expected: Decimal) -> bool:
    """True when a difference calls for a recount: over the count's % threshold (any difference where
    nothing was expected), or over its value threshold in €."""
    if difference == 0:
        return False
    if count.threshold_pct is not None and (expected == 0 or abs(difference) * HUNDRED / expected > count.threshold_pct):
        return True
    return count.threshold_value is not None and abs(difference) * (item.unit_cost or 0) > count.threshold_value


# -- Validating -------------------------------------------------------------------

def validate_count(db: Session, actor: User, count: Count, now: datetime) -> list[Move]:
    """The tutor's (or an admin's) validation: posts one adjustment move per line with a difference."""
    if actor.role == "apprentice":
        raise Forbidden("Un apprenti ne valide pas un inventaire : c'est le rôle du tuteur ou d'un administrateur.",
                        "count_id")
    if not can_validate(actor, count):
        raise Forbidden("Vous ne pouvez valider que les inventaires des apprentis que vous suivez.", "count_id")
    _lock(db, count)
    _ensure_open(count)
    ensure_editable(count)
    _check_complete(count)
    for item_id in sorted({line.item_id for line in count.lines}):
        ledger.lock_item(db, item_id)
    _check_not_moved(db, count)
    moves = [_adjust(db, actor, count, line, now) for line in sorted_lines(count) if line.difference != 0]
    count.accuracy_pct, count.value_accuracy_pct = accuracy(count.lines)
    count.status, count.validated_by_id, count.validated_at = "validated", actor.id, now
    db.flush()
    return moves


def _describe(lines: list[CountLine], limit: int = 5) -> str:
    names = [f"{line.location.code} {line.item.sku} lot {line.lot.number}" for line in lines[:limit]]
    return ", ".join(names) + (f" … (+{len(lines) - limit})" if len(lines) > limit else "")


def _check_complete(count: Count) -> None:
    if not count.lines:
        raise Conflict("Aucune ligne dans cet inventaire : rien à valider.", "lines")
    lines = sorted_lines(count)
    missing = [line for line in lines if line.status == "to_count"]
    if missing:
        raise Conflict(f"{len(missing)} ligne(s) pas encore comptée(s) : {_describe(missing)}.", "lines")
    recount = [line for line in lines if line.status == "recount"]
    if recount:
        raise Conflict(f"Écart au-delà du seuil, recomptage à faire : {_describe(recount)}.", "lines")


def _check_not_moved(db: Session, count: Count) -> None:
    moved = []
    for line in sorted_lines(count):
        book = ledger.balance(db, line.item_id, line.lot_id, line.location_id)
        if (book.qty if book else Decimal(0)) != line.expected_qty:
            moved.append(line)
    if moved:
        raise Conflict(f"Du stock a bougé depuis le comptage de : {_describe(moved)}. Recomptez ces lignes "
                       f"puis validez.", "lines")


def _adjust(db: Session, actor: User, count: Count, line: CountLine, now: datetime) -> Move:
    diff = line.difference
    note = (f"Inventaire n° {count.id} : compté {line.final_qty.normalize():f}, "
            f"attendu {line.expected_qty.normalize():f}")
    try:
        move = ledger.move(db, item=line.item, lot=line.lot, qty=abs(diff),
                           source=line.location if diff < 0 else None, target=line.location if diff > 0 else None,
                           reason="adjustment", user=actor, at=now, activity_id=count.id, note=note)
    except Conflict:
        raise Conflict(f"Ajustement impossible en {line.location.code} pour {line.item.sku} : la quantité comptée "
                       f"est inférieure au stock réservé par une liste de prélèvement. Annulez ou confirmez "
                       f"d'abord ce prélèvement.", "lines") from None
    line.adjustment_move_id = move.id
    return move


def accuracy(lines: list[CountLine]) -> tuple[Decimal, Decimal]:
    """(share of lines without difference, value accuracy 1 − Σ|Δ€| / Σ expected €), both in %."""
    exact = sum(1 for line in lines if line.difference == 0)
    line_pct = Decimal(exact) * HUNDRED / len(lines)
    expected_value = sum((line.expected_qty * line.item.unit_cost for line in lines), Decimal(0))
    gap_value = sum((abs(line.difference_value) for line in lines), Decimal(0))
    if expected_value > 0:
        value_pct = max(Decimal(0), HUNDRED - gap_value * HUNDRED / expected_value)
    else:
        value_pct = HUNDRED if gap_value == 0 else Decimal(0)
    two = Decimal("0.01")
    return line_pct.quantize(two, ROUND_HALF_UP), value_pct.quantize(two, ROUND_HALF_UP)


def moves_json(moves: list[Move]) -> list[dict]:
    return [{"id": m.id, "sku": m.item.sku, "lot": m.lot.number,
             "from": m.from_location.code if m.from_location else None,
             "to": m.to_location.code if m.to_location else None,
             "qty": float(m.qty), "direction": "in" if m.to_location_id else "out",
             "reason": m.reason, "note": m.note} for m in moves]
