"""Master data: items, locations, suppliers, carriers, and the writes of their import (modules.stock.importer)."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shopfloor.errors import Conflict, ValidationError
from modules.stock.inputs import LocationChange, NewItem, NewLocation, NewSupplier
from modules.stock.lookup import by_name, supplier_by_name
from modules.stock.models import Balance, Carrier, Item, Location, Supplier


# -- Items --------------------------------------------------------------------------------

def item_columns(db: Session, spec: NewItem) -> dict:
    """The Item columns of a parsed item, its supplier found by name."""
    return dict(spec.columns(), supplier_id=supplier_by_name(db, spec.supplier).id if spec.supplier else None)


def create_item(db: Session, spec: NewItem) -> Item:
    values = item_columns(db, spec)
    if db.scalar(select(Item.id).where(Item.sku == values["sku"])) is not None:
        raise Conflict(f"L'article {values['sku']} existe déjà.", "sku")
    item = Item(**values)
    db.add(item)
    db.flush()
    return item


def update_item(db: Session, item: Item, spec: NewItem) -> Item:
    """`spec` from inputs.item_change, which keeps the item's reference."""
    for name, value in item_columns(db, spec).items():
        setattr(item, name, value)
    db.flush()
    return item


# -- Locations ----------------------------------------------------------------------------

def create_location(db: Session, spec: NewLocation) -> Location:
    if db.scalar(select(Location.id).where(Location.code == spec.code)) is not None:
        raise Conflict(f"L'emplacement {spec.code} existe déjà.", "code")
    location = Location(**spec.columns())
    db.add(location)
    db.flush()
    return location


def update_location(db: Session, location: Location, change: LocationChange) -> Location:
    """`change` from inputs.location_change, which keeps the location's code."""
    check_kind_change(db, location, change.location.kind)
    for name, value in change.location.columns().items():
        setattr(location, name, value)
    location.active = change.active
    db.flush()
    return location


def check_kind_change(db: Session, location: Location, kind: str) -> None:
    """A location holding stock keeps its kind: quarantined goods must not become pickable by a relabel."""
    if kind != location.kind and _holds_stock(db, location):
        raise Conflict(f"L'emplacement {location.code} contient du stock : videz-le avant de changer sa nature.",
                       "kind")


def _holds_stock(db: Session, location: Location) -> bool:
    return db.scalar(select(func.count()).select_from(Balance).where(Balance.location_id == location.id,
                                                                     Balance.qty > 0)) > 0


# -- Suppliers and carriers ----------------------------------------------------------------

def create_supplier(db: Session, spec: NewSupplier) -> Supplier:
    taken = f"Le fournisseur {spec.name} existe déjà."
    if by_name(db, Supplier, spec.name) is not None:
        raise Conflict(taken, "name")
    return _insert_named(db, Supplier(name=spec.name, lead_time_days=spec.lead_time_days, contact=spec.contact), taken)


def create_carrier(db: Session, name: str) -> Carrier:
    taken = f"Le transporteur {name} existe déjà."
    if by_name(db, Carrier, name) is not None:
        raise Conflict(taken, "name")
    return _insert_named(db, Carrier(name=name), taken)


def _insert_named(db: Session, row, taken: str):
    """The unique name decides when two requests create the same one at once: the second is told so."""
    try:
        with db.begin_nested():
            db.add(row)
    except IntegrityError:
        raise Conflict(taken, "name") from None
    return row


def carrier_by_name(db: Session, name: str, field: str = "carrier") -> Carrier:
    text = (name or "").strip()
    carrier = by_name(db, Carrier, text) if text else None
    if carrier is None:
        raise ValidationError(f"Transporteur « {text} » inconnu." if text else "Le transporteur est obligatoire.", field)
    return carrier


# -- Import ------------------------------------------------------------------------------

@dataclass
class ImportReport:
    kind: str
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str | None, str]] = field(default_factory=list)  # (line number, field, message)

    @property
    def ok(self) -> bool:
        return not self.errors


def save_rows(db: Session, report: ImportReport, valid: list[dict], lines: dict) -> ImportReport:
    """Create or update the rows the importer parsed (their columns, keyed by the first, with their line
    numbers in `lines`), or nothing at all when a location holding stock would change kind."""
    model, key = (Item, "sku") if report.kind == "items" else (Location, "code")
    existing = {getattr(obj, key): obj for obj in db.scalars(
        select(model).where(getattr(model, key).in_([values[key] for values in valid])))}
    if report.kind == "locations":
        _check_kind_changes(db, existing, valid, lines, report)
        if report.errors:
            return report
    for values in valid:
        obj = existing.get(values[key])
        if obj is None:
            db.add(model(**values))
            report.created += 1
        else:
            for name, value in values.items():
                setattr(obj, name, value)
            report.updated += 1
    db.flush()
    return report


def _check_kind_changes(db: Session, existing: dict, valid: list[dict], lines: dict, report: ImportReport) -> None:
    for values in valid:
        location = existing.get(values["code"])
        if location is None:
            continue
        try:
            check_kind_change(db, location, values["kind"])
        except Conflict as exc:
            report.errors.append((lines[values["code"]], exc.field, exc.message))
