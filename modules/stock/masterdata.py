"""Master data: items, locations, suppliers, carriers, and their import from CSV or XLSX."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopfloor import validation as v
from shopfloor.errors import Conflict, ValidationError
from modules.stock.lookup import supplier_by_name
from modules.stock.models import (CATEGORIES, LOCATION_KINDS, STRATEGIES, Balance, Carrier, Item, Location,
                                  Supplier)

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9._/-]{0,39}$")
ADDRESS_RE = re.compile(r"^([A-Z]{1,3})-(\d{2})-(\d{2})-(\d{1,2})$")  # zone-aisle-rack-level, e.g. A-01-02-3
ITEM_COLUMNS = ("sku", "name", "unit", "category", "strategy", "lot_tracked", "shelf_life_days", "removal_margin_days",
                "unit_weight_kg", "unit_cost", "hazardous", "temp_min", "temp_max", "supplier", "abc_class")
LOCATION_COLUMNS = ("code", "kind", "max_weight_kg", "hazardous_ok", "temp_min", "temp_max", "near_dock", "categories")


# -- Items --------------------------------------------------------------------------------

def item_values(db: Session, data: dict) -> dict:
    """Validated item fields from a form, a JSON body or an import row (absent optional fields get defaults)."""
    sku = v.text(data, "sku", max_length=40).upper()
    if not CODE_RE.match(sku):
        raise ValidationError("Référence invalide : lettres, chiffres, . _ / - (40 caractères au plus).", "sku")
    values = {
        "sku": sku,
        "name": v.text(data, "name", max_length=200),
        "unit": v.text(data, "unit", required=False, max_length=12, default="u"),
        "category": v.choice(data, "category", list(CATEGORIES), default="composant"),
        "strategy": v.choice(data, "strategy", list(STRATEGIES), default="fifo"),
        "lot_tracked": v.boolean(data, "lot_tracked", default=False),
        "shelf_life_days": v.integer(data, "shelf_life_days", required=False, minimum=1, maximum=36500),
        "removal_margin_days": v.integer(data, "removal_margin_days", required=False, minimum=0, maximum=3650) or 0,
        "unit_weight_kg": v.decimal(data, "unit_weight_kg", required=False, minimum=Decimal(0)),
        "unit_cost": v.decimal(data, "unit_cost", required=False, minimum=Decimal(0)) or Decimal(0),
        "hazardous": v.boolean(data, "hazardous", default=False),
        "temp_min": v.decimal(data, "temp_min", required=False),
        "temp_max": v.decimal(data, "temp_max", required=False),
        "abc_class": (v.choice(data, "abc_class", ["A", "B", "C"], required=False) or None),
    }
    _check_range(values, "temp_min", "temp_max")
    supplier = v.text(data, "supplier", required=False, max_length=120)
    values["supplier_id"] = supplier_by_name(db, supplier).id if supplier else None
    return values


def _check_range(values: dict, low: str, high: str) -> None:
    if values[low] is not None and values[high] is not None and values[low] > values[high]:
        raise ValidationError(f"« {low} » doit être inférieure ou égale à « {high} ».", low)


def create_item(db: Session, data: dict) -> Item:
    values = item_values(db, data)
    if db.scalar(select(Item.id).where(Item.sku == values["sku"])) is not None:
        raise Conflict(f"L'article {values['sku']} existe déjà.", "sku")
    item = Item(**values)
    db.add(item)
    db.flush()
    return item


def update_item(db: Session, item: Item, data: dict) -> Item:
    values = item_values(db, dict(data, sku=item.sku))
    for name, value in values.items():
        setattr(item, name, value)
    db.flush()
    return item


# -- Locations ----------------------------------------------------------------------------

def parse_address(code: str) -> dict:
    """zone, aisle, rack, level from a code like A-01-02-3; other codes (QUAR-01, L1) keep what they have."""
    match = ADDRESS_RE.match(code)
    if match:
        return dict(zip(("zone", "aisle", "rack", "level"), match.groups()))
    parts = code.split("-")
    return {"zone": parts[0][:10], "aisle": "", "rack": "", "level": ""}


def location_values(data: dict) -> dict:
    code = v.text(data, "code", max_length=40).upper()
    if not CODE_RE.match(code):
        raise ValidationError("Code d'emplacement invalide : lettres, chiffres, . _ / - (ex. A-01-02-3).", "code")
    kind = v.choice(data, "kind", list(LOCATION_KINDS))
    if kind == "storage" and not ADDRESS_RE.match(code):
        raise ValidationError("Un emplacement de stockage a une adresse zone-allée-rack-niveau (ex. A-01-02-3).", "code")
    categories = [c.strip() for c in v.text(data, "categories", required=False, max_length=200).split(",") if c.strip()]
    for category in categories:
        if category not in CATEGORIES:
            raise ValidationError(f"Catégorie inconnue : {category} (attendu : {', '.join(CATEGORIES)}).", "categories")
    values = {"code": code, "kind": kind, **parse_address(code),
              "max_weight_kg": v.decimal(data, "max_weight_kg", required=False, positive=True),
              "hazardous_ok": v.boolean(data, "hazardous_ok", default=False),
              "temp_min": v.decimal(data, "temp_min", required=False),
              "temp_max": v.decimal(data, "temp_max", required=False),
              "near_dock": v.boolean(data, "near_dock", default=False),
              "categories": ",".join(categories)}
    _check_range(values, "temp_min", "temp_max")
    return values


def create_location(db: Session, data: dict) -> Location:
    values = location_values(data)
    if db.scalar(select(Location.id).where(Location.code == values["code"])) is not None:
        raise Conflict(f"L'emplacement {values['code']} existe déjà.", "code")
    location = Location(**values)
    db.add(location)
    db.flush()
    return location


def update_location(db: Session, location: Location, data: dict) -> Location:
    values = location_values(dict(data, code=location.code))
    check_kind_change(db, location, values["kind"])
    for name, value in values.items():
        setattr(location, name, value)
    location.active = v.boolean(data, "active", default=True)
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

def create_supplier(db: Session, data: dict) -> Supplier:
    name = v.text(data, "name", max_length=120)
    if db.scalar(select(Supplier.id).where(func.lower(Supplier.name) == name.lower())) is not None:
        raise Conflict(f"Le fournisseur {name} existe déjà.", "name")
    supplier = Supplier(name=name, lead_time_days=v.integer(data, "lead_time_days", required=False, minimum=0,
                                                            maximum=365) or 0,
                        contact=v.text(data, "contact", required=False, max_length=200))
    db.add(supplier)
    db.flush()
    return supplier


def create_carrier(db: Session, data: dict) -> Carrier:
    name = v.text(data, "name", max_length=120)
    if db.scalar(select(Carrier.id).where(func.lower(Carrier.name) == name.lower())) is not None:
        raise Conflict(f"Le transporteur {name} existe déjà.", "name")
    carrier = Carrier(name=name)
    db.add(carrier)
    db.flush()
    return carrier


def carrier_by_name(db: Session, name: str, field: str = "carrier") -> Carrier:
    text = (name or "").strip()
    carrier = db.scalar(select(Carrier).where(func.lower(Carrier.name) == text.lower())) if text else None
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


def read_table(filename: str, data: bytes) -> list[dict]:
    """Rows of a CSV (comma or semicolon, UTF-8) or XLSX file as dicts keyed by the header row."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        return _read_xlsx(data)
    if name.endswith(".csv") or name.endswith(".txt"):
        return _read_csv(data)
    raise ValidationError("Format de fichier non reconnu : CSV ou XLSX attendu.", "file")


