"""JSON API of the QSE module under /api/v1/qse."""
from __future__ import annotations

from flask import Response, jsonify, request

from modules.improvement.services import new_action, owner_by_username
from modules.qse import audits, events, inputs, nonconformities as ncs, regulatory, risks
from modules.qse.blueprints import api as bp
from modules.qse.models import EVENT_KINDS, FINDING_KINDS, NC_SEVERITIES, NC_SOURCES
from shopfloor import validation as v
from shopfloor.api import BOOLEAN, INTEGER, NUMBER, STRING, array, body, doc, nullable, record
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.db import session
from shopfloor import clock

ID_STATUS = record({"id": INTEGER, "status": STRING})
NC_JSON = record({
    "id": INTEGER, "status": STRING, "title": STRING, "source": STRING, "severity": STRING, "requirement": STRING,
    "description": STRING, "place": STRING, "quantity": nullable(NUMBER), "cost": NUMBER, "detected_at": STRING,
    "reception_id": nullable(INTEGER), "finding_id": nullable(INTEGER), "immediate_action": STRING,
    "lots": array(record({"lot": STRING, "sku": STRING, "moved_to_quarantine": nullable(NUMBER),
                          "reserved_left": nullable(NUMBER)})),
    "effectiveness": STRING, "effective": nullable(BOOLEAN), "closed_at": nullable(STRING)})
FINDING_JSON = record({"id": INTEGER, "audit_id": INTEGER, "clause": STRING, "kind": STRING, "evidence": STRING,
                       "action_id": nullable(INTEGER), "closed_at": nullable(STRING)})
AUDIT_JSON = record({
    "id": INTEGER, "title": STRING, "process": STRING, "audit_type": STRING, "standards": array(STRING),
    "audit_date": STRING, "status": STRING, "auditors": STRING, "auditees": STRING, "scope": STRING,
    "criteria": STRING, "checklist": array(record({"clause": STRING, "standard": STRING, "question": STRING})),
    "findings": array(FINDING_JSON), "conclusions": STRING})
RISK_JSON = record({
    "id": INTEGER, "score": INTEGER, "level": {"type": "string", "enum": ["low", "medium", "high"]},
    "title": STRING, "process": STRING, "category": STRING, "kind": STRING, "description": STRING,
    "likelihood": INTEGER, "severity": INTEGER, "work_unit": STRING, "hazard": STRING, "existing_measures": STRING,
    "residual_score": nullable(INTEGER), "treatment": STRING, "review_on": nullable(STRING)})
PAGE = {"page": INTEGER, "pages": INTEGER, "total": INTEGER}
NC_BODY = {"type": "object", "required": ["title", "source", "severity", "description"], "properties": {
    "title": {"type": "string"}, "source": {"type": "string", "enum": list(NC_SOURCES)},
    "severity": {"type": "string", "enum": list(NC_SEVERITIES)}, "description": {"type": "string"},
    "lots": {"type": "array", "items": {"type": "string"}, "description": "lot numbers, or SKU:LOT"},
    "requirement": {"type": "string"}, "place": {"type": "string"}, "quantity": {"type": "number"},
    "cost": {"type": "number"}, "detected_at": {"type": "string", "format": "date-time"},
    "reception_id": {"type": "integer"}}}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# -- non-conformities ------------------------------------------------------------------

@bp.get("/nonconformities")
@requires()
@doc("The non-conformity register, filtered and paginated (50 a page)",
     params={"status": {"type": "string"}, "severity": {"type": "string"}, "source": {"type": "string"},
             "q": {"type": "string"}, "page": {"type": "integer"}},
     response=record({**PAGE, "items": array(record({"id": INTEGER, "title": STRING, "status": STRING,
                                                     "severity": STRING, "source": STRING, "detected_at": STRING}))}))
def list_nonconformities():
    args = request.args
    number = v.page_number(args)
    result = ncs.register(session(), current_actor(), page=number, **inputs.nc_filters(args))
    return jsonify({"page": result.page, "pages": result.pages, "total": result.total,
                    "items": [{"id": nc.id, "title": nc.title, "status": nc.status, "severity": nc.severity,
                               "source": nc.source, "detected_at": nc.detected_at.isoformat()} for nc in result.rows]})


