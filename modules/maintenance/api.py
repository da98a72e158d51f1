"""JSON endpoints under /api/v1/maintenance: equipment, plans, readings (sensors), work orders, KPIs."""
from __future__ import annotations

from datetime import timedelta

from flask import jsonify, request

from modules.maintenance import equipment as eq_services
from modules.maintenance import inputs, parts
from modules.maintenance import readings as rd
from modules.maintenance import workorders as wos
from modules.maintenance.models import LOCKOUT_STEPS, Equipment, Plan, WorkOrder
from shopfloor import access, clock
from shopfloor import validation as v
from shopfloor.api import (ARRAY, BOOLEAN, INTEGER, NUMBER, OBJECT, STRING, api_blueprint, array, body, doc,
                           nullable, record)
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.db import session

bp = api_blueprint("maintenance_api", "/maintenance")

EQUIPMENT_SCHEMA = {"type": "object", "properties": {
    "code": {"type": "string"}, "name": {"type": "string"}, "technologies": {"type": "array", "items": {"type": "string"}},
    "criticality": {"type": "string", "enum": ["A", "B", "C"]}, "energies": {"type": "array", "items": {"type": "string"}},
    "level": {"type": "string"}, "parent": {"type": "string"}, "maker": {"type": "string"}, "model": {"type": "string"},
    "reference_values": {"type": "object"}}, "required": ["code", "name"]}
PLAN_SCHEMA = {"type": "object", "properties": {
    "equipment": {"type": "string"}, "kind": {"type": "string", "enum": ["calendar", "usage", "condition", "predictive"]},
    "title": {"type": "string"}, "interval_days": {"type": "integer"}, "interval_weeks": {"type": "integer"},
    "interval_months": {"type": "integer"}, "interval_hours": {"type": "number"}, "interval_cycles": {"type": "number"},
    "parameter": {"type": "string"}, "threshold": {"type": "number"},
    "direction": {"type": "string", "enum": ["above", "below"]}, "lead_days": {"type": "integer"},
    "window_days": {"type": "integer"}, "anchor": {"type": "string", "enum": ["scheduled", "completion"]},
    "start": {"type": "string", "format": "date-time"}, "operations": {"type": "array"}},
    "required": ["equipment", "kind"]}
READING_SCHEMA = {"type": "object", "properties": {
    "equipment": {"type": "string"}, "parameter": {"type": "string"}, "value": {"type": "number"},
    "at": {"type": "string", "format": "date-time"}}}
WO_SCHEMA = record({
    "id": INTEGER, "kind": STRING, "status": STRING, "due": nullable(STRING), "plan": nullable(INTEGER),
    "equipment": STRING, "title": STRING, "trigger": STRING, "late": BOOLEAN, "skipped": ARRAY,
    "parent": nullable(INTEGER), "activity": nullable(INTEGER),
    "lockout": array(record({"energy": STRING, "step": STRING, "by": STRING, "at": STRING})),
    "lockout_missing": array(STRING),
    "results": array(record({"position": INTEGER, "label": STRING, "measured": nullable(NUMBER),
                             "min": nullable(NUMBER), "max": nullable(NUMBER), "out_of_tolerance": BOOLEAN})),
    "diagnosis": nullable(OBJECT), "report": STRING, "parts": ARRAY, "parts_cost": NUMBER, "hold_reason": STRING,
    "downtime_start": nullable(STRING), "downtime_end": nullable(STRING)})
EQUIPMENT_JSON = record({
    "id": INTEGER, "code": STRING, "name": STRING, "level": STRING, "technologies": array(STRING),
    "criticality": STRING, "energies": array(STRING), "maker": STRING, "model": STRING, "reference_values": OBJECT,
    "parent": nullable(STRING)})
PLAN_JSON = record({
    "id": INTEGER, "equipment": STRING, "kind": STRING, "title": STRING, "interval": nullable(NUMBER),
    "interval_unit": nullable(STRING), "parameter": nullable(STRING), "threshold": nullable(NUMBER),
    "direction": STRING, "lead_days": INTEGER, "anchor": STRING, "next_due": nullable(STRING),
    "next_meter": nullable(NUMBER), "predicted_crossing": nullable(STRING), "operations": ARRAY})
