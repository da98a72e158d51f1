"""Stock API: inventory counts (scanners and tablets): create, blind entry, validation."""
from __future__ import annotations


from flask import jsonify

from shopfloor import clock
from shopfloor import validation as v
from shopfloor.api import BOOLEAN, INTEGER, NUMBER, STRING, array, body, doc, nullable, record
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.db import session
from modules.stock import counts, inputs
from modules.stock.models import COUNT_SCOPES, Count, CountLine
from modules.stock.api.common import _num, bp


REVEALED = ("expected_qty", "counted_qty", "recount_qty", "difference", "difference_value")

LINE_SCHEMA = record({
    "location": STRING, "sku": STRING, "lot": STRING,
    "status": {"type": "string", "enum": ["to_count", "counted", "recount", "recounted"]},
    "recount_required": BOOLEAN,
    "expected_qty": {"type": ["number", "null"], "description": "only for the tutor or admin, never for the counter"},
    "counted_qty": nullable(NUMBER), "recount_qty": nullable(NUMBER), "difference": nullable(NUMBER),
    "difference_value": nullable(NUMBER)}, optional=REVEALED)

COUNT_SCHEMA = record({
    "id": INTEGER, "title": STRING, "scope": STRING, "value": STRING,
    "status": {"type": "string", "enum": ["open", "validated"]}, "author": STRING,
    "threshold_pct": nullable(NUMBER), "threshold_value": nullable(NUMBER), "accuracy_pct": nullable(NUMBER),
    "value_accuracy_pct": nullable(NUMBER), "lines": array(LINE_SCHEMA)})

MOVE_SCHEMA = record({
    "id": INTEGER, "sku": STRING, "lot": STRING, "from": nullable(STRING), "to": nullable(STRING), "qty": NUMBER,
    "direction": {"type": "string", "enum": ["in", "out"]}, "reason": STRING, "note": STRING})

def line_json(line: CountLine, reveal: bool) -> dict:
    """A count line; the expected quantity and the differences only when `reveal` (never to the counter
    while the count is open: the count is blind)."""
    data = {"location": line.location.code, "sku": line.item.sku, "lot": line.lot.number, "status": line.status,
            "recount_required": line.status == "recount"}
    if reveal:
        data.update(expected_qty=_num(line.expected_qty), counted_qty=_num(line.counted_qty),
                    recount_qty=_num(line.recount_qty), difference=_num(line.difference),
                    difference_value=_num(line.difference_value))
    return data

def count_json(count: Count, actor) -> dict:
    reveal = count.status == "validated" or counts.can_validate(actor, count)
    return {"id": count.id, "title": count.title, "scope": count.scope, "value": count.scope_value,
            "status": count.status, "author": count.author.username,
            "threshold_pct": _num(count.threshold_pct), "threshold_value": _num(count.threshold_value),
            "accuracy_pct": _num(count.accuracy_pct), "value_accuracy_pct": _num(count.value_accuracy_pct),
            "lines": [line_json(line, reveal) for line in counts.sorted_lines(count)]}

@bp.post("/counts")
@requires("apprentice")
@doc("Start an inventory count. scope: full (every stocked location), zone (value A), aisle (A-01), rack (A-01-02), "
     "or abc (cycle count of the items due by class frequency: A monthly, B quarterly, C yearly; value A, B, C or "
     "empty for all). A line with |difference| over threshold_pct % (default 5) or threshold_value € (default 100) "
     "must be recounted. The sheet is blind: no expected quantity is returned to the counter.",
     body_schema={"type": "object", "required": ["scope"], "properties": {
         "scope": {"type": "string", "enum": list(COUNT_SCOPES)}, "value": {"type": "string"},
         "threshold_pct": {"type": ["number", "null"]}, "threshold_value": {"type": ["number", "null"]},
         "title": {"type": "string"}}},
     response=COUNT_SCHEMA, status=201)
def create_count():
    data = body()
    scope = v.choice(data, "scope", tuple(COUNT_SCOPES))
    count = counts.create_count(
        session(), current_actor(), scope=scope, value=v.text(data, "value", required=False, max_length=40),
        now=clock.now(), title=v.text(data, "title", required=False) or None,
        threshold_pct=_threshold(data, "threshold_pct", counts.DEFAULT_THRESHOLD_PCT),
        threshold_value=_threshold(data, "threshold_value", counts.DEFAULT_THRESHOLD_VALUE))
    return jsonify(count_json(count, current_actor())), 201

def _threshold(data: dict, field: str, default):
    if field not in data:
        return default
    if field == "threshold_pct":
        return v.percentage(data, field, required=False)
    return v.decimal(data, field, required=False, minimum=0, maximum=10_000_000_000, max_places=4)

@bp.get("/counts/<int:count_id>")
@requires()
@doc("A count and its sheet (expected quantities only for a tutor or admin who may validate it, or once validated)",
     response=COUNT_SCHEMA)
def get_count(count_id: int):
    return jsonify(count_json(counts.visible_count(session(), current_actor(), count_id), current_actor()))

@bp.post("/counts/<int:count_id>/lines")
@requires("apprentice")
@doc("Enter one scanned count: location, item, lot (optional for an item without lot tracking and a single lot "
     "there) and the quantity counted. A second entry of a line to recount is the recount.",
     body_schema={"type": "object", "required": ["location", "sku", "counted_qty"], "properties": {
         "location": {"type": "string"}, "sku": {"type": "string"}, "lot": {"type": "string"},
         "counted_qty": {"type": "number", "minimum": 0}}},
     response=LINE_SCHEMA, status=201)
def add_line(count_id: int):
    db = session()
    data = body()
    count = counts.visible_count(db, current_actor(), count_id)
    entry = inputs.count_entry(data)
    line = counts.record_line(db, current_actor(), count, location_code=entry.location_code, sku=entry.sku,
                              lot_number=entry.lot_number, counted_qty=entry.counted_qty, now=clock.now())
    return jsonify(line_json(line, reveal=False)), 201

@bp.post("/counts/<int:count_id>/validate")
@requires("tutor", "admin")
@doc("Validate a count (the apprentice's tutor or an admin, never its author): posts one adjustment move per line "
     "with a difference and keeps the count's accuracy. 409 while lines are uncounted or to recount, or when stock "
     "moved since a line was counted (recount it).",
     response=record({"id": INTEGER, "status": STRING, "accuracy_pct": nullable(NUMBER),
                      "value_accuracy_pct": nullable(NUMBER), "moves": array(MOVE_SCHEMA)}))
def validate(count_id: int):
    db = session()
    count = counts.visible_count(db, current_actor(), count_id)
    moves = counts.validate_count(db, current_actor(), count, clock.now())
    return jsonify({"id": count.id, "status": count.status, "accuracy_pct": _num(count.accuracy_pct),
                    "value_accuracy_pct": _num(count.value_accuracy_pct), "moves": counts.moves_json(moves)})