@bp.post("/nonconformities")
@requires()
@doc("Open a non-conformity (lots: the suspect lots, quarantined by /contain)", body_schema=NC_BODY,
     response=ID_STATUS, status=201)
def create_nonconformity():
    db, data, now = session(), body(), clock.now()
    reception_id = v.identifier(data, "reception_id", required=False)
    reception, draft = ncs.reception_draft(db, reception_id) if reception_id is not None else (None, None)
    if draft is not None:
        data = {k: val for k, val in data.items() if k != "reception_id"}
    nc = ncs.create_nonconformity(db, current_actor(), inputs.nonconformity(data, now, draft), now,
                                  reception=reception)
    return jsonify({"id": nc.id, "status": nc.status}), 201


@bp.get("/nonconformities/<int:nc_id>")
@requires()
@doc("One non-conformity, with its lots and what containment moved",
     response=record({**NC_JSON["properties"], "closure_missing": array(STRING)}))
def get_nonconformity(nc_id: int):
    db = session()
    nc = ncs.get_nonconformity(db, current_actor(), nc_id)
    return jsonify(ncs.as_json(nc) | {"closure_missing": ncs.closure_missing(db, nc) if nc.status != "closed" else []})


@bp.post("/nonconformities/<int:nc_id>/contain")
@requires()
@doc("Containment: move the free stock of the named lots to quarantine (reserved stock is reported, not moved)",
     body_schema={"type": "object", "properties": {"immediate_action": {"type": "string"}}}, response=NC_JSON)
def contain_nonconformity(nc_id: int):
    db, data = session(), body()
    nc = ncs.contain(db, current_actor(), ncs.get_nonconformity(db, current_actor(), nc_id), clock.now(),
                     inputs.immediate_action(data))
    return jsonify(ncs.as_json(nc))


@bp.post("/nonconformities/<int:nc_id>/effectiveness")
@requires()
@doc("Record the effectiveness check", body_schema={"type": "object", "required": ["effectiveness", "effective"],
     "properties": {"effectiveness": {"type": "string"}, "effective": {"type": "boolean"}}}, response=ID_STATUS)
def nonconformity_effectiveness(nc_id: int):
    db = session()
    nc, data = ncs.get_nonconformity(db, current_actor(), nc_id), body()
    ncs.check_open(db, current_actor(), nc)
    ncs.record_effectiveness(db, current_actor(), nc, inputs.effectiveness(data), clock.now())
    return jsonify({"id": nc.id, "status": nc.status})


@bp.post("/nonconformities/<int:nc_id>/actions")
@requires()
@doc("Plan an action whose origin is the non-conformity", body_schema={
    "type": "object", "required": ["title", "deliverable", "owner", "due"], "properties": {
        "title": {"type": "string"}, "deliverable": {"type": "string"}, "owner": {"type": "string"},
        "due": {"type": "string", "format": "date"}, "kind": {"type": "string"}}}, response=ID_STATUS, status=201)
def nonconformity_action(nc_id: int):
    db, data = session(), body()
    nc = ncs.get_nonconformity(db, current_actor(), nc_id)
    action = ncs.plan_action(db, current_actor(), nc, new_action(data),
                             owner=owner_by_username(db, data.get("owner")), now=clock.now())
    return jsonify({"id": action.id, "status": action.status}), 201


@bp.post("/nonconformities/<int:nc_id>/close")
@requires()
@doc("Close the non-conformity; 409 lists what is missing", response=ID_STATUS)
def close_nonconformity(nc_id: int):
    db = session()
    nc = ncs.close(db, current_actor(), ncs.get_nonconformity(db, current_actor(), nc_id), clock.now())
    return jsonify({"id": nc.id, "status": nc.status})


# -- audits ----------------------------------------------------------------------------

