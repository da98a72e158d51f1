"""JSON API of the improvement module under /api/v1/improvement."""
from __future__ import annotations

from flask import jsonify, request

from modules.improvement import inputs, services
from modules.improvement.models import Action, ProblemSheet
from shopfloor.origins import describe, parse_origin
from shopfloor import access
from shopfloor import validation as v
from shopfloor.api import (BOOLEAN, INTEGER, NUMBER, OBJECT, STRING, api_blueprint, array, body, doc, nullable,
                           record)
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.auth.services import get_user
from shopfloor.db import session
from shopfloor import clock
from shopfloor.errors import ValidationError

bp = api_blueprint("improvement_api", "/improvement")

ORIGIN = {"type": ["object", "null"], "properties": {"type": {"type": "string"}, "id": {"type": "integer"}}}
EFFECTIVENESS = {"type": "object", "properties": {"indicator": {"type": "string"}, "before": {"type": "number"},
                                                  "target": {"type": "number"}, "after": {"type": "number"},
                                                  "checked_on": {"type": "string", "format": "date"}}}
ORIGIN_SEEN = nullable(record({"type": STRING, "id": INTEGER, "label": STRING, "title": STRING, "url": STRING},
                              optional=("label", "title", "url")))
ACTION = record({
    "id": INTEGER, "title": STRING, "deliverable": STRING, "owner": STRING, "due": STRING,
    "status": {"type": "string", "enum": ["todo", "in_progress", "done", "abandoned"]}, "follow_up": STRING,
    "late": BOOLEAN, "pdca": STRING, "kind": STRING, "team_id": nullable(INTEGER), "plan_id": nullable(INTEGER),
    "planned_start": STRING, "started_on": nullable(STRING), "done_on": nullable(STRING),
    "abandon_reason": nullable(STRING), "origin": ORIGIN_SEEN,
    "effectiveness": record({"indicator": nullable(STRING), "before": nullable(NUMBER), "target": nullable(NUMBER),
                             "after": nullable(NUMBER), "checked_on": nullable(STRING),
                             "checked_by": nullable(STRING), "effective": nullable(BOOLEAN)})})
ID_STATUS = record({"id": INTEGER, "status": STRING})


def action_dict(action, today) -> dict:
    return {"id": action.id, "title": action.title, "deliverable": action.deliverable,
            "owner": action.owner.username, "due": action.due.isoformat(), "status": action.status,
            "follow_up": action.follow_up(today), "late": action.is_late(today), "pdca": action.pdca,
            "kind": action.kind, "team_id": action.team_id, "plan_id": action.plan_id,
            "planned_start": action.planned_start.isoformat(),
            "started_on": action.started_on.isoformat() if action.started_on else None,
            "done_on": action.done_on.isoformat() if action.done_on else None,
            "abandon_reason": action.abandon_reason or None,
            "origin": {"type": action.origin_type, "id": action.origin_id} if action.origin_type else None,
            "effectiveness": {"indicator": action.eff_indicator or None, "before": action.eff_before,
                              "target": action.eff_target, "after": action.eff_after,
                              "checked_on": action.eff_checked_on.isoformat() if action.eff_checked_on else None,
                              "checked_by": action.eff_checked_by.username if action.eff_checked_by else None,
                              "effective": action.effective}}


def _int_or_none(data: dict, field: str) -> int | None:
    return v.identifier(data, field, required=False)


@bp.post("/actions")
@requires()
@doc("Create an action (owner = username; origin = any registered record or null)",
     body_schema={"type": "object", "required": ["title", "deliverable", "owner", "due"], "properties": {
         "title": {"type": "string"}, "deliverable": {"type": "string"}, "owner": {"type": "string"},
         "due": {"type": "string", "format": "date"}, "origin": ORIGIN, "plan_id": {"type": "integer"},
         "pdca": {"type": "string", "enum": ["plan", "do", "check", "act"]},
         "kind": {"type": "string", "enum": ["containment", "corrective", "standardisation"]},
         "planned_start": {"type": "string", "format": "date"}}},
     response=ID_STATUS, status=201)
def create_action():
    data, db = body(), session()
    action = services.create_action(
        db, current_actor(), inputs.new_action(data), owner=services.owner_by_username(db, data.get("owner")),
        now=clock.now(), origin=parse_origin(data.get("origin")), plan_id=_int_or_none(data, "plan_id"))
    return jsonify({"id": action.id, "status": action.status}), 201