def _read_csv(data: bytes) -> list[dict]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")  # CSV saved by Excel on a French Windows
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    return [{(k or "").strip().lower(): (val or "").strip() for k, val in row.items()} for row in reader]


def _read_xlsx(data: bytes) -> list[dict]:
    from openpyxl import load_workbook
    try:
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
    except Exception:  # openpyxl raises many kinds on a damaged file
        raise ValidationError("Fichier XLSX illisible.", "file") from None
    rows = sheet.iter_rows(values_only=True)
    header = [str(h or "").strip().lower() for h in next(rows, [])]
    out = []
    for row in rows:
        if all(cell is None or str(cell).strip() == "" for cell in row):
            continue
        out.append({h: ("" if cell is None else str(cell).strip() if not isinstance(cell, (int, float)) else cell)
                    for h, cell in zip(header, row) if h})
    return out


def import_rows(db: Session, kind: str, rows: list[dict]) -> ImportReport:
    """Create or update every row, or nothing at all: all rows are validated before the first write."""
    report = ImportReport(kind)
    if kind not in ("items", "locations"):
        raise ValidationError("Import de « items » ou de « locations » uniquement.", "kind")
    if not rows:
        report.errors.append((1, None, "Le fichier ne contient aucune ligne de données."))
        return report
    columns = ITEM_COLUMNS if kind == "items" else LOCATION_COLUMNS
    key = columns[0]
    unknown = sorted(set(rows[0]) - set(columns))
    if unknown:
        report.errors.append((1, unknown[0], f"Colonne(s) inconnue(s) : {', '.join(unknown)} "
                                             f"(attendu : {', '.join(columns)})."))
        return report
    valid, seen = [], {}
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        try:
            values = item_values(db, row) if kind == "items" else location_values(row)
        except ValidationError as exc:
            report.errors.append((number, exc.field, exc.message))
            continue
        if values[key] in seen:
            report.errors.append((number, key, f"{values[key]} figure déjà ligne {seen[values[key]]}."))
            continue
        seen[values[key]] = number
        valid.append(values)
    if report.errors:
        return report
    model = Item if kind == "items" else Location
    existing = {getattr(obj, key): obj for obj in db.scalars(
        select(model).where(getattr(model, key).in_([values[key] for values in valid])))}
    if kind == "locations":
        _check_kind_changes(db, existing, valid, seen, report)
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