@bp.post("/audits")
@requires()
@doc("Create an audit; its checklist is built from the clauses of the chosen standards", body_schema={
    "type": "object", "required": ["process"], "properties": {
        "title": {"type": "string"}, "process": {"type": "string"},
        "audit_type": {"type": "string", "enum": ["documentary", "process", "traceability", "system"]},
        "standards": {"type": "array", "items": {"type": "string", "enum": ["iso9001", "iso14001", "iso45001"]}},
        "clauses": {"type": "array", "items": {"type": "string"}}, "questions": {"type": "array"},
        "scope": {"type": "string"}, "criteria": {"type": "string"}, "auditors": {"type": "string"},
        "auditees": {"type": "string"}, "audit_date": {"type": "string", "format": "date"},
        "duration_hours": {"type": "number"}, "programme_entry": {"type": "integer"}}}, response=ID_STATUS, status=201)
def create_audit():
    now = clock.now()
    audit = audits.create_audit(session(), current_actor(), inputs.audit(body(), now), now)
    return jsonify({"id": audit.id, "status": audit.status}), 201


@bp.get("/audits/<int:audit_id>")
@requires()
@doc("One audit with its checklist and findings", response=AUDIT_JSON)
def get_audit(audit_id: int):
    return jsonify(audits.audit_json(audits.get_audit(session(), current_actor(), audit_id)))


@bp.post("/audits/<int:audit_id>/findings")
@requires()
@doc("Add a finding to an audit", body_schema={"type": "object", "required": ["clause", "kind", "evidence"],
     "properties": {"clause": {"type": "string"}, "kind": {"type": "string", "enum": list(FINDING_KINDS)},
                    "evidence": {"type": "string"}}},
     response=FINDING_JSON, status=201)
def add_finding(audit_id: int):
    db = session()
    audit, data = audits.get_audit(db, current_actor(), audit_id), body()
    audits.check_open(current_actor(), audit)
    spec = inputs.finding(data, audits.known_clauses(audit), audit.standards)
    finding = audits.add_finding(db, current_actor(), audit, spec, clock.now())
    return jsonify(audits.finding_json(finding)), 201


@bp.post("/audits/<int:audit_id>/findings/<int:finding_id>/nonconformity")
@requires()
@doc("Open a non-conformity from a finding, in one step (the body may override what the finding says)",
     body_schema={key: value for key, value in NC_BODY.items() if key != "required"}, response=ID_STATUS,
     status=201)
def finding_nonconformity(audit_id: int, finding_id: int):
    db = session()
    audit = audits.get_audit(db, current_actor(), audit_id)
    finding, now, data = audits.get_finding(db, current_actor(), audit, finding_id), clock.now(), body()
    draft = audits.finding_draft(db, current_actor(), audit, finding)
    nc = ncs.create_nonconformity(db, current_actor(), inputs.nonconformity(data, now, draft), now, finding=finding)
    return jsonify({"id": nc.id, "status": nc.status}), 201


@bp.post("/audits/<int:audit_id>/findings/<int:finding_id>/action")
@requires()
@doc("Open an action from a finding, in one step", body_schema={"type": "object", "required": ["owner", "due"],
     "properties": {"owner": {"type": "string"}, "due": {"type": "string", "format": "date"},
                    "title": {"type": "string"}, "deliverable": {"type": "string"}}}, response=ID_STATUS, status=201)
def finding_action(audit_id: int, finding_id: int):
    db, data = session(), body()
    audit = audits.get_audit(db, current_actor(), audit_id)
    action = audits.finding_to_action(db, current_actor(), audit, audits.get_finding(db, current_actor(), audit,
                                                                                     finding_id),
                                      owner=owner_by_username(db, data.get("owner")), due=v.date_field(data, "due"),
                                      now=clock.now(), title=v.text(data, "title", required=False),
                                      deliverable=v.text(data, "deliverable", required=False, max_length=500))
    return jsonify({"id": action.id, "status": action.status}), 201


@bp.post("/audits/<int:audit_id>/finish")
@requires()
@doc("Finish the audit with its conclusions", body_schema={"type": "object", "required": ["conclusions"],
     "properties": {"conclusions": {"type": "string"}}}, response=ID_STATUS)
def finish_audit(audit_id: int):
    db = session()
    audit, data = audits.get_audit(db, current_actor(), audit_id), body()
    audits.check_finishable(current_actor(), audit)
    conclusions = {"conclusions": data.get("conclusions") or ""}   # null is a missing conclusion
    audits.finish(db, current_actor(), audit, inputs.audit_conclusions(conclusions))
    return jsonify({"id": audit.id, "status": audit.status})


