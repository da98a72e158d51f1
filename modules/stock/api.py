"""JSON endpoints the scanners and tablets use: /api/v1/stock/…"""
from __future__ import annotations

from decimal import Decimal

from flask import g, jsonify, request
from sqlalchemy import or_, select

from shopfloor import validation as v
from shopfloor.api import (ARRAY, BOOLEAN, INTEGER, NUMBER, STRING, api_blueprint, array, body, doc, nullable,
                           record)
from shopfloor.auth.permissions import requires
from shopfloor.db import session
from shopfloor import clock
from shopfloor.errors import ValidationError
from modules.stock import ledger, masterdata, picking, reception as receiving
from modules.stock.lookup import item_by_sku, location_by_code, supplier_by_name
from modules.stock.models import Item, Location
from modules.stock.quantities import check_qty, parse_qty

bp = api_blueprint("stock_api", "/stock")

QTY = {"type": "number"}
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
RECEPTION_LINE = {"type": "object", "required": ["sku", "qty"], "properties": {
    "sku": {"type": "string"}, "qty": QTY, "lot": {"type": "string"}, "expiry": {"type": "string", "format": "date"},
    "location": {"type": "string"}, "conforming": {"type": "boolean"}, "reason": {"type": "string"},
    "note_qty": QTY, "packaging_ok": {"type": "boolean"}, "labels_ok": {"type": "boolean"},
    "decision": {"type": "string", "enum": ["accept", "quarantine", "return", "reservations"]}}}
RECEPTION_SCHEMA = {"type": "object", "required": ["supplier", "delivery_note", "lines"], "properties": {
    "supplier": {"type": "string"}, "delivery_note": {"type": "string"}, "carrier": {"type": "string"},
    "expected": {"type": "string"}, "documents_ok": {"type": "boolean"},
    "truck_arrived_at": {"type": "string", "format": "date-time"},
    "truck_departed_at": {"type": "string", "format": "date-time"},
    "lines": {"type": "array", "items": RECEPTION_LINE}}}
PICK_LINE = record({"sku": STRING, "lot": STRING, "expiry": nullable(STRING), "location": STRING, "qty": NUMBER,
                    "picked": BOOLEAN})
PICK_SCHEMA = record({"id": INTEGER, "status": STRING, "destination": STRING, "lines": array(PICK_LINE),
                      "round": array(PICK_LINE),
                      "flagged": array(record({"sku": STRING, "lot": STRING, "location": STRING, "qty": NUMBER,
                                               "reason": STRING}))})
BALANCE_SCHEMA = array(record({"sku": STRING, "lot": STRING, "expiry": nullable(STRING), "location": STRING,
                               "qty": NUMBER, "reserved": NUMBER}))
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
RECEPTION_JSON = record({
    "id": INTEGER, "supplier": STRING, "delivery_note": STRING, "carrier": nullable(STRING), "closed": BOOLEAN,
    "lines": array(record({"id": INTEGER, "sku": STRING, "lot": STRING, "qty": NUMBER, "expiry": nullable(STRING),
                           "location": STRING, "conforming": BOOLEAN, "decision": STRING, "reason": STRING,
                           "put_away": BOOLEAN,
                           "correction": nullable(record({"received_qty": NUMBER, "at": STRING,
                                                          "by": nullable(STRING), "reason": STRING}))})),
    "anomalies": array(record({"kind": STRING, "decision": STRING, "note": STRING, "sku": nullable(STRING)})),
    "reservations": STRING})
LINE_CALL_JSON = record({"id": INTEGER, "line": STRING, "sku": STRING, "qty": NUMBER, "status": STRING,
                         "raised_at": STRING})


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


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


def pick_line_json(line) -> dict:
    return {"sku": line.item.sku, "lot": line.lot.number, "expiry": line.lot.expiry.isoformat() if line.lot.expiry else None,
            "location": line.location.code, "qty": float(line.qty), "picked": line.picked_at is not None}


def pick_json(pick, flagged=()) -> dict:
    return {"id": pick.id, "status": pick.status, "destination": pick.destination.code,
            "lines": [pick_line_json(line) for line in sorted(pick.lines, key=lambda line: line.rank)],
            "round": [pick_line_json(line) for line in picking.round_order(pick)],
            "flagged": [{"sku": f.balance.item.sku, "lot": f.balance.lot.number, "location": f.balance.location.code,
                         "qty": float(f.balance.qty), "reason": f.reason} for f in flagged]}


def _correction_json(line) -> dict | None:
    if line.corrected_at is None:
        return None
    return {"received_qty": float(line.received_qty), "at": line.corrected_at.isoformat(),
            "by": line.corrected_by.username if line.corrected_by else None, "reason": line.correction_reason or ""}


