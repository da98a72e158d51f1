"""Stock API: receptions and their corrections."""
from __future__ import annotations


from flask import jsonify
from sqlalchemy import select

from shopfloor import clock
from shopfloor import validation as v
from shopfloor.api import BOOLEAN, INTEGER, NUMBER, STRING, array, body, doc, nullable, record
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.db import session
from shopfloor.errors import ValidationError
from modules.stock import inputs, masterdata, reception as receiving
from modules.stock.lookup import supplier_by_name
from modules.stock.models import ExpectedReceipt
from modules.stock.api.common import QTY, bp


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

RECEPTION_JSON = record({
    "id": INTEGER, "supplier": STRING, "delivery_note": STRING, "carrier": nullable(STRING), "closed": BOOLEAN,
    "lines": array(record({"id": INTEGER, "sku": STRING, "lot": STRING, "qty": NUMBER, "expiry": nullable(STRING),
                           "location": STRING, "conforming": BOOLEAN, "decision": STRING, "reason": STRING,
                           "put_away": BOOLEAN,
                           "correction": nullable(record({"received_qty": NUMBER, "at": STRING,
                                                          "by": nullable(STRING), "reason": STRING}))})),
    "anomalies": array(record({"kind": STRING, "decision": STRING, "note": STRING, "sku": nullable(STRING)})),
    "reservations": STRING})

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

@bp.post("/receptions")
@requires()
@doc("Receive a delivery note: lines with lot, expiry and checks; non-conforming lines land in quarantine",
     body_schema=RECEPTION_SCHEMA, response=RECEPTION_JSON, status=201)
def create_reception():
    db, data = session(), body()
    lines = data.get("lines")
    if not isinstance(lines, list) or not lines:
        raise ValidationError("« lines » doit être une liste non vide de lignes.", "lines")
    parsed = []
    for index, line in enumerate(lines):
        if not isinstance(line, dict):
            raise ValidationError("Chaque ligne est un objet JSON.", f"lines[{index}]")
        parsed.append(inputs.line_input(line, f"lines[{index}]."))
    supplier = supplier_by_name(db, v.text(data, "supplier", max_length=120))
    carrier = masterdata.carrier_by_name(db, data["carrier"]) if data.get("carrier") else None
    expected = _expected(db, data.get("expected"))
    rec = receiving.receive(db, current_actor(), supplier=supplier, delivery_note=v.text(data, "delivery_note", max_length=60),
                            lines=parsed, now=clock.now(), carrier=carrier, expected=expected,
                            documents_ok=v.boolean(data, "documents_ok", default=True),
                            truck_arrived_at=v.datetime_field(data, "truck_arrived_at", required=False),
                            truck_departed_at=v.datetime_field(data, "truck_departed_at", required=False))
    return jsonify(reception_json(rec)), 201

def _expected(db, reference):
    if not reference:
        return None
    found = db.scalar(select(ExpectedReceipt).where(ExpectedReceipt.reference == str(reference).strip().upper()))
    if found is None:
        raise ValidationError(f"Réception attendue « {reference} » inconnue.", "expected")
    return found

@bp.get("/receptions/<int:reception_id>")
@requires()
@doc("One reception with its lines and anomalies", response=RECEPTION_JSON)
def get_reception(reception_id: int):
    return jsonify(reception_json(receiving.get_reception(session(), current_actor(), reception_id)))

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
    line = receiving.get_line(db, current_actor(), reception_id, line_id)
    if "qty" not in data:
        raise ValidationError("La quantité réellement reçue est obligatoire.", "qty")
    receiving.correct_line(db, current_actor(), line, inputs.correction(data), clock.now())
    return jsonify(reception_json(line.reception))