KPIS = record({"period_hours": NUMBER, "failures": INTEGER, "downtime_hours": NUMBER, "uptime_hours": NUMBER,
               "mtbf_hours": nullable(NUMBER), "mttr_hours": nullable(NUMBER), "availability": nullable(NUMBER),
               "pm_due": INTEGER, "pm_on_time": INTEGER, "pm_compliance": nullable(NUMBER)})


def wo_json(wo: WorkOrder) -> dict:
    return {"id": wo.id, "kind": wo.kind, "status": wo.status, "due": wo.due.isoformat() if wo.due else None,
            "plan": wo.plan_id, "equipment": wo.equipment.code, "title": wo.title, "trigger": wo.trigger,
            "late": wo.late, "skipped": wo.skipped, "parent": wo.parent_id,
            "activity": wo.intervention_id,
            "lockout": [{"energy": s.energy, "step": s.step, "by": s.actor.username, "at": s.at.isoformat()}
                        for s in wo.lockout],
            "lockout_missing": wos.lockout_missing(wo),
            "results": [{"position": r.position, "label": r.label, "measured": r.measured,
                         "min": r.minimum, "max": r.maximum, "out_of_tolerance": r.out_of_tolerance}
                        for r in wo.results],
            "diagnosis": wo.diagnosis, "report": wo.report, "parts": wo.parts, "parts_cost": wo.parts_cost,
            "hold_reason": wo.hold_reason,
            "downtime_start": wo.downtime_start.isoformat() if wo.downtime_start else None,
            "downtime_end": wo.downtime_end.isoformat() if wo.downtime_end else None}


def equipment_json(e: Equipment) -> dict:
    return {"id": e.id, "code": e.code, "name": e.name, "level": e.level, "technologies": e.technologies,
            "criticality": e.criticality, "energies": e.energies, "maker": e.maker, "model": e.model,
            "reference_values": e.reference_values, "parent": e.parent.code if e.parent else None}


def plan_json(p: Plan) -> dict:
    return {"id": p.id, "equipment": p.equipment.code, "kind": p.kind, "title": p.title,
            "interval": p.interval_value, "interval_unit": p.interval_unit, "parameter": p.parameter,
            "threshold": p.threshold, "direction": p.direction, "lead_days": p.lead_days, "anchor": p.anchor,
            "next_due": p.next_due.isoformat() if p.next_due else None, "next_meter": p.next_meter,
            "predicted_crossing": p.predicted_crossing.isoformat() if p.predicted_crossing else None,
            "operations": p.operations}


@bp.post("/equipment")
@requires("tutor", "admin")
@doc("Register a piece of equipment", body_schema=EQUIPMENT_SCHEMA, response=EQUIPMENT_JSON, status=201)
def create_equipment():
    spec = inputs.new_equipment(body())
    return jsonify(equipment_json(eq_services.create_equipment(session(), current_actor(), spec))), 201


@bp.get("/equipment/<code>")
@requires()
@doc("One piece of equipment", response=EQUIPMENT_JSON)
def get_equipment(code):
    return jsonify(equipment_json(eq_services.get_equipment(session(), code)))


@bp.post("/plans")
@requires("tutor", "admin")
@doc("Create a preventive plan (calendar: interval_days|weeks|months; usage: interval_hours|cycles; "
     "condition/predictive: parameter, threshold, lead_days)", body_schema=PLAN_SCHEMA, response=PLAN_JSON,
     status=201)
def create_plan():
    spec = inputs.new_plan(body(), clock.now())
    return jsonify(plan_json(eq_services.create_plan(session(), current_actor(), spec))), 201


@bp.post("/readings")
@requires()
@doc("Record one reading, or a batch: {\"readings\": [...]} or a JSON list", body_schema={
    "anyOf": [READING_SCHEMA, {"type": "array", "items": READING_SCHEMA},
              {"type": "object", "properties": {"readings": {"type": "array", "items": READING_SCHEMA}}}]},
     response=record({"created": INTEGER}), status=201)