def reception_json(rec) -> dict:
    return {"id": rec.id, "supplier": rec.supplier.name, "delivery_note": rec.delivery_note,
            "carrier": rec.carrier.name if rec.carrier else None, "closed": rec.closed_at is not None,
            "lines": [{"id": line.id, "sku": line.item.sku, "lot": line.lot.number, "qty": float(line.qty),
                       "expiry": line.expiry.isoformat() if line.expiry else None, "location": line.location.code,
                       "conforming": line.conforming, "decision": line.decision, "reason": line.reason,
                       "put_away": line.put_away_at is not None, "correction": _correction_json(line)}
                      for line in rec.lines],
            "anomalies": [{"kind": a.kind, "decision": a.decision, "note": a.note,
                           "sku": a.item.sku if a.item else None} for a in rec.anomalies],
            "reservations": rec.reservations}


# -- Master data -----------------------------------------------------------------------------

@bp.post("/items")
@requires("tutor", "admin")
@doc("Create an item (master data)", body_schema=ITEM_SCHEMA, response=ITEM_JSON, status=201)
def create_item():
    item = masterdata.create_item(session(), body())
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
    location = masterdata.create_location(session(), body())
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


# -- Receptions -------------------------------------------------------------------------------

@bp.post("/receptions")
@requires()
@doc("Receive a delivery note: lines with lot, expiry and checks; non-conforming lines land in quarantine",
     body_schema=RECEPTION_SCHEMA, response=RECEPTION_JSON, status=201)
def create_reception():
    db, data = session(), body()
    lines = data.get("lines")
    if not isinstance(lines, list) or not lines:
        raise ValidationError("« lines » doit être une liste non vide de lignes.", "lines")
    inputs = []
    for index, line in enumerate(lines):
        if not isinstance(line, dict):
            raise ValidationError("Chaque ligne est un objet JSON.", f"lines[{index}]")
        inputs.append(receiving.line_input(line, f"lines[{index}]."))
    supplier = supplier_by_name(db, v.text(data, "supplier", max_length=120))
    carrier = masterdata.carrier_by_name(db, data["carrier"]) if data.get("carrier") else None
    expected = _expected(db, data.get("expected"))
    rec = receiving.receive(db, g.api_user, supplier=supplier, delivery_note=v.text(data, "delivery_note", max_length=60),
                            lines=inputs, now=clock.now(), carrier=carrier, expected=expected,
                            documents_ok=v.boolean(data, "documents_ok", default=True),
                            truck_arrived_at=v.datetime_field(data, "truck_arrived_at", required=False),
                            truck_departed_at=v.datetime_field(data, "truck_departed_at", required=False))
    return jsonify(reception_json(rec)), 201


def _expected(db, reference):
    if not reference:
        return None
    from modules.stock.models import ExpectedReceipt
    found = db.scalar(select(ExpectedReceipt).where(ExpectedReceipt.reference == str(reference).strip().upper()))
    if found is None:
        raise ValidationError(f"Réception attendue « {reference} » inconnue.", "expected")
    return found


@bp.get("/receptions/<int:reception_id>")
@requires()
@doc("One reception with its lines and anomalies", response=RECEPTION_JSON)
def get_reception(reception_id: int):
    return jsonify(reception_json(receiving.get_reception(session(), g.api_user, reception_id)))


@bp.post("/receptions/<int:reception_id>/lines/<int:line_id>/correct")
@requires()
@doc("Correct a line received by mistake, before put-away: {qty: the quantity really received (less than "
     "received, 0 for a line that should not have been received), reason}. The difference leaves the stock by a "
     "reversing move; the line keeps who, when and why. 409 once put away, frozen or cancelled",
     body_schema={"type": "object", "required": ["qty", "reason"], "properties": {
         "qty": {"type": "number", "minimum": 0}, "reason": {"type": "string", "minLength": 1, "maxLength": 300}}},
     response=RECEPTION_JSON)
def correct_reception_line(reception_id: int, line_id: int):
    db, data = session(), body()
    line = receiving.get_line(db, g.api_user, reception_id, line_id)
    if "qty" not in data:
        raise ValidationError("La quantité réellement reçue est obligatoire.", "qty")
    receiving.correct_line(db, g.api_user, line, data.get("qty"), data.get("reason"), clock.now())
    return jsonify(reception_json(line.reception))


# -- Picks ----------------------------------------------------------------------------------

