"""Pages of the spine: my activities, evidence, the tutor's review, coverage, reports."""
from __future__ import annotations

import io

import plotly.graph_objects as go
from flask import (Blueprint, current_app, flash, redirect, render_template, request, send_file,
                   send_from_directory, url_for)
from sqlalchemy import select

from shopfloor import access, clock
from shopfloor import validation as v
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.auth.services import visible_apprentice
from shopfloor.db import session
from shopfloor.errors import Conflict, DomainError
from shopfloor.evidence import cancellation, context, exports, queries, services
from shopfloor.evidence.models import Activity, Attachment, Evidence, Opinion
from shopfloor.forms import form_handler
from shopfloor.referential import services as referential

bp = Blueprint("evidence", __name__)
PAGE_SIZE = 25


def _activity(db, activity_id: int) -> Activity:
    """The activity if the actor may see it (its author, the author's tutor, admins), else a 404."""
    return access.visible(db, Activity, current_actor(), activity_id, field="activity_id", options=services.WITH_FILES)


def _evidence(db, evidence_id: int) -> Evidence:
    return access.visible(db, Evidence, current_actor(), evidence_id, field="evidence_id")


# -- Activities ---------------------------------------------------------------------

@bp.get("/activities")
@requires("apprentice")
def activities():
    db = session()
    page = v.page_number(request.args)
    total = queries.count_activities(db, current_actor())
    return render_template("evidence/activities.html", page=page, pages=max((total - 1) // PAGE_SIZE + 1, 1),
                           activities=queries.recent_activities(db, current_actor(), PAGE_SIZE, (page - 1) * PAGE_SIZE),
                           labels=context.activity_labels(), total=total)


def _activity_form_values(form) -> dict:
    return {"title": v.text(form, "title"), "performed_at": v.datetime_field(form, "performed_at"),
            "description": v.text(form, "description", required=False, max_length=20000)}


def _activity_form(activity: Activity | None = None, error: DomainError | None = None) -> str:
    return render_template("evidence/activity_form.html", activity=activity, form=request.form, error=error,
                           now=v.to_paris(clock.now()))


@bp.route("/activities/new", methods=["GET", "POST"])
@requires("apprentice")
@form_handler(lambda error: _activity_form(error=error))
def new_activity():
    if request.method == "GET":
        return _activity_form()
    db, actor = session(), current_actor()
    activity = services.create_activity(db, actor, now=clock.now(), **_activity_form_values(request.form))
    for upload in request.files.getlist("files"):
        if upload and upload.filename:
            services.add_attachment(db, actor, activity, upload.filename, upload.read(),
                                    context.upload_dir(), current_app.config["UPLOAD_MAX_BYTES"])
    flash("Activité enregistrée. Reliez-la maintenant aux compétences qu'elle démontre.", "success")
    return redirect(url_for("evidence.activity", activity_id=activity.id))


@bp.get("/activities/<int:activity_id>")
@requires()
def activity(activity_id: int):
    db = session()
    actor = current_actor()
    act = _activity(db, activity_id)
    prepared = set(actor.certification_codes) if actor.id == act.author_id else set()
    linked = {e.competence.code for e in act.evidence}
    competences = [c for cert in referential.certifications(db) if cert.code in prepared for c in cert.competences]
    frozen, cancelled = services.frozen_reason(act), cancellation.cancelled_message(act)
    mine = actor.id == act.author_id
    # what deleting would leave behind: only the author, who may delete or cancel, needs it
    effects = (cancellation.standing_effects(db, act, cancellation.registered_effects())
               if mine and not frozen and not cancelled else [])
    return render_template("evidence/activity.html", activity=act, frozen=frozen, cancelled=cancelled, effects=effects,
                           mine=mine, labels=context.activity_labels(),
                           competences=[c for c in competences if c.code not in linked],
                           defaults=[c for c in context.default_competences(act, prepared) if c not in linked])


@bp.route("/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@requires("apprentice")
@form_handler(lambda activity_id, error: _activity_form(_activity(session(), activity_id), error))
def edit_activity(activity_id: int):
    db = session()
    act = _activity(db, activity_id)
    if request.method == "GET":
        if reason := services.frozen_reason(act):   # the page says why it cannot be changed
            return _activity_form(act, Conflict(reason)), 409
        return _activity_form(act)
    services.update_activity(db, current_actor(), act, clock.now(), **_activity_form_values(request.form))
    flash("Activité modifiée.", "success")
    return redirect(url_for("evidence.activity", activity_id=act.id))


@bp.post("/activities/<int:activity_id>/delete")
@requires("apprentice")
def delete_activity(activity_id: int):
    db = session()
    services.delete_activity(db, current_actor(), _activity(db, activity_id), cancellation.registered_effects())
    flash("Activité supprimée.", "success")
    return redirect(url_for("evidence.activities"))


@bp.post("/activities/<int:activity_id>/cancel")
@requires("apprentice")
def cancel_activity(activity_id: int):
    db = session()
    act = _activity(db, activity_id)
    cancellation.cancel_activity(db, current_actor(), act, request.form.get("reason"), clock.now(),
                                 cancellation.registered_effects())
    flash("Activité annulée : ses effets sont inversés, son historique reste lisible.", "success")
    return redirect(url_for("evidence.activity", activity_id=act.id))


@bp.post("/activities/<int:activity_id>/attachments")
@requires("apprentice")
def add_attachment(activity_id: int):
    db = session()
    act = _activity(db, activity_id)
    uploads = [u for u in request.files.getlist("files") if u and u.filename]
    if not uploads:
        flash("Choisissez une photo ou un PDF.", "error")
        return redirect(url_for("evidence.activity", activity_id=act.id))
    for upload in uploads:
        services.add_attachment(db, current_actor(), act, upload.filename, upload.read(), context.upload_dir(),
                                current_app.config["UPLOAD_MAX_BYTES"])
    flash("Pièce jointe ajoutée.", "success")
    return redirect(url_for("evidence.activity", activity_id=act.id))


@bp.post("/attachments/<int:attachment_id>/delete")
@requires("apprentice")
def delete_attachment(attachment_id: int):
    db = session()
    attachment = access.visible(db, Attachment, current_actor(), attachment_id, field="attachment_id")
    activity_id = attachment.activity_id
    services.delete_attachment(db, current_actor(), attachment)
    return redirect(url_for("evidence.activity", activity_id=activity_id))


@bp.get("/files/<stored_name>")
@requires()
def attachment_file(stored_name: str):
    """An attachment (or its thumbnail with ?thumb=1), only for those allowed to see its activity."""
    db = session()
    attachment = db.scalar(select(Attachment).where(Attachment.stored_name == stored_name,
                                                    access.visible_filter(Attachment, current_actor())))
    if attachment is None:   # missing or someone else's: the same answer
        raise access.not_found(Attachment, stored_name, "stored_name")
    if request.args.get("thumb") and attachment.is_image:
        name, mimetype = f"thumb_{stored_name}.jpg", "image/jpeg"
    else:
        name, mimetype = stored_name, attachment.content_type
    response = send_from_directory(context.upload_dir(), name, mimetype=mimetype, download_name=attachment.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.private = True
    return response


# -- Evidence -----------------------------------------------------------------------

@bp.post("/activities/<int:activity_id>/evidence")
@requires("apprentice")
def link(activity_id: int):
    db = session()
    act = _activity(db, activity_id)
    codes = request.form.getlist("competence")
    if not codes:
        flash("Choisissez au moins une compétence.", "error")
        return redirect(url_for("evidence.activity", activity_id=act.id)), 303
    for code in codes:
        services.link_competence(db, current_actor(), act, code, request.form.get("statement", ""), clock.now())
    flash("Compétence reliée. Complétez votre déclaration puis soumettez-la à votre tuteur.", "success")
    return redirect(url_for("evidence.activity", activity_id=act.id))


@bp.post("/evidence/<int:evidence_id>/statement")
@requires("apprentice")
def statement(evidence_id: int):
    db = session()
    actor, evidence = current_actor(), _evidence(db, evidence_id)
    services.update_statement(db, actor, evidence, request.form.get("statement", ""))
    if request.form.get("submit"):
        services.submit(db, actor, evidence, clock.now())
        flash(f"Preuve {evidence.competence.code} soumise à votre tuteur.", "success")
    else:
        flash("Déclaration enregistrée.", "success")
    return redirect(url_for("evidence.activity", activity_id=evidence.activity_id))


@bp.post("/evidence/<int:evidence_id>/withdraw")
@requires("apprentice")
def withdraw(evidence_id: int):
    db = session()
    evidence = _evidence(db, evidence_id)
    activity_id = evidence.activity_id
    services.withdraw(db, current_actor(), evidence)
    return redirect(url_for("evidence.activity", activity_id=activity_id))


# -- Tutor review -------------------------------------------------------------------

@bp.get("/review")
@requires("tutor")
def review_queue():
    return render_template("evidence/review_queue.html", queue=queries.review_queue(session(), current_actor()),
                           labels=context.activity_labels())


def _review_page(evidence_id: int, error: DomainError | None = None) -> str:
    evidence = _evidence(session(), evidence_id)
    return render_template("evidence/review.html", evidence=evidence, activity=evidence.activity,
                           labels=context.activity_labels(), error=error, form=request.form,
                           can_review=services.can_review(current_actor(), evidence))


@bp.route("/review/<int:evidence_id>", methods=["GET", "POST"])
@requires("tutor")
@form_handler(_review_page)
def review(evidence_id: int):
    if request.method == "GET":
        return _review_page(evidence_id)
    db = session()
    evidence = _evidence(db, evidence_id)
    criteria = services.criterion_ids_from(request.form.getlist("criteria"))
    services.review(db, current_actor(), evidence, request.form.get("decision", ""),
                    request.form.get("comment", ""), criteria, clock.now())
    flash(f"Preuve {evidence.competence.code} de {evidence.apprentice.full_name} "
          f"{'validée' if evidence.state == 'validated' else 'renvoyée'}.", "success")
    return redirect(url_for("evidence.review_queue"))


# -- Coverage, opinions and reports -------------------------------------------------

@bp.get("/coverage")
@requires("apprentice", "tutor")
def coverage_page():
    db, actor = session(), current_actor()
    if actor.role == "apprentice":
        return redirect(url_for("evidence.apprentice", username=actor.username))
    certs = referential.certifications(db)
    code = request.args.get("certification")
    if not code:
        followed = queries.followed_certification_codes(db, actor)
        code = followed[0] if followed else certs[0].code
    cert = referential.certification(db, code)
    heatmap = queries.tutor_heatmap(db, actor, cert)
    return render_template("evidence/heatmap.html", certs=certs, cert=cert, heatmap=heatmap,
                           figure=_heatmap_figure(heatmap) if heatmap.apprentices else None)


def _heatmap_figure(heatmap: queries.Heatmap) -> str:
    z = [[min(v, 3) for v in row] for row in heatmap.validated]
    text = [[f"{v} validée(s), {s} soumise(s)" for v, s in zip(vr, sr)]
            for vr, sr in zip(heatmap.validated, heatmap.submitted)]
    fig = go.Figure(go.Heatmap(
        z=z, x=[c.code for c in heatmap.competences], y=[a.full_name for a in heatmap.apprentices],
        text=text, hovertemplate="%{y}<br>%{x} : %{text}<extra></extra>", zmin=0, zmax=3, xgap=3, ygap=3,
        colorscale=[[0, "#f1f3f5"], [0.34, "#b2f2bb"], [0.67, "#51cf66"], [1, "#2b8a3e"]],
        colorbar={"title": "Validées", "tickvals": [0, 1, 2, 3], "ticktext": ["0", "1", "2", "3+"]}))
    fig.update_layout(height=max(260, 48 * len(heatmap.apprentices) + 120), margin={"l": 10, "r": 10, "t": 10, "b": 40},
                      yaxis={"autorange": "reversed"}, font={"size": 14})
    return fig.to_html(full_html=False, include_plotlyjs=False, config={"displayModeBar": False, "responsive": True})


@bp.get("/apprentices/<username>")
@requires()
def apprentice(username: str):
    db, actor = session(), current_actor()
    person = visible_apprentice(db, actor, username)
    finals = {c.code: exports.final_report(db, person, c) for c in person.certifications}
    return render_template("evidence/apprentice.html", apprentice=person, coverage=queries.coverage(db, person),
                           finals=finals, is_tutor=actor.role == "tutor" and person.tutor_id == actor.id,
                           today=clock.paris_day())


@bp.post("/apprentices/<username>/opinion")
@requires("tutor")
def opinion(username: str):
    db = session()
    person = visible_apprentice(db, current_actor(), username)
    now = clock.now()
    comp = services.competence_for(db, person, request.form.get("competence", ""))
    services.record_opinion(db, current_actor(), person, comp, request.form.get("level", ""), request.form.get("comment", ""),
                            v.date_field(request.form, "observed_on", default=clock.paris_day(now)), now)
    flash(f"Avis enregistré pour {comp.code}.", "success")
    return redirect(url_for("evidence.apprentice", username=person.username, _anchor=comp.code))


@bp.get("/apprentices/<username>/opinions/<code>")
@requires()
def opinion_history(username: str, code: str):
    db = session()
    person = visible_apprentice(db, current_actor(), username)
    comp = referential.competence(db, code)
    history = list(db.scalars(select(Opinion).where(Opinion.apprentice_id == person.id, Opinion.competence_id == comp.id)
                              .order_by(Opinion.observed_on.desc(), Opinion.id.desc())))
    return render_template("evidence/opinion_history.html", apprentice=person, comp=comp, history=history)


@bp.get("/apprentices/<username>/report")
@requires()
def report(username: str):
    db = session()
    person = visible_apprentice(db, current_actor(), username)
    cert = exports.report_certification(person, request.args.get("certification"))
    fmt = request.args.get("format", "html")
    file = context.make_report(person, cert, fmt, v.boolean(request.args, "include_submitted"))
    return send_file(io.BytesIO(file.content), mimetype=file.mimetype, download_name=file.filename,
                     as_attachment=fmt != "html")


@bp.post("/apprentices/<username>/final/<code>")
@requires("apprentice", "tutor")
def declare_final(username: str, code: str):
    db = session()
    person = visible_apprentice(db, current_actor(), username)
    cert = exports.report_certification(person, code)
    include = v.boolean(request.form, "include_submitted")

    def render(fmt, include_submitted):
        return context.make_report(person, cert, fmt, include_submitted)

    record = exports.declare_final(db, current_actor(), person, cert, now=clock.now(), include_submitted=include,
                                   render=render, storage=context.report_dir())
    flash("Dossier figé : cette version est conservée avec son empreinte SHA-256." if record.frozen_at else
          "Déclaration enregistrée : le dossier sera figé quand le candidat et le tuteur l'auront déclaré final.",
          "success")
    return redirect(url_for("evidence.apprentice", username=person.username))


@bp.get("/apprentices/<username>/final/<code>.<fmt>")
@requires()
def final_file(username: str, code: str, fmt: str):
    db = session()
    person = visible_apprentice(db, current_actor(), username)
    cert = exports.report_certification(person, code)
    file = exports.frozen_file(exports.final_report(db, person, cert), fmt, context.report_dir())
    return send_file(io.BytesIO(file.content), mimetype=file.mimetype, download_name=file.filename,
                     as_attachment=fmt != "html")
