"""Raw input → the typed values the stock services take (issue 13: input is parsed in handlers).

A page's form, an API body, an import row or a CLI option is a dict of strings and JSON values;
each function here reads one request's fields with shopfloor.validation, every error naming its
field, and answers what the service needs. Checks that need the database stay in the services."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal

from shopfloor import validation as v
from shopfloor.errors import ValidationError
from modules.stock.models import CATEGORIES, DECISIONS, LOCATION_KINDS, ROUND_KINDS, STRATEGIES
from modules.stock.quantities import ANY_UNIT_MAX, QTY_PLACES

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9._/-]{0,39}$")
ADDRESS_RE = re.compile(r"^([A-Z]{1,3})-(\d{2})-(\d{2})-(\d{1,2})$")  # zone-aisle-rack-level, e.g. A-01-02-3
ITEM_COLUMNS = ("sku", "name", "unit", "category", "strategy", "lot_tracked", "shelf_life_days", "removal_margin_days",
                "unit_weight_kg", "unit_cost", "hazardous", "temp_min", "temp_max", "supplier", "abc_class")
LOCATION_COLUMNS = ("code", "kind", "max_weight_kg", "hazardous_ok", "temp_min", "temp_max", "near_dock", "categories")


# -- Quantities --------------------------------------------------------------------------

def parse_qty(data: dict, field: str, *, required: bool = True, positive: bool = True) -> Decimal | None:
    """A quantity as typed: a number with at most three decimals, positive (or ≥ 0 with
    positive=False), below the largest any unit allows; `quantities.check_qty` then applies the item's unit."""
    return v.decimal(data, field, required=required, positive=positive,
                     minimum=None if positive else Decimal(0), maximum=ANY_UNIT_MAX, max_places=QTY_PLACES)


# -- Master data -------------------------------------------------------------------------

@dataclass(frozen=True)
class NewItem:
    sku: str
    name: str
    unit: str
    category: str
    strategy: str
    lot_tracked: bool
    shelf_life_days: int | None
    removal_margin_days: int
    unit_weight_kg: Decimal | None
    unit_cost: Decimal
    hazardous: bool
    temp_min: Decimal | None
    temp_max: Decimal | None
    abc_class: str | None
    supplier: str          # a name, found by the service

    def columns(self) -> dict:
        """The Item columns this sets, the supplier aside."""
        values = asdict(self)
        del values["supplier"]
        return values