@bp.get("/actions")
@requires()
@doc("Actions I may see, most urgent first (status=late|open|done|…, owner=username, limit, offset)",
     params={"status": {"type": "string"}, "owner": {"type": "string"}, "limit": {"type": "integer"},
             "offset": {"type": "integer"}},
     response=record({"actions": array(ACTION)}))
def list_actions():
    db, today, args = session(), clock.paris_day(), request.args
    owner = get_user(db, args["owner"]) if args.get("owner") else None
    rows = services.list_actions(db, current_actor(), today, status=args.get("status") or None, owner=owner,
                                 limit=v.integer(args, "limit", required=False, minimum=1, maximum=500) or 200,
                                 offset=v.integer(args, "offset", required=False, minimum=0) or 0)
    return jsonify({"actions": [action_dict(a, today) for a in rows]})


@bp.get("/actions/<int:action_id>")
@requires()
@doc("One action with its follow-up and effectiveness", response=ACTION)
def get_action(action_id: int):
    action = access.visible(session(), Action, current_actor(), action_id, field="action_id")
    result = action_dict(action, clock.paris_day())
    result["origin"] = describe(session(), action.origin_type, action.origin_id)
    return jsonify(result)


@bp.patch("/actions/<int:action_id>")
@requires()
@doc("Change an action's status (abandoned needs abandon_reason), due date or effectiveness check",
     body_schema={"type": "object", "properties": {
         "status": {"type": "string", "enum": ["todo", "in_progress", "done", "abandoned"]},
         "abandon_reason": {"type": "string"}, "due": {"type": "string", "format": "date"},
         "effectiveness": EFFECTIVENESS}}, response=ACTION)
def patch_action(action_id: int):
    data, db = body(), session()
    action = access.visible(db, Action, current_actor(), action_id, field="action_id")
    unknown = set(data) - {"status", "abandon_reason", "reason", "due", "effectiveness"}
    if unknown:
        raise ValidationError(f"Champ inconnu : {', '.join(sorted(unknown))}.", sorted(unknown)[0])
    if data.get("effectiveness") is not None and not isinstance(data["effectiveness"], dict):
        raise ValidationError("« effectiveness » doit être un objet.", "effectiveness")
    status = v.choice(data, "status", ("todo", "in_progress", "done", "abandoned"), required=False)
    reason = (v.text(data, "abandon_reason", required=False, max_length=2000)
              or v.text(data, "reason", required=False, max_length=2000))
    due = v.date_field(data, "due", required=False)
    check = inputs.effectiveness(data["effectiveness"]) if data.get("effectiveness") is not None else None
    services.update_action(db, current_actor(), action, clock.now(), status=status, abandon_reason=reason, due=due,
                           effectiveness=check)
    return jsonify(action_dict(action, clock.paris_day()))


# -- problem sheets -------------------------------------------------------------------

def problem_dict(db, sheet) -> dict:
    today = clock.paris_day()
    return {"id": sheet.id, "title": sheet.title, "method": sheet.method, "status": sheet.status,
            "author": sheet.author.username, "team_id": sheet.team_id,
            "origin": describe(db, sheet.origin_type, sheet.origin_id),
            "qqoqccp": {key: getattr(sheet, key) for key, _ in services.QQOQCCP},
            "team_members": sheet.team_members, "data_note": sheet.data_note, "pareto": sheet.pareto,
            "causes": [{"id": c.id, "category": c.category, "text": c.text, "weight": c.weight}
                       for c in services.ranked_causes(sheet)],
            "chosen_cause_id": sheet.chosen_cause_id,
            "whys": [{"position": w.position, "question": w.question, "answer": w.answer} for w in sheet.whys],
            "root_cause": sheet.root_cause, "standardisation": sheet.standardisation,
            "effectiveness": sheet.effectiveness, "effective": sheet.effective,
            "actions": [action_dict(a, today) for a in services.sheet_actions(db, sheet)],
            "closure_missing": services.closure_missing(db, sheet) if sheet.status == "open" else [],
            "closed_at": sheet.closed_at.isoformat() if sheet.closed_at else None}


