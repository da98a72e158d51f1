"""Stock API: pick lists and line calls."""
from __future__ import annotations


from flask import jsonify

from shopfloor import clock
from shopfloor import validation as v
from shopfloor.api import BOOLEAN, INTEGER, NUMBER, STRING, array, body, doc, nullable, record
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.db import session
from shopfloor.errors import ValidationError
from modules.stock import picking
from modules.stock.lookup import checked_location, item_row_and_location, item_row_by_sku, location_row_by_code
from modules.stock.inputs import parse_qty
from modules.stock.quantities import check_qty
from modules.stock.api.common import QTY, bp


PICK_LINE = record({"sku": STRING, "lot": STRING, "expiry": nullable(STRING), "location": STRING, "qty": NUMBER,
                    "picked": BOOLEAN})

PICK_SCHEMA = record({"id": INTEGER, "status": STRING, "destination": STRING, "lines": array(PICK_LINE),
                      "round": array(PICK_LINE),
                      "flagged": array(record({"sku": STRING, "lot": STRING, "location": STRING, "qty": NUMBER,
                                               "reason": STRING}))})

LINE_CALL_JSON = record({"id": INTEGER, "line": STRING, "sku": STRING, "qty": NUMBER, "status": STRING,
                         "raised_at": STRING})

def pick_line_json(line) -> dict:
    return {"sku": line.item.sku, "lot": line.lot.number, "expiry": line.lot.expiry.isoformat() if line.lot.expiry else None,
            "location": line.location.code, "qty": float(line.qty), "picked": line.picked_at is not None}

def pick_json(pick) -> dict:
    return _pick_body(pick.id, pick.status, pick.destination.code, pick.lines)


def allocated_json(allocated: picking.Allocated, requests) -> dict:
    """The new pick list from what allocation wrote (no reload); the lots it refused, for each requested line."""
    flagged = [f for item, _ in requests for f in allocated.flagged if f.balance.item_id == item.id]
    return _pick_body(allocated.pick.id, allocated.pick.status, allocated.destination_code, allocated.lines, flagged)


def _pick_body(pick_id, status, destination_code, lines, flagged=()) -> dict:
    return {"id": pick_id, "status": status, "destination": destination_code,
            "lines": [pick_line_json(line) for line in sorted(lines, key=lambda line: line.rank)],
            "round": [pick_line_json(line) for line in sorted(lines, key=picking.round_key)],
            "flagged": [{"sku": f.balance.sku, "lot": f.balance.lot.number, "location": f.balance.location.code,
                         "qty": float(f.balance.qty), "reason": f.reason} for f in flagged]}

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
    raw_lines = data.get("lines") if "lines" in data else [{"sku": data.get("sku"), "qty": data.get("qty")}]
    if not isinstance(raw_lines, list) or not raw_lines:
        raise ValidationError("« lines » doit être une liste non vide.", "lines")
    code, code_error = _destination_code(data)
    one_line = len(raw_lines) == 1 and code_error is None
    requests, found = [], None
    for index, line in enumerate(raw_lines):
        prefix = f"lines[{index}]." if "lines" in data else ""
        if not isinstance(line, dict):
            raise ValidationError("Chaque ligne est un objet JSON.", f"lines[{index}]")
        try:
            sku = v.text(line, "sku", max_length=40)
            # one line: one statement finds and locks the item and finds the destination (several
            # items: allocation locks them itself, in id order)
            if one_line:
                item, found = item_row_and_location(db, sku, code)
            else:
                item = item_row_by_sku(db, sku)
            requests.append((item, check_qty(item, parse_qty(line, "qty"))))
        except ValidationError as exc:
            raise ValidationError(exc.message, f"{prefix}{exc.field}") from None
    if code_error is not None:
        raise code_error
    destination = (checked_location(found, code, "destination") if one_line
                   else location_row_by_code(db, code, "destination"))
    allocated = picking.allocate_pick(db, current_actor(), requests=requests, destination=destination,
                                      now=clock.now(), needed_at=v.datetime_field(data, "needed_at", required=False))
    return jsonify(allocated_json(allocated, requests)), 201


def _destination_code(data) -> tuple[str | None, ValidationError | None]:
    """The destination as typed, or its error: raised after the lines', as it always was."""
    try:
        return v.text(data, "destination", max_length=40), None
    except ValidationError as exc:
        return None, exc


@bp.get("/picks/<int:pick_id>")
@requires()
@doc("One pick list: lines in allocation order, and in round order", response=PICK_SCHEMA)
def get_pick(pick_id: int):
    return jsonify(pick_json(picking.get_pick(session(), current_actor(), pick_id)))

@bp.post("/picks/<int:pick_id>/confirm")
@requires()
@doc("Confirm a pick: with {location, code} one scanned line (lot, or the reference of an untracked item); "
     "with no body every remaining line. Stock moves to the destination",
     body_schema={"type": "object", "properties": {"location": {"type": "string"}, "code": {"type": "string"}}},
     response=PICK_SCHEMA)
def confirm_pick(pick_id: int):
    db, data = session(), body()
    pick = picking.get_pick(db, current_actor(), pick_id)
    if data.get("location") or data.get("code"):
        picking.confirm_scan(db, current_actor(), pick, v.text(data, "location", max_length=40),
                             v.text(data, "code", max_length=60), clock.now())
    else:
        picking.confirm_all(db, current_actor(), pick, clock.now())
    return jsonify(pick_json(pick))

@bp.post("/picks/<int:pick_id>/cancel")
@requires()
@doc("Cancel a pick list: every reservation not yet picked is released", response=PICK_SCHEMA)
def cancel_pick(pick_id: int):
    db = session()
    pick = picking.cancel(db, current_actor(), picking.get_pick(db, current_actor(), pick_id), clock.now())
    return jsonify(pick_json(pick))

@bp.post("/line-calls")
@requires()
@doc("Call for material from the line", body_schema={"type": "object", "required": ["line", "sku", "qty"],
     "properties": {"line": {"type": "string"}, "sku": {"type": "string"}, "qty": QTY}}, response=LINE_CALL_JSON,
     status=201)
def create_line_call():
    db, data = session(), body()
    call = picking.raise_call(db, current_actor(), line_code=v.text(data, "line", max_length=40),
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
