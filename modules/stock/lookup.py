"""Finding master data by the codes people type or scan; unknown codes are a 422 on that field."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from shopfloor.errors import ValidationError
from modules.stock import ledger
from modules.stock.ledger import ItemRow
from modules.stock.models import Item, Location, Lot, Supplier


def _sku(sku: str) -> str:
    return (sku or "").strip().upper()  # SKUs and location codes are stored upper-case


def _unknown_item(code: str, field: str) -> ValidationError:
    return ValidationError(f"Article « {code} » inconnu." if code else "La référence article est obligatoire.", field)


@dataclass(frozen=True, slots=True)
class LocationRow:
    id: int
    code: str
    kind: str
    active: bool


LOCATION_COLUMNS = (Location.id, Location.code, Location.kind, Location.active)
# built once: the hot path's lookups (a pick request) only bind their codes
ITEM = select(*ledger.ITEM_COLUMNS).where(Item.sku == bindparam("sku"))
ITEM_LOCKED = ITEM.with_for_update(of=Item.__table__)
ITEM_LOCKED_AND_LOCATION = (select(*ledger.ITEM_COLUMNS, *LOCATION_COLUMNS).select_from(Item)
                            .outerjoin(Location, Location.code == bindparam("code")).where(Item.sku == bindparam("sku"))
                            .with_for_update(of=Item.__table__))
LOCATION = select(*LOCATION_COLUMNS).where(Location.code == bindparam("code"))


def item_by_sku(db: Session, sku: str, field: str = "sku") -> Item:
    code = _sku(sku)
    item = db.scalars(select(Item).where(Item.sku == code)).one_or_none() if code else None
    if item is None:
        raise _unknown_item(code, field)
    return item


def item_row_by_sku(db: Session, sku: str, field: str = "sku", *, lock: bool = False) -> ItemRow:
    """item_by_sku as a plain row (what picking reads), no ORM object. With `lock` the same statement
    locks the item (SELECT … FOR UPDATE), and the ledger knows this transaction holds it."""
    code = _sku(sku)
    row = ledger.core(db, ITEM_LOCKED if lock else ITEM, {"sku": code}).first() if code else None
    if row is None:
        raise _unknown_item(code, field)
    return ledger.remember_locked(db, [row])[row.id] if lock else ItemRow(*row)


def item_row_and_location(db: Session, sku: str, location_code: str, field: str = "sku"):
    """item_row_by_sku(lock=True) and the location of that code (None when unknown: checked_location says
    why), in one statement: the two lookups of a one-line pick."""
    code, text = _sku(sku), _sku(location_code)
    row = ledger.core(db, ITEM_LOCKED_AND_LOCATION, {"sku": code, "code": text}).first() if code else None
    if row is None:
        raise _unknown_item(code, field)
    width = len(ledger.ITEM_COLUMNS)
    item = ledger.remember_locked(db, [row[:width]])[row[0]]
    return item, (LocationRow(*row[width:]) if row[width] is not None else None)


def checked_location(location, text: str, field: str):
    """The location found for the code `text` (None when none was), or the 422 location_by_code answers."""
    text = _sku(text)
    if location is None:
        raise ValidationError(f"Emplacement « {text} » inconnu." if text else "L'emplacement est obligatoire.", field)
    if not location.active:
        raise ValidationError(f"L'emplacement {text} est désactivé.", field)
    return location


def location_by_code(db: Session, code: str, field: str = "location") -> Location:
    text = _sku(code)
    location = db.scalars(select(Location).where(Location.code == text)).one_or_none() if text else None
    return checked_location(location, text, field)


def location_row_by_code(db: Session, code: str, field: str = "location") -> LocationRow:
    """location_by_code as a plain row, no ORM object."""
    text = _sku(code)
    row = ledger.core(db, LOCATION, {"code": text}).first() if text else None
    return checked_location(LocationRow(*row) if row else None, text, field)


def lot_by_number(db: Session, item: Item, number: str, field: str = "lot") -> Lot:
    text = (number or "").strip()
    lot = db.scalars(select(Lot).where(Lot.item_id == item.id, Lot.number == text)).one_or_none() if text else None
    if lot is None:
        raise ValidationError(f"Lot « {text} » inconnu pour {item.sku}." if text else "Le lot est obligatoire.", field)
    return lot


def by_name(db: Session, model, name: str):
    """The row (a supplier, a carrier) of that name as typed, else one whose name differs by letter case.
    Both databases lower ASCII letters only (SQLite always, PostgreSQL in the C locale), so a name with an
    accented capital (« Électro Sud ») is found by the exact comparison."""
    return (db.scalar(select(model).where(model.name == name))
            or db.scalars(select(model).where(func.lower(model.name) == name.lower()).order_by(model.id)).first())


def supplier_by_name(db: Session, name: str, field: str = "supplier") -> Supplier:
    text = (name or "").strip()
    supplier = by_name(db, Supplier, text) if text else None
    if supplier is None:
        raise ValidationError(f"Fournisseur « {text} » inconnu." if text else "Le fournisseur est obligatoire.", field)
    return supplier
