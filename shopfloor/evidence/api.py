"""JSON endpoints of the spine: activities, evidence, reviews, coverage, reports."""
from __future__ import annotations

import io

from flask import current_app, jsonify, request, send_file

from shopfloor.api import BOOLEAN, INTEGER, STRING, api_blueprint, array, body, doc, nullable, record
from shopfloor import access
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.auth.services import visible_apprentice
from shopfloor.db import session
from shopfloor import clock
from shopfloor.errors import ValidationError
from shopfloor.evidence import cancellation, context, queries, services
from shopfloor.evidence.exports import report_certification
from shopfloor.evidence.models import Activity, Evidence
from shopfloor import validation as v

bp = api_blueprint("evidence_api")


def _activity(db, activity_id: int) -> Activity:
    """The activity if the token's user may see it (its author, the author's tutor, admins), else a 404."""
    return access.visible(db, Activity, current_actor(), activity_id, field="activity_id",
                          options=services.WITH_FILES)


def _evidence(db, evidence_id: int) -> Evidence:
    return access.visible(db, Evidence, current_actor(), evidence_id, field="evidence_id")

ACTIVITY_SCHEMA = {"type": "object", "properties": {
    "type": {"type": "string", "enum": ["generic"]}, "title": {"type": "string"},
    "performed_at": {"type": "string", "format": "date-time"}, "description": {"type": "string"}},
    "required": ["title", "performed_at"]}
EVIDENCE_JSON = record({
    "id": INTEGER, "activity_id": INTEGER, "competence": STRING, "statement": STRING,
    "state": {"type": "string", "enum": ["draft", "submitted", "validated", "returned"]},
    "submitted_at": nullable(STRING),
    "review": nullable(record({"decision": STRING, "comment": STRING, "at": STRING, "reviewer": STRING,
                               "criteria": array(INTEGER)}))})
ATTACHMENT_JSON = record({"id": INTEGER, "filename": STRING, "content_type": STRING, "size": INTEGER})
ACTIVITY_JSON = record({
    "id": INTEGER, "type": STRING, "title": STRING, "description": STRING, "performed_at": STRING, "author": STRING,
    "site": nullable(STRING), "team": nullable(STRING), "frozen": BOOLEAN,
    "cancelled": nullable(record({"at": STRING, "by": nullable(STRING), "reason": nullable(STRING)})),
    "attachments": array(ATTACHMENT_JSON), "evidence": array(EVIDENCE_JSON)})
DELETED = record({"deleted": INTEGER})