@bp.post("/picks")
@requires()
@doc("Allocate a pick list by the item's strategy (FEFO/FIFO/LIFO); 409 and nothing reserved when short. "
     "Either sku+qty or lines=[{sku, qty}]",
     body_schema={"type": "object", "required": ["destination"], "properties": {
         "sku": {"type": "string"}, "qty": QTY, "destination": {"type": "string"},
         "lines": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}, "qty": QTY}}},
         "needed_at": {"type": "string", "format": "date-time"}}},
     response=PICK_SCHEMA, status=201)
def create_pick():
    db, data = session(), body()
    requests = []
    raw_lines = data.get("lines") if "lines" in data else [{"sku": data.get("sku"), "qty": data.get("qty")}]
    if not isinstance(raw_lines, list) or not raw_lines:
        raise ValidationError("« lines » doit être une liste non vide.", "lines")
    for index, line in enumerate(raw_lines):
        prefix = f"lines[{index}]." if "lines" in data else ""
        if not isinstance(line, dict):
            raise ValidationError("Chaque ligne est un objet JSON.", f"lines[{index}]")
        try:
            item = item_by_sku(db, v.text(line, "sku", max_length=40))
            requests.append((item, check_qty(item, parse_qty(line, "qty"))))
        except ValidationError as exc:
            raise ValidationError(exc.message, f"{prefix}{exc.field}") from None
    destination = location_by_code(db, v.text(data, "destination", max_length=40), "destination")
    now = clock.now()
    pick = picking.allocate(db, g.api_user, requests=requests, destination=destination, now=now,
                            needed_at=v.datetime_field(data, "needed_at", required=False))
    flagged = [f for item, _ in requests for f in picking.flagged_lots(db, item, now)]
    return jsonify(pick_json(pick, flagged)), 201


@bp.get("/picks/<int:pick_id>")
@requires()
@doc("One pick list: lines in allocation order, and in round order", response=PICK_SCHEMA)
def get_pick(pick_id: int):
    return jsonify(pick_json(picking.get_pick(session(), g.api_user, pick_id)))


@bp.post("/picks/<int:pick_id>/confirm")
@requires()
@doc("Confirm a pick: with {location, code} one scanned line (lot, or the reference of an untracked item); "
     "with no body every remaining line. Stock moves to the destination",
     body_schema={"type": "object", "properties": {"location": {"type": "string"}, "code": {"type": "string"}}},
     response=PICK_SCHEMA)
def confirm_pick(pick_id: int):
    db, data = session(), body()
    pick = picking.get_pick(db, g.api_user, pick_id)
    if data.get("location") or data.get("code"):
        picking.confirm_scan(db, g.api_user, pick, v.text(data, "location", max_length=40),
                             v.text(data, "code", max_length=60), clock.now())
    else:
        picking.confirm_all(db, g.api_user, pick, clock.now())
    return jsonify(pick_json(pick))


@bp.post("/picks/<int:pick_id>/cancel")
@requires()
@doc("Cancel a pick list: every reservation not yet picked is released", response=PICK_SCHEMA)
def cancel_pick(pick_id: int):
    db = session()
    pick = picking.cancel(db, g.api_user, picking.get_pick(db, g.api_user, pick_id), clock.now())
    return jsonify(pick_json(pick))


# -- Balances and line calls --------------------------------------------------------------------

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


@bp.post("/line-calls")
@requires()
@doc("Call for material from the line", body_schema={"type": "object", "required": ["line", "sku", "qty"],
     "properties": {"line": {"type": "string"}, "sku": {"type": "string"}, "qty": QTY}}, response=LINE_CALL_JSON,
     status=201)
def create_line_call():
    db, data = session(), body()
    call = picking.raise_call(db, g.api_user, line_code=v.text(data, "line", max_length=40),
                              sku=v.text(data, "sku", max_length=40), qty=parse_qty(data, "qty"),
                              now=clock.now())
    return jsonify({"id": call.id, "line": call.line_location.code, "sku": call.item.sku, "qty": float(call.qty),
                    "status": call.status, "raised_at": call.raised_at.isoformat()}), 201


@bp.get("/line-calls")
@requires()
@doc("The queue of open line calls, oldest first", response=array(record({
    **LINE_CALL_JSON["properties"], "waiting_minutes": INTEGER, "pick_id": nullable(INTEGER)})))
def list_line_calls():
    now = clock.now()
    return jsonify([{"id": c.id, "line": c.line_location.code, "sku": c.item.sku, "qty": float(c.qty),
                     "status": c.status, "raised_at": c.raised_at.isoformat(),
                     "waiting_minutes": int((now - c.raised_at).total_seconds() // 60),
                     "pick_id": c.pick_list_id} for c in picking.call_queue(session())])