@bp.get("/audits/<int:audit_id>/report.docx")
@requires()
@doc("The audit report (DOCX): findings by clause, conclusions, opportunities",
     media={DOCX: {"type": "string", "format": "binary"}})
def audit_report(audit_id: int):
    audit = audits.get_audit(session(), current_actor(), audit_id)
    return Response(audits.report_docx(audit), mimetype=DOCX,
                    headers={"Content-Disposition": f'attachment; filename="audit-{audit.id}.docx"'})


# -- risks, events, regulatory watch ------------------------------------------------------------

@bp.post("/risks")
@requires()
@doc("Record a risk (score = likelihood × severity)", body_schema={
    "type": "object", "required": ["process", "description", "likelihood", "severity"], "properties": {
        "process": {"type": "string"}, "description": {"type": "string"},
        "likelihood": {"type": "integer", "minimum": 1, "maximum": 4},
        "severity": {"type": "integer", "minimum": 1, "maximum": 4},
        "category": {"type": "string", "enum": ["quality", "ohs", "environment"]},
        "kind": {"type": "string", "enum": ["risk", "opportunity"]}, "work_unit": {"type": "string"},
        "hazard": {"type": "string"}, "existing_measures": {"type": "string"},
        "residual_likelihood": {"type": "integer"}, "residual_severity": {"type": "integer"},
        "treatment": {"type": "string"}, "review_on": {"type": "string", "format": "date"}}},
     response=record({"id": INTEGER, "score": INTEGER, "level": RISK_JSON["properties"]["level"]}), status=201)
def create_risk():
    risk = risks.create_risk(session(), current_actor(), inputs.risk(body()), clock.now())
    return jsonify({"id": risk.id, "score": risk.score, "level": risks.level(risk.score)}), 201


@bp.get("/risks")
@requires()
@doc("The risk register, filtered and paginated", params={"category": {"type": "string"},
     "process": {"type": "string"}, "min_score": {"type": "integer"}, "page": {"type": "integer"}},
     response=record({**PAGE, "items": array(RISK_JSON)}))
def list_risks():
    args = request.args
    min_score = v.integer(args, "min_score", required=False, minimum=1, maximum=16)
    number = v.page_number(args)
    result = risks.register(session(), current_actor(), category=inputs.risk_category(args),
                            process=args.get("process", ""), min_score=min_score, page=number)
    return jsonify({"page": result.page, "pages": result.pages, "total": result.total,
                    "items": [risks.as_json(r) for r in result.rows]})


@bp.post("/events")
@requires()
@doc("Report a safety event", body_schema={"type": "object", "required": ["kind", "at", "description"],
     "properties": {"kind": {"type": "string", "enum": list(EVENT_KINDS)}, "at": {"type": "string",
                    "format": "date-time"}, "description": {"type": "string"}, "place": {"type": "string"},
                    "lost_days": {"type": "integer"}}}, response=record({
                        "id": INTEGER, "kind": STRING, "at": STRING, "description": STRING, "place": STRING,
                        "lost_days": INTEGER, "team_id": nullable(INTEGER),
                        "days_without_accident": nullable(INTEGER)}), status=201)
def create_event():
    db, now, actor = session(), clock.now(), current_actor()
    event = events.create_event(db, actor, inputs.event(body(), now), now)
    days = events.days_without_accident(db, clock.paris_day(now), actor.team_id)
    return jsonify(events.as_json(event) | {"days_without_accident": days}), 201


@bp.post("/regulatory")
@requires()
@doc("Add a text to the regulatory watch", body_schema={"type": "object", "required": ["reference", "title",
     "domain"], "properties": {name: {"type": "string"} for name in regulatory.FIELDS}},
     response=record({"id": INTEGER, **{name: nullable(STRING) if name in ("published_on", "next_review") else STRING
                                        for name in regulatory.FIELDS}}), status=201)
def create_regulatory_text():
    regulatory.check_may_edit(current_actor())
    text = regulatory.save_text(session(), current_actor(), inputs.regulatory_text(body()))
    return jsonify(regulatory.as_json(text)), 201
