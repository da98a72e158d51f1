"""Stock API: items, locations, suppliers, carriers, stock on hand."""
from __future__ import annotations


from flask import jsonify, request
from sqlalchemy import or_, select

from shopfloor.api import BOOLEAN, INTEGER, NUMBER, STRING, array, body, doc, nullable, record
from shopfloor.auth.permissions import requires
from shopfloor.db import session
from shopfloor.errors import ValidationError
from modules.stock import inputs, ledger, masterdata
from modules.stock.lookup import item_by_sku, location_by_code
from modules.stock.models import Carrier, Item, Location, Supplier
from modules.stock.api.common import QTY, _num, bp


ITEM_SCHEMA = {"type": "object", "required": ["sku", "name"], "properties": {
    "sku": {"type": "string"}, "name": {"type": "string"}, "unit": {"type": "string"},
    "strategy": {"type": "string", "enum": ["fifo", "fefo", "lifo"]}, "lot_tracked": {"type": "boolean"},
    "category": {"type": "string"}, "shelf_life_days": {"type": "integer"}, "removal_margin_days": {"type": "integer"},
    "unit_weight_kg": QTY, "unit_cost": QTY, "hazardous": {"type": "boolean"}, "temp_min": QTY, "temp_max": QTY,
    "supplier": {"type": "string"}, "abc_class": {"type": "string"}}}

LOCATION_SCHEMA = {"type": "object", "required": ["code", "kind"], "properties": {
    "code": {"type": "string"}, "kind": {"type": "string", "enum": ["reception", "quarantine", "storage", "line",
                                                                     "shipping", "scrap", "waste"]},
    "max_weight_kg": QTY, "hazardous_ok": {"type": "boolean"}, "temp_min": QTY, "temp_max": QTY,
    "near_dock": {"type": "boolean"}, "categories": {"type": "string"}}}

ITEM_JSON = record({
    "id": INTEGER, "sku": STRING, "name": STRING, "unit": STRING, "category": STRING, "strategy": STRING,
    "lot_tracked": BOOLEAN, "shelf_life_days": nullable(INTEGER), "removal_margin_days": INTEGER,
    "unit_weight_kg": nullable(NUMBER), "unit_cost": nullable(NUMBER), "hazardous": BOOLEAN,
    "temp_min": nullable(NUMBER), "temp_max": nullable(NUMBER), "supplier": nullable(STRING),
    "abc_class": nullable(STRING)})

LOCATION_JSON = record({
    "id": INTEGER, "code": STRING, "kind": STRING, "zone": STRING, "aisle": STRING, "rack": STRING, "level": STRING,
    "max_weight_kg": nullable(NUMBER), "hazardous_ok": BOOLEAN, "temp_min": nullable(NUMBER),
    "temp_max": nullable(NUMBER), "near_dock": BOOLEAN, "categories": STRING, "active": BOOLEAN})