def add_readings():
    payload = request.get_json(silent=True)
    if isinstance(payload, list):
        items = payload
    else:
        data = body()
        items = data["readings"] if isinstance(data.get("readings"), list) else [data]
    now = clock.now()
    count = rd.add_readings(session(), current_actor(), inputs.readings(items, now), now)
    return jsonify({"created": count}), 201


@bp.get("/work-orders")
@requires()
@doc("Work orders, optionally of one piece of equipment", params={
    "equipment": {"type": "string"}, "status": {"type": "string"}, "limit": {"type": "integer"},
    "offset": {"type": "integer"}}, response={"type": "array", "items": WO_SCHEMA})
def list_work_orders():
    db = session()
    args = request.args
    equipment = eq_services.get_equipment(db, args["equipment"]) if args.get("equipment") else None
    limit = v.integer(args, "limit", required=False, minimum=1, maximum=1000) or 200
    offset = v.integer(args, "offset", required=False, minimum=0) or 0
    return jsonify([wo_json(wo) for wo in wos.list_work_orders(
        db, equipment=equipment, status=args.get("status") or None, limit=limit, offset=offset,
        actor=current_actor())])


@bp.get("/work-orders/<int:wo_id>")
@requires()
@doc("One work order with its lockout, routine results and diagnosis", response=WO_SCHEMA)
def get_work_order(wo_id):
    return jsonify(wo_json(_visible(session(), wo_id)))


@bp.post("/work-orders")
@requires()
@doc("Report a breakdown (curative WO, requested)", body_schema={"type": "object", "properties": {
    "equipment": {"type": "string"}, "symptom": {"type": "string"}, "stopped": {"type": "boolean"},
    "kind": {"type": "string"}, "downtime_start": {"type": "string"}}, "required": ["equipment", "symptom"]},
    response=WO_SCHEMA, status=201)
def request_breakdown():
    db, data = session(), body()
    if not data.get("equipment"):
        raise v.ValidationError("Le champ « equipment » est obligatoire.", "equipment")
    equipment, now = eq_services.get_equipment(db, data["equipment"]), clock.now()
    report = inputs.breakdown(data, now)
    return jsonify(wo_json(wos.request_breakdown(db, current_actor(), equipment, report, now))), 201


def _visible(db, wo_id: int) -> WorkOrder:
    return access.visible(db, WorkOrder, current_actor(), wo_id, field="work_order")


def _action(wo_id, fn, change=None):
    """Load the WO, authorise the change (when the body is parsed: before parsing it), call the service."""
    db = session()
    wo = _visible(db, wo_id)
    if change is not None:
        wos.authorise(db, current_actor(), wo, change, clock.now())
    fn(db, wo)
    return jsonify(wo_json(wo))


@bp.post("/work-orders/<int:wo_id>/lockout")
@requires()
@doc("Record lockout steps: {energy, step} or {steps: [...]} (separate, lock, tag, purge, verify), "
     "or {running: true} for a check the plan makes with the machine running", response=WO_SCHEMA,
     body_schema={"type": "object", "properties": {
         "energy": {"type": "string"}, "step": {"type": "string", "enum": list(LOCKOUT_STEPS)},
         "steps": {"type": "array", "items": {"type": "object", "properties": {
             "energy": {"type": "string"}, "step": {"type": "string", "enum": list(LOCKOUT_STEPS)}}}},
         "running": {"type": "boolean"}}})
def lockout(wo_id):
    data = body()
    return _action(wo_id, lambda db, wo: wos.record_lockout(
        db, current_actor(), wo, inputs.lockout(data, wo.equipment.energies), clock.now()), wos.LOCKOUT)


@bp.post("/work-orders/<int:wo_id>/start")
@requires()
@doc("Start the work (409 while the lockout is incomplete)", response=WO_SCHEMA)
def start(wo_id):
    return _action(wo_id, lambda db, wo: wos.start(db, current_actor(), wo, clock.now()))


@bp.post("/work-orders/<int:wo_id>/results")
@requires()
@doc("Routine results: {\"values\": {position: measured | \"ok\"}}", response=WO_SCHEMA,
     body_schema={"type": "object", "required": ["values"], "properties": {"values": {
         "type": "object", "additionalProperties": {"anyOf": [{"type": "number"}, {"type": "string"}]}}}})