def activity_json(activity) -> dict:
    return {
        "id": activity.id, "type": activity.type, "title": activity.title, "description": activity.description,
        "performed_at": activity.performed_at.isoformat(), "author": activity.author.username,
        "site": activity.site.name if activity.site else None, "team": activity.team.name if activity.team else None,
        "frozen": services.frozen_reason(activity) is not None,
        "cancelled": None if activity.activity_cancelled_at is None else {
            "at": activity.activity_cancelled_at.isoformat(),
            "by": activity.cancelled_by.username if activity.cancelled_by else None,
            "reason": activity.cancel_reason},
        "attachments": [{"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size}
                        for a in activity.attachments],
        "evidence": [evidence_json(e) for e in activity.evidence],
    }


def evidence_json(evidence) -> dict:
    last = evidence.last_review
    return {"id": evidence.id, "activity_id": evidence.activity_id, "competence": evidence.competence.code,
            "statement": evidence.statement, "state": evidence.state,
            "submitted_at": evidence.submitted_at.isoformat() if evidence.submitted_at else None,
            "review": None if last is None else {
                "decision": last.decision, "comment": last.comment, "at": last.at.isoformat(),
                "reviewer": last.reviewer.username, "criteria": [c.id for c in last.criteria]}}


@bp.post("/activities")
@requires()
@doc("Record a generic activity (modules create theirs through their own endpoints)", body_schema=ACTIVITY_SCHEMA,
     response=ACTIVITY_JSON, status=201)
def create_activity():
    data = body()
    v.choice(data, "type", ("generic",), default="generic")
    activity = services.create_activity(
        session(), current_actor(), title=v.text(data, "title"), performed_at=v.datetime_field(data, "performed_at"),
        description=v.text(data, "description", required=False, max_length=20000), now=clock.now())
    return jsonify(activity_json(activity)), 201


@bp.get("/activities/<int:activity_id>")
@requires()
@doc("One activity with its attachments and evidence", response=ACTIVITY_JSON)
def get_activity(activity_id: int):
    return jsonify(activity_json(_activity(session(), activity_id)))


@bp.patch("/activities/<int:activity_id>")
@requires()
@doc("Edit an activity; 409 once it has validated evidence", body_schema={"type": "object", "properties": {
    "title": {"type": "string"}, "performed_at": {"type": "string"}, "description": {"type": "string"}}},
    response=ACTIVITY_JSON)
def patch_activity(activity_id: int):
    db = session()
    data = body()
    activity = _activity(db, activity_id)
    changes = {}
    if "title" in data:
        changes["title"] = v.text(data, "title")
    if "performed_at" in data:
        changes["performed_at"] = v.datetime_field(data, "performed_at")
    if "description" in data:
        changes["description"] = v.text(data, "description", required=False, max_length=20000)
    services.update_activity(db, current_actor(), activity, clock.now(), **changes)
    return jsonify(activity_json(activity))


@bp.delete("/activities/<int:activity_id>")
@requires()
@doc("Delete an activity with no effects outside itself (a draft); 409 when it has some (cancel it "
     "instead), once it is cancelled, or once it has validated evidence", response=DELETED)
def delete_activity(activity_id: int):
    db = session()
    services.delete_activity(db, current_actor(), _activity(db, activity_id),
                             cancellation.registered_effects())
    return jsonify({"deleted": activity_id})


@bp.post("/activities/<int:activity_id>/cancel")
@requires()
@doc("Cancel an activity (its author): its effects are reversed (reversing stock moves, released reservations, "
     "abandoned actions) in the same transaction and it records who, when and why; 409 when already cancelled "
     "or frozen by validated evidence", body_schema={"type": "object", "properties": {
         "reason": {"type": "string", "minLength": 1, "maxLength": 500}}, "required": ["reason"]},
     response=ACTIVITY_JSON)
def cancel_activity(activity_id: int):
    db = session()
    activity = _activity(db, activity_id)
    cancellation.cancel_activity(db, current_actor(), activity, body().get("reason"), clock.now(),
                                 cancellation.registered_effects())
    return jsonify(activity_json(activity))


@bp.post("/activities/<int:activity_id>/attachments")
@requires()
@doc("Attach a photo or PDF (multipart/form-data, field `file`)", body_media="multipart/form-data",
     body_schema={"type": "object", "required": ["file"], "properties": {"file": {"type": "string",
                                                                                   "format": "binary"}}},
     response=record({**ATTACHMENT_JSON["properties"], "sha256": STRING}), status=201)
def add_attachment(activity_id: int):
    db = session()
    upload = request.files.get("file")
    if upload is None:
        raise ValidationError("Joignez un fichier (champ « file »).", "file")
    activity = _activity(db, activity_id)
    attachment = services.add_attachment(db, current_actor(), activity, upload.filename, upload.read(),
                                         context.upload_dir(), current_app.config["UPLOAD_MAX_BYTES"])
    return jsonify({"id": attachment.id, "filename": attachment.filename, "content_type": attachment.content_type,
                    "size": attachment.size, "sha256": attachment.sha256}), 201


@bp.post("/evidence")
@requires("apprentice")
@doc("Link an activity to a competence (a draft piece of evidence)", body_schema={"type": "object", "properties": {
    "activity_id": {"type": "integer"}, "competence": {"type": "string", "example": "LOG-2"},
    "statement": {"type": "string"}}, "required": ["activity_id", "competence"]},
    response=EVIDENCE_JSON, status=201)
def create_evidence():
    db = session()
    data = body()
    activity = _activity(db, v.identifier(data, "activity_id"))
    evidence = services.link_competence(db, current_actor(), activity, v.text(data, "competence", max_length=16),
                                        v.text(data, "statement", required=False, max_length=5000), clock.now())
    return jsonify(evidence_json(evidence)), 201


@bp.get("/evidence/<int:evidence_id>")
@requires()
@doc("One piece of evidence with its last review", response=EVIDENCE_JSON)
def get_evidence(evidence_id: int):
    return jsonify(evidence_json(_evidence(session(), evidence_id)))


@bp.patch("/evidence/<int:evidence_id>")
@requires("apprentice")
@doc("Edit the statement of a draft or returned piece of evidence",
     body_schema={"type": "object", "properties": {"statement": {"type": "string"}}}, response=EVIDENCE_JSON)
def patch_evidence(evidence_id: int):
    db = session()
    evidence = _evidence(db, evidence_id)
    services.update_statement(db, current_actor(), evidence, v.text(body(), "statement", max_length=5000))
    return jsonify(evidence_json(evidence))


@bp.delete("/evidence/<int:evidence_id>")
@requires("apprentice")
@doc("Withdraw a draft or returned piece of evidence", response=DELETED)
def delete_evidence(evidence_id: int):
    db = session()
    services.withdraw(db, current_actor(), _evidence(db, evidence_id))
    return jsonify({"deleted": evidence_id})


@bp.post("/evidence/<int:evidence_id>/submit")
@requires("apprentice")
@doc("Submit a piece of evidence to the tutor", response=EVIDENCE_JSON)
def submit_evidence(evidence_id: int):
    db = session()
    evidence = services.submit(db, current_actor(), _evidence(db, evidence_id), clock.now())
    return jsonify(evidence_json(evidence))


@bp.post("/evidence/<int:evidence_id>/review")
@requires("tutor")
@doc("Validate or return a submitted piece of evidence (tutor)", body_schema={"type": "object", "properties": {
    "decision": {"type": "string", "enum": ["validate", "return"]}, "comment": {"type": "string"},
    "criteria": {"type": "array", "items": {"type": "integer"}}}, "required": ["decision"]}, response=EVIDENCE_JSON)
def review_evidence(evidence_id: int):
    db = session()
    data = body()
    evidence = _evidence(db, evidence_id)
    services.review(db, current_actor(), evidence, v.choice(data, "decision", ("validate", "return")),
                    v.text(data, "comment", required=False, max_length=5000),
                    services.criterion_ids_from(data.get("criteria")), clock.now())
    return jsonify(evidence_json(evidence))


@bp.get("/reviews")
@requires("tutor")
@doc("The tutor's queue of submitted evidence, oldest first", response=array(record({
    **EVIDENCE_JSON["properties"], "apprentice": STRING, "activity_title": STRING})))
def review_queue():
    return jsonify([dict(evidence_json(e), apprentice=e.apprentice.username, activity_title=e.activity.title)
                    for e in queries.review_queue(session(), current_actor())])


@bp.get("/apprentices/<username>/coverage")
@requires()
@doc("Evidence counts by state for each competence of an apprentice's certification",
     params={"certification": {"type": "string"}},
     response=record({"apprentice": STRING, "competences": array(record({
         "code": STRING, "title": STRING, "certification": STRING, "validated": INTEGER, "submitted": INTEGER,
         "draft": INTEGER, "returned": INTEGER, "covered": BOOLEAN, "opinion": nullable(STRING)}))}))
def coverage(username: str):
    db = session()
    apprentice = visible_apprentice(db, current_actor(), username)
    code = request.args.get("certification")
    if code:
        report_certification(apprentice, code)
    certs = queries.coverage(db, apprentice, code)
    return jsonify({"apprentice": apprentice.username, "competences": [
        {"code": c.competence.code, "title": c.competence.title, "certification": cov.certification.code,
         **c.counts, "covered": c.covered,
         "opinion": c.opinion.level if c.opinion else None}
        for cov in certs for c in cov.competences]})


@bp.post("/apprentices/<username>/opinions")
@requires("tutor")
@doc("Record the company's opinion on one competence (tutor)", body_schema={"type": "object", "properties": {
    "competence": {"type": "string"}, "level": {"type": "string", "enum": ["not_seen", "beginner", "in_progress", "acquired"]},
    "comment": {"type": "string"}, "date": {"type": "string", "format": "date"}}, "required": ["competence", "level"]},
    response=record({"id": INTEGER, "competence": STRING, "level": STRING, "date": STRING}), status=201)
def record_opinion(username: str):
    db = session()
    data = body()
    apprentice = visible_apprentice(db, current_actor(), username)
    now = clock.now()
    comp = services.competence_for(db, apprentice, v.text(data, "competence", max_length=16))
    opinion = services.record_opinion(db, current_actor(), apprentice, comp, v.text(data, "level", max_length=16),
                                      v.text(data, "comment", required=False, max_length=5000),
                                      v.date_field(data, "date", default=now.date()), now)
    return jsonify({"id": opinion.id, "competence": comp.code, "level": opinion.level,
                    "date": opinion.observed_on.isoformat()}), 201


@bp.get("/apprentices/<username>/report.<fmt>")
@requires()
@doc("The candidate's report (docx, html or xlsx): validated evidence, or with include_submitted=1 the submitted too",
     params={"certification": {"type": "string"}, "include_submitted": {"type": "boolean"},
             "fmt": {"type": "string", "enum": ["docx", "html", "xlsx"]}},
     media={"application/vnd.openxmlformats-officedocument.wordprocessingml.document": {"type": "string",
                                                                                       "format": "binary"},
            "text/html": {"type": "string"},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"type": "string",
                                                                                 "format": "binary"}})
def report(username: str, fmt: str):
    db = session()
    apprentice = visible_apprentice(db, current_actor(), username)
    cert = report_certification(apprentice, request.args.get("certification"))
    include = v.boolean(request.args, "include_submitted")
    file = context.make_report(apprentice, cert, fmt, include, external=True)
    return send_file(io.BytesIO(file.content), mimetype=file.mimetype, download_name=file.filename,
                     as_attachment=fmt != "html")