CAUSE = record({"id": INTEGER, "category": STRING, "text": STRING, "weight": INTEGER})
WHY = record({"position": INTEGER, "question": STRING, "answer": STRING})
PROBLEM = record({
    "id": INTEGER, "title": STRING, "method": STRING, "status": {"type": "string", "enum": ["open", "closed"]},
    "author": STRING, "team_id": nullable(INTEGER), "origin": ORIGIN_SEEN,
    "qqoqccp": record({key: STRING for key, _ in services.QQOQCCP}), "team_members": STRING, "data_note": STRING,
    "pareto": nullable(OBJECT), "causes": array(CAUSE), "chosen_cause_id": nullable(INTEGER), "whys": array(WHY),
    "root_cause": STRING, "standardisation": STRING, "effectiveness": STRING, "effective": nullable(BOOLEAN),
    "actions": array(ACTION), "closure_missing": array(STRING), "closed_at": nullable(STRING)})


@bp.post("/problems")
@requires()
@doc("Open a problem sheet (method PDCA, DMAIC, QRQC, 8D or A3), optionally from a record and a Pareto",
     body_schema={"type": "object", "required": ["title", "method"], "properties": {
         "title": {"type": "string"}, "method": {"type": "string", "enum": ["PDCA", "DMAIC", "QRQC", "8D", "A3"]},
         "what": {"type": "string"}, "origin": ORIGIN,
         "pareto": {"type": "object", "properties": {"label": {"type": "string"}, "items": {"type": "array"}}}}},
     response=PROBLEM, status=201)
def create_problem():
    data, db = body(), session()
    sheet = services.create_problem(db, current_actor(), inputs.new_problem(data), now=clock.now(),
                                    origin=parse_origin(data.get("origin")))
    return jsonify(problem_dict(db, sheet)), 201


@bp.get("/problems/<int:problem_id>")
@requires()
@doc("A problem sheet with its causes, 5 pourquoi, actions and what still prevents closing it", response=PROBLEM)
def get_problem(problem_id: int):
    db = session()
    return jsonify(problem_dict(db, access.visible(db, ProblemSheet, current_actor(), problem_id, field="problem_id")))


@bp.patch("/problems/<int:problem_id>")
@requires()
@doc("Update the sheet (qui, quoi, ou, quand, comment, combien, pourquoi, team_members, data_note, pareto, "
     "chosen_cause_id, root_cause, standardisation, effectiveness, effective, title, method)",
     body_schema={"type": "object"}, response=PROBLEM)
def patch_problem(problem_id: int):
    data, db = body(), session()
    sheet = access.visible(db, ProblemSheet, current_actor(), problem_id, field="problem_id")
    services.check_may_edit(current_actor(), sheet)
    services.update_problem(db, current_actor(), sheet, inputs.sheet_changes(data))
    return jsonify(problem_dict(db, sheet))


@bp.post("/problems/<int:problem_id>/causes")
@requires()
@doc("Add an Ishikawa cause (category: matiere, milieu, methodes, materiel, main_oeuvre)",
     body_schema={"type": "object", "required": ["category", "text"], "properties": {
         "category": {"type": "string"}, "text": {"type": "string"}}},
     response=CAUSE, status=201)
def add_cause(problem_id: int):
    data, db = body(), session()
    sheet = access.visible(db, ProblemSheet, current_actor(), problem_id, field="problem_id")
    cause = services.add_cause(db, current_actor(), sheet, inputs.cause(data))
    return jsonify({"id": cause.id, "category": cause.category, "text": cause.text, "weight": cause.weight}), 201


@bp.route("/problems/<int:problem_id>/causes/<int:cause_id>/votes", methods=["POST", "DELETE"])
@requires()
@doc("Add (POST) or take back (DELETE) a vote (bâton) for a cause; voter = a colleague's name on a shared tablet",
     body_schema={"type": "object", "properties": {"voter": {"type": "string"}}},
     response=record({"id": INTEGER, "weight": INTEGER}))
def cause_votes(problem_id: int, cause_id: int):
    data, db = body(), session()
    sheet = access.visible(db, ProblemSheet, current_actor(), problem_id, field="problem_id")
    cause = services.sheet_cause(sheet, cause_id)
    voter = inputs.voter(data)
    if request.method == "DELETE":
        services.unvote(db, current_actor(), sheet, cause, voter)
    else:
        services.vote(db, current_actor(), sheet, cause, clock.now(), voter)
    return jsonify({"id": cause.id, "weight": cause.weight})