SUPPLIER_SCHEMA = {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string"}, "lead_time_days": {"type": "integer"}, "contact": {"type": "string"}}}
SUPPLIER_JSON = record({"id": INTEGER, "name": STRING, "lead_time_days": INTEGER, "contact": STRING})
CARRIER_SCHEMA = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
CARRIER_JSON = record({"id": INTEGER, "name": STRING})

BALANCE_SCHEMA = array(record({"sku": STRING, "lot": STRING, "expiry": nullable(STRING), "location": STRING,
                               "qty": NUMBER, "reserved": NUMBER}))

def item_json(item: Item) -> dict:
    return {"id": item.id, "sku": item.sku, "name": item.name, "unit": item.unit, "category": item.category,
            "strategy": item.strategy, "lot_tracked": item.lot_tracked, "shelf_life_days": item.shelf_life_days,
            "removal_margin_days": item.removal_margin_days, "unit_weight_kg": _num(item.unit_weight_kg),
            "unit_cost": _num(item.unit_cost), "hazardous": item.hazardous, "temp_min": _num(item.temp_min),
            "temp_max": _num(item.temp_max), "supplier": item.supplier.name if item.supplier else None,
            "abc_class": item.abc_class}

def location_json(location: Location) -> dict:
    return {"id": location.id, "code": location.code, "kind": location.kind, "zone": location.zone,
            "aisle": location.aisle, "rack": location.rack, "level": location.level,
            "max_weight_kg": _num(location.max_weight_kg), "hazardous_ok": location.hazardous_ok,
            "temp_min": _num(location.temp_min), "temp_max": _num(location.temp_max),
            "near_dock": location.near_dock, "categories": location.categories, "active": location.active}

@bp.post("/items")
@requires("tutor", "admin")
@doc("Create an item (master data)", body_schema=ITEM_SCHEMA, response=ITEM_JSON, status=201)
def create_item():
    item = masterdata.create_item(session(), inputs.item(body()))
    return jsonify(item_json(item)), 201

@bp.get("/items")
@requires()
@doc("Items whose reference or designation contains q (at most 100)", response=array(ITEM_JSON),
     params={"q": {"type": "string"}})
def list_items():
    query = select(Item).order_by(Item.sku).limit(100)
    if text := (request.args.get("q") or "").strip():
        query = query.where(or_(Item.sku.contains(text.upper()), Item.name.ilike(f"%{text}%")))
    return jsonify([item_json(item) for item in session().scalars(query)])

@bp.post("/locations")
@requires("tutor", "admin")
@doc("Create a location; zone-aisle-rack-level is read from the code", body_schema=LOCATION_SCHEMA,
     response=LOCATION_JSON, status=201)
def create_location():
    location = masterdata.create_location(session(), inputs.location(body()))
    return jsonify(location_json(location)), 201

@bp.get("/locations")
@requires()
@doc("Locations, optionally of one kind (at most 1000)", response=array(LOCATION_JSON),
     params={"kind": {"type": "string"}})
def list_locations():
    query = select(Location).order_by(Location.code).limit(1000)
    if kind := request.args.get("kind"):
        query = query.where(Location.kind == kind)
    return jsonify([location_json(location) for location in session().scalars(query)])

def supplier_json(supplier: Supplier) -> dict:
    return {"id": supplier.id, "name": supplier.name, "lead_time_days": supplier.lead_time_days,
            "contact": supplier.contact}

@bp.post("/suppliers")
@requires("tutor", "admin")
@doc("Create a supplier (master data: receptions name it); 409 when the name is taken",
     body_schema=SUPPLIER_SCHEMA, response=SUPPLIER_JSON, status=201)
def create_supplier():
    supplier = masterdata.create_supplier(session(), inputs.supplier(body()))
    return jsonify(supplier_json(supplier)), 201

@bp.get("/suppliers")
@requires()
@doc("Suppliers by name (at most 1000)", response=array(SUPPLIER_JSON))
def list_suppliers():
    return jsonify([supplier_json(s) for s in session().scalars(select(Supplier).order_by(Supplier.name).limit(1000))])

@bp.post("/carriers")
@requires("tutor", "admin")
@doc("Create a carrier (master data: receptions and shipments name it); 409 when the name is taken",
     body_schema=CARRIER_SCHEMA, response=CARRIER_JSON, status=201)
def create_carrier():
    carrier = masterdata.create_carrier(session(), inputs.carrier(body()))
    return jsonify({"id": carrier.id, "name": carrier.name}), 201

@bp.get("/carriers")
@requires()
@doc("Carriers by name (at most 1000)", response=array(CARRIER_JSON))
def list_carriers():
    return jsonify([{"id": c.id, "name": c.name}
                    for c in session().scalars(select(Carrier).order_by(Carrier.name).limit(1000))])

@bp.get("/balances")
@requires()
@doc("Stock on hand (qty > 0) of an item (sku) or in a location", response=BALANCE_SCHEMA,
     params={"sku": {"type": "string"}, "location": {"type": "string"}})
def balances():
    db = session()
    sku, code = request.args.get("sku"), request.args.get("location")
    if not sku and not code:
        raise ValidationError("Indiquez « sku » ou « location ».", "sku")
    rows = ledger.balance_rows(db, item_id=item_by_sku(db, sku).id if sku else None,
                               location_id=location_by_code(db, code).id if code else None)
    return jsonify([{"sku": r["sku"], "lot": r["lot"], "expiry": r["expiry"].isoformat() if r["expiry"] else None,
                     "location": r["location"], "qty": float(r["qty"]), "reserved": float(r["reserved"])}
                    for r in rows])