def results(wo_id):
    values = body().get("values")
    if not isinstance(values, dict):
        raise v.ValidationError("« values » doit être un objet {position: valeur}.", "values")
    return _action(wo_id, lambda db, wo: wos.record_results(db, current_actor(), wo, inputs.results(values),
                                                            clock.now()), wos.RESULTS)


@bp.post("/work-orders/<int:wo_id>/diagnosis")
@requires()
@doc("Diagnosis of a corrective WO", body_schema={"type": "object", "properties": {
    "symptom": {"type": "string"}, "lost_function": {"type": "string"}, "hypotheses": {"type": "array"},
    "root_cause": {"type": "string"}, "failure_mode": {"type": "string"}, "failure_cause": {"type": "string"},
    "consequences": {"type": "object"}}}, response=WO_SCHEMA)
def diagnosis(wo_id):
    data = body()
    return _action(wo_id, lambda db, wo: wos.record_diagnosis(db, current_actor(), wo, inputs.diagnosis(data),
                                                              clock.now()), wos.DIAGNOSIS)


@bp.post("/work-orders/<int:wo_id>/parts")
@requires()
@doc("Pick spare parts from the store for the WO: {sku, qty, destination}. A shortage reserves nothing, puts the "
     "WO on hold and opens a purchase proposal (answered 200 with picked=false)", body_schema={
    "type": "object", "properties": {"sku": {"type": "string"}, "qty": {"type": "number"},
                                     "destination": {"type": "string"}}, "required": ["sku", "qty", "destination"]},
    response=record({"picked": BOOLEAN, "message": STRING, "pick": nullable(INTEGER),
                     "purchase_proposal": nullable(INTEGER), "work_order": WO_SCHEMA}))
def pick_parts(wo_id):
    db, data, actor, now = session(), body(), current_actor(), clock.now()
    wo = _visible(db, wo_id)
    wos.authorise(db, actor, wo, parts.PARTS, now)
    outcome = parts.pick_parts(db, actor, wo, inputs.parts_request(data), now)
    return jsonify({"picked": outcome.picked, "message": outcome.message, "pick": outcome.pick_id,
                    "purchase_proposal": outcome.proposal_id, "work_order": wo_json(wo)})


@bp.post("/work-orders/<int:wo_id>/finish")
@requires()
@doc("Finish (422 without the report)", body_schema={"type": "object", "properties": {
    "report": {"type": "string"}, "time_spent_min": {"type": "integer"}, "lockout_removed": {"type": "boolean"},
    "tests": {"type": "string"}, "ramp_up": {"type": "string"}, "downtime_end": {"type": "string"}}},
    response=WO_SCHEMA)
def finish(wo_id):
    data = body()
    return _action(wo_id, lambda db, wo: wos.finish(db, current_actor(), wo, inputs.finish(data), clock.now()),
                   wos.FINISH)


@bp.post("/work-orders/<int:wo_id>/close")
@requires("tutor", "admin")
@doc("Close a done WO (tutor or admin); a palliative WO opens its curative follow-up", response=WO_SCHEMA)
def close(wo_id):
    return _action(wo_id, lambda db, wo: wos.close(db, current_actor(), wo, clock.now()))


@bp.get("/kpis")
@requires()
@doc("MTBF, MTTR, availability and preventive compliance over a period", params={
    "equipment": {"type": "string"}, "from": {"type": "string", "format": "date"}, "to": {"type": "string",
                                                                                         "format": "date"}},
    response=KPIS)
def kpis():
    db, now, args = session(), clock.now(), request.args
    ids = [eq_services.get_equipment(db, args["equipment"]).id] if args.get("equipment") else None
    start, end = period(args, now)
    return jsonify(rd.compute_kpis(db, ids, start, end, now).as_dict())


def period(args, now):
    """from/to as Paris days (to inclusive); default: the last 365 days."""
    today = clock.paris_day(now)
    first = v.date_field(args, "from", default=today - timedelta(days=365))
    last = v.date_field(args, "to", default=today)
    if last < first:
        raise v.ValidationError("« to » doit suivre « from ».", "to")
    return clock.days_bounds(first, last)