@dataclass(frozen=True)
class NewLocation:
    code: str
    kind: str
    zone: str
    aisle: str
    rack: str
    level: str
    max_weight_kg: Decimal | None
    hazardous_ok: bool
    temp_min: Decimal | None
    temp_max: Decimal | None
    near_dock: bool
    categories: str

    def columns(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class LocationChange:
    location: NewLocation
    active: bool


@dataclass(frozen=True)
class NewSupplier:
    name: str
    lead_time_days: int
    contact: str


def item(data: dict) -> NewItem:
    """An item from a form, a JSON body or an import row (absent optional fields get defaults)."""
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
    return NewItem(**values, supplier=v.text(data, "supplier", required=False, max_length=120))


def item_change(data: dict, sku: str) -> NewItem:
    """An existing item's fields: its reference is kept, whatever the form sends."""
    return item(dict(data, sku=sku))


def _check_range(values: dict, low: str, high: str) -> None:
    if values[low] is not None and values[high] is not None and values[low] > values[high]:
        raise ValidationError(f"« {low} » doit être inférieure ou égale à « {high} ».", low)


def parse_address(code: str) -> dict:
    """zone, aisle, rack, level from a code like A-01-02-3; other codes (QUAR-01, L1) keep what they have."""
    match = ADDRESS_RE.match(code)
    if match:
        return dict(zip(("zone", "aisle", "rack", "level"), match.groups()))
    parts = code.split("-")
    return {"zone": parts[0][:10], "aisle": "", "rack": "", "level": ""}


def location(data: dict) -> NewLocation:
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
    return NewLocation(**values)


def location_change(data: dict, code: str) -> LocationChange:
    """An existing location's fields: its code is kept, whatever the form sends."""
    return LocationChange(location(dict(data, code=code)), v.boolean(data, "active", default=True))


def supplier(data: dict) -> NewSupplier:
    return NewSupplier(name=v.text(data, "name", max_length=120),
                       lead_time_days=v.integer(data, "lead_time_days", required=False, minimum=0, maximum=365) or 0,
                       contact=v.text(data, "contact", required=False, max_length=200))


def carrier(data: dict) -> str:
    return v.text(data, "name", max_length=120)


# -- Import files ------------------------------------------------------------------------

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


# -- Reception ---------------------------------------------------------------------------

@dataclass
class LineInput:
    sku: str
    qty: Decimal
    lot: str = ""
    expiry: date | None = None
    location: str = ""
    conforming: bool = True
    reason: str = ""
    note_qty: Decimal | None = None
    packaging_ok: bool = True
    labels_ok: bool = True
    decision: str | None = None


def line_input(data: dict, field_prefix: str = "") -> LineInput:
    """A reception line from a JSON object or a form; errors name the field (prefixed, e.g. lines[1].qty)."""
    try:
        return LineInput(
            sku=v.text(data, "sku", max_length=40), qty=parse_qty(data, "qty"),
            lot=v.text(data, "lot", required=False, max_length=60),
            expiry=v.date_field(data, "expiry", required=False),
            location=v.text(data, "location", required=False, max_length=40),
            conforming=v.boolean(data, "conforming", default=True),
            reason=v.text(data, "reason", required=False, max_length=300),
            note_qty=parse_qty(data, "note_qty", required=False, positive=False),
            packaging_ok=v.boolean(data, "packaging_ok", default=True),
            labels_ok=v.boolean(data, "labels_ok", default=True),
            decision=v.choice(data, "decision", list(DECISIONS), required=False))
    except ValidationError as exc:
        raise ValidationError(exc.message, f"{field_prefix}{exc.field}") from None


@dataclass(frozen=True)
class NewExpected:
    reference: str
    kind: str
    expected_on: date | None
    lines: list[tuple[str, Decimal]]


@dataclass(frozen=True)
class Correction:
    qty: Decimal
    reason: str


CORRECTION_REASON_MAX = 300


def expected_receipt(data: dict) -> NewExpected:
    """A purchase order or shipping notice typed on the page; its lines as `SKU;quantité`."""
    expected_on = v.date_field(data, "expected_on", required=False)
    lines = expected_lines(data.get("lines", ""))
    reference = (data.get("reference", "") or "").strip().upper()
    if not reference:
        raise ValidationError("Le numéro de commande ou d'avis d'expédition est obligatoire.", "reference")
    kind = data.get("kind", "order")
    if kind not in ("order", "asn"):
        raise ValidationError("Type attendu : order (commande) ou asn (avis d'expédition).", "kind")
    return NewExpected(reference=reference, kind=kind, expected_on=expected_on, lines=lines)


def expected_lines(text: str) -> list[tuple[str, Decimal]]:
    """Lines typed as `SKU;quantité` (or `SKU quantité`), one per line."""
    out = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        raw = raw.strip()
        if not raw:
            continue
        parts = raw.replace(";", " ").replace("\t", " ").split()
        if len(parts) != 2:
            raise ValidationError(f"Ligne {number} : « référence;quantité » attendu, lu « {raw} ».", "lines")
        out.append((parts[0], parse_qty({"lines": parts[1]}, "lines")))
    return out


def correction(data: dict) -> Correction:
    """The quantity really received on a line and why; the service compares it with the line."""
    qty = v.decimal(data, "qty", minimum=Decimal(0))
    if qty != qty.quantize(Decimal("0.001")):
        raise ValidationError("La quantité a au plus 3 décimales.", "qty")
    reason = data.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError("La raison de la correction est obligatoire.", "reason")
    return Correction(qty, v.text(data, "reason", max_length=CORRECTION_REASON_MAX))  # no NUL, no lone surrogate


# -- Labels ------------------------------------------------------------------------------

LABEL_FORMATS = {"code128": "Code 128", "qr": "QR code"}


@dataclass(frozen=True)
class LabelSheet:
    key: str               # a location code prefix or an item reference, upper case
    fmt: str               # a key of LABEL_FORMATS


def label_sheet(args: dict, field: str) -> LabelSheet:
    """A sheet's query: the prefix (or sku) in `field` and the symbol's format."""
    fmt = args.get("format", "code128")
    if fmt not in LABEL_FORMATS:
        raise ValidationError("Le format vaut « code128 » ou « qr ».", "format")
    return LabelSheet(key=(args.get(field, "") or "").strip().upper(), fmt=fmt)


# -- Shipping ----------------------------------------------------------------------------

MAX_SHIPMENT_LINES = 50


@dataclass(frozen=True)
class ShipmentLineInput:
    sku: str | None        # found by the service, whose error names lines[n].sku
    qty: Decimal
    customer: str


@dataclass(frozen=True)
class NewShipment:
    order_ref: str
    lines: list[ShipmentLineInput]


@dataclass(frozen=True)
class Departure:
    carrier: str
    truck: str
    departed_at: datetime | None


def shipment(data: dict) -> NewShipment:
    """A shipping order: {order_ref, lines: [{sku, qty, customer}]}."""
    order_ref = v.text(data, "order_ref", max_length=60)
    lines = data.get("lines")
    if not isinstance(lines, list) or not lines:
        raise ValidationError("Ajoutez au moins une ligne (article, quantité, client).", "lines")
    if len(lines) > MAX_SHIPMENT_LINES:
        raise ValidationError(f"Au plus {MAX_SHIPMENT_LINES} lignes par expédition.", "lines")
    return NewShipment(order_ref, [_shipment_line(number, raw) for number, raw in enumerate(lines, start=1)])


def _shipment_line(number: int, raw) -> ShipmentLineInput:
    if not isinstance(raw, dict):
        raise ValidationError(f"Ligne {number} : objet attendu.", "lines")
    return ShipmentLineInput(sku=raw.get("sku"), qty=parse_qty(raw, "qty"),
                             customer=v.text(raw, "customer", max_length=120))


def checked_qty(data: dict) -> Decimal:
    return parse_qty(data, "qty", positive=False)


def departure(data: dict) -> Departure:
    departed_at = v.datetime_field(data, "departed_at", required=False)
    return Departure(carrier=v.text(data, "carrier", max_length=120), truck=v.text(data, "truck", max_length=40),
                     departed_at=departed_at)


# -- Collection rounds and counts --------------------------------------------------------

@dataclass(frozen=True)
class Collection:
    kind: str
    from_code: str
    to_code: str
    sku: str
    lot_number: str | None
    qty: Decimal


def collection(data: dict) -> Collection:
    """One quantity brought back from a line-side location; the codes are looked up by the service."""
    kind = v.choice(data, "kind", tuple(ROUND_KINDS))
    return Collection(kind=kind, from_code=data.get("from", ""), to_code=data.get("to", ""), sku=data.get("sku", ""),
                      lot_number=data.get("lot"), qty=parse_qty(data, "qty"))


@dataclass(frozen=True)
class CountEntry:
    location_code: str
    sku: str
    lot_number: str
    counted_qty: Decimal


def count_entry(data: dict) -> CountEntry:
    """One scanned entry of a count, from the page or the API: location → item → lot → quantity."""
    return CountEntry(location_code=v.text(data, "location", max_length=40), sku=v.text(data, "sku", max_length=40),
                      lot_number=v.text(data, "lot", required=False, max_length=60), counted_qty=counted_qty(data))


def counted_qty(data: dict) -> Decimal:
    qty = parse_qty(data, "counted_qty", positive=False)
    if qty != qty.quantize(Decimal("0.001")):
        raise ValidationError("La quantité comptée a au plus 3 décimales.", "counted_qty")
    return qty