@bp.post("/problems/<int:problem_id>/whys")
@requires()
@doc("Add the next link of the 5 pourquoi chain (from the chosen cause)",
     body_schema={"type": "object", "required": ["answer"], "properties": {
         "question": {"type": "string"}, "answer": {"type": "string"}}},
     response=record({**WHY["properties"], "root_cause": STRING}), status=201)
def add_why(problem_id: int):
    data, db = body(), session()
    sheet = access.visible(db, ProblemSheet, current_actor(), problem_id, field="problem_id")
    why = inputs.why(data)
    why = services.add_why(db, current_actor(), sheet, why.answer, why.question)
    return jsonify({"position": why.position, "question": why.question, "answer": why.answer,
                    "root_cause": sheet.root_cause}), 201


@bp.route("/problems/<int:problem_id>/actions", methods=["GET", "POST"])
@requires()
@doc("The sheet's actions (GET) or plan one (POST; kind containment, corrective or standardisation)",
     body_schema={"type": "object", "required": ["title", "deliverable", "owner", "due"], "properties": {
         "title": {"type": "string"}, "deliverable": {"type": "string"}, "owner": {"type": "string"},
         "due": {"type": "string", "format": "date"}, "kind": {"type": "string"}, "pdca": {"type": "string"}}},
     response=ID_STATUS, status=201, methods={"GET": {"response": record({"actions": array(ACTION)}), "status": 200}})
def problem_actions(problem_id: int):
    db = session()
    sheet = access.visible(db, ProblemSheet, current_actor(), problem_id, field="problem_id")
    if request.method == "GET":
        today = clock.paris_day()
        return jsonify({"actions": [action_dict(a, today) for a in services.sheet_actions(db, sheet)]})
    data = body()
    action = services.add_problem_action(
        db, current_actor(), sheet, inputs.new_action(data), owner=services.owner_by_username(db, data.get("owner")),
        now=clock.now())
    return jsonify({"id": action.id, "status": action.status}), 201


@bp.post("/problems/<int:problem_id>/close")
@requires()
@doc("Close the sheet; 409 saying what is missing (unfinished actions, effectiveness not recorded)",
     response=record({"id": INTEGER, "status": STRING, "closed_at": STRING}))
def close_problem(problem_id: int):
    db = session()
    sheet = access.visible(db, ProblemSheet, current_actor(), problem_id, field="problem_id")
    services.close_problem(db, current_actor(), sheet, clock.now())
    return jsonify({"id": sheet.id, "status": sheet.status, "closed_at": sheet.closed_at.isoformat()})


# -- decisions and ideas ------------------------------------------------------------------

@bp.post("/decisions")
@requires()
@doc("A weighted multi-criteria matrix; each option may carry cost and expected annual gain (ROI, payback)",
     body_schema={"type": "object", "required": ["title", "criteria", "options"], "properties": {
         "title": {"type": "string"}, "question": {"type": "string"}, "chosen": {"type": "string"},
         "criteria": {"type": "array", "items": {"type": "object", "properties": {
             "name": {"type": "string"}, "weight": {"type": "number"}}}},
         "options": {"type": "array", "items": {"type": "object", "properties": {
             "name": {"type": "string"}, "scores": {"type": "array", "items": {"type": "number"}},
             "cost": {"type": "number"}, "gain": {"type": "number"}}}}}},
     response=record({"id": INTEGER, "ranking": array(record({
         "name": STRING, "score": NUMBER, "rank": INTEGER, "cost": nullable(NUMBER), "gain": nullable(NUMBER),
         "roi_pct": nullable(NUMBER), "payback_months": nullable(NUMBER)}))}), status=201)
def create_decision():
    data, db = body(), session()
    study = services.create_decision(db, current_actor(), clock.now(), inputs.decision(data))
    return jsonify({"id": study.id, "ranking": [r.__dict__ for r in services.ranking(study.criteria, study.options)]}), 201


@bp.post("/ideas")
@requires()
@doc("Drop an idea in the idea box", body_schema={"type": "object", "required": ["title"], "properties": {
    "title": {"type": "string"}, "description": {"type": "string"}}},
     response=ID_STATUS, status=201)
def create_idea():
    data = body()
    idea = services.submit_idea(session(), current_actor(), clock.now(), inputs.idea(data))
    return jsonify({"id": idea.id, "status": idea.status}), 201
