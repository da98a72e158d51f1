"""JSON API of the AIC boards: create boards, enter manual indicators, read a board's day."""
from __future__ import annotations

from flask import jsonify, request

from dashboards import indicators as ind
from dashboards import inputs, read, services
from dashboards.models import LETTERS
from shopfloor.api import (ARRAY, BOOLEAN, INTEGER, NUMBER, STRING, api_blueprint, array, body, doc,
                           nullable, record)
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.db import session
from shopfloor import clock
from shopfloor.errors import ValidationError
from shopfloor.validation import boolean, choice, date_field, text

bp = api_blueprint("dashboards_api")

ROW_SCHEMA = {"type": "object", "required": ["letter", "indicator", "target", "threshold"], "properties": {
    "letter": {"type": "string", "enum": list(LETTERS)}, "indicator": {"type": "string"},
    "target": {"type": "number"}, "threshold": {"type": "number"}}}
BOARD_SCHEMA = {"type": "object", "required": ["name", "level", "rows"], "properties": {
    "name": {"type": "string"}, "level": {"type": "integer", "enum": [1, 2, 3]},
    "team": {"type": ["string", "integer"], "description": "team name or id (required for level 1)"},
    "parent": {"type": "integer", "description": "id of the next level's board (escalations go there)"},
    "rows": {"type": "array", "items": ROW_SCHEMA}}}
ENTRY_SCHEMA = {"type": "object", "required": ["indicator", "date", "value"], "properties": {
    "indicator": {"type": "string"}, "date": {"type": "string", "format": "date"}, "value": {"type": "number"},
    "comment": {"type": "string"}}}
STATUS = {"type": "string", "enum": list(ind.STATUSES)}
DAY_SCHEMA = record({"date": STRING, "value": nullable(NUMBER), "status": STATUS})
DATA_SCHEMA = record({
    "board": record({"id": INTEGER, "name": STRING, "level": INTEGER, "team": nullable(STRING)}),
    "date": {"type": "string", "format": "date"},
    "rows": array(record({
        "letter": STRING, "indicator": STRING, "label": STRING, "unit": STRING, "value": nullable(NUMBER),
        "target": NUMBER, "threshold": NUMBER, "status": STATUS, "symbol": STRING, "higher_is_better": BOOLEAN,
        "manual": BOOLEAN, "note": nullable(STRING), "month": array(DAY_SCHEMA)})),
    "letters": {"type": "object", "additionalProperties": array(STATUS)},
    "actions": ARRAY,
    "escalations": array(record({
        "id": INTEGER, "problem": STRING, "letter": STRING, "category": STRING, "from_board": STRING,
        "reason": STRING, "raised_by": STRING, "raised_at": STRING, "answered_at": nullable(STRING),
        "answer": nullable(STRING)}))})
BOARD_JSON = record({"id": INTEGER, "name": STRING, "level": INTEGER, "team": nullable(STRING),
                     "parent": nullable(INTEGER),
                     "rows": array(record({"letter": STRING, "indicator": STRING, "target": NUMBER,
                                           "threshold": NUMBER}))})
INDICATOR_SCHEMA = {"type": "object", "required": ["label", "letter", "higher_is_better"], "properties": {
    "label": {"type": "string"}, "letter": {"type": "string", "enum": list(LETTERS)}, "unit": {"type": "string"},
    "higher_is_better": {"type": "boolean"}, "team": {"type": ["string", "integer"]}}}


def board_json(board) -> dict:
    return {"id": board.id, "name": board.name, "level": board.level,
            "team": board.team.name if board.team else None, "parent": board.parent_id,
            "rows": [{"letter": r.letter, "indicator": r.indicator_key, "target": r.target, "threshold": r.threshold}
                     for r in services.sorted_rows(board)]}


@bp.get("/boards")
@requires()
@doc("AIC boards (SQCDPM), highest level first", response=record({"boards": array(BOARD_JSON)}))
def list_boards():
    return jsonify({"boards": [board_json(b) for b in services.list_boards(session())]})


@bp.post("/boards")
@requires("tutor", "admin")
@doc("Create a board for a team (1), a workshop (2) or a site (3) with its SQCDPM rows",
     body_schema=BOARD_SCHEMA, response=BOARD_JSON, status=201)
def create_board():
    data, db = body(), session()
    board = services.create_board(db, current_actor(), inputs.new_board(data), clock.paris_day())
    return jsonify(board_json(board)), 201


@bp.post("/boards/<int:board_id>/entries")
@requires()
@doc("Enter a manual indicator's value for a day (a second entry for the same day replaces it)",
     body_schema=ENTRY_SCHEMA, response=record({"id": INTEGER, "board": INTEGER, "indicator": STRING, "date": STRING,
                                                "value": nullable(NUMBER), "comment": STRING}), status=201)
def create_entry(board_id: int):
    data, db = body(), session()
    board = services.get_board(db, board_id)
    services.check_may_enter(current_actor(), board)
    entry = services.record_entry(db, current_actor(), board, inputs.entry(data), clock.paris_day())
    return jsonify({"id": entry.id, "board": board.id, "indicator": entry.indicator_key,
                    "date": entry.day.isoformat(), "value": entry.value, "comment": entry.comment}), 201


@bp.get("/boards/<int:board_id>/data")
@requires()
@doc("A board's day: each row's value, target and status, its month so far, actions and escalations",
     params={"date": {"type": "string", "format": "date"}}, response=DATA_SCHEMA)
def board_data(board_id: int):
    """A read: what the nightly job has not kept yet is computed, never written."""
    db = session()
    today = clock.paris_day()
    day = date_field(request.args, "date", default=today)
    return jsonify(read.board_data(db, services.get_board(db, board_id), day, today))


@bp.get("/indicators")
@requires()
@doc("Indicators a board row may reference (registered by the modules, or manual)",
     response=record({"indicators": array(record({"key": STRING, "label": STRING, "letter": STRING,
                                                  "unit": STRING, "higher_is_better": BOOLEAN,
                                                  "manual": BOOLEAN}))}))
def list_indicators():
    catalog = ind.catalog(session())
    return jsonify({"indicators": [{"key": i.key, "label": i.label, "letter": i.letter, "unit": i.unit,
                                    "higher_is_better": i.higher_is_better, "manual": i.manual}
                                   for i in sorted(catalog.values(), key=lambda i: (LETTERS.index(i.letter), i.key))]})


@bp.post("/indicators")
@requires("tutor", "admin")
@doc("Define a manual indicator a team enters each day", body_schema=INDICATOR_SCHEMA,
     response=record({"key": STRING, "label": STRING, "letter": STRING, "unit": STRING,
                      "higher_is_better": BOOLEAN}), status=201)
def define_indicator():
    data, db = body(), session()
    team = services.find_team(db, inputs.team(data.get("team")))
    if "higher_is_better" not in data:
        raise ValidationError("Le champ « higher_is_better » est obligatoire (true : plus haut = mieux).",
                              "higher_is_better")
    definition = services.define_indicator(db, current_actor(), label=text(data, "label", max_length=120),
                                           letter=choice(data, "letter", LETTERS),
                                           unit=text(data, "unit", required=False, max_length=20),
                                           higher_is_better=boolean(data, "higher_is_better", default=True),
                                           team_id=team.id if team else None)
    return jsonify({"key": definition.key, "label": definition.label, "letter": definition.letter,
                    "unit": definition.unit, "higher_is_better": definition.higher_is_better}), 201
