"""QSE pages of objectives and indicators, context, regulatory reviews, planning and the management review pack."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for

from modules.qse import analyses, objectives as obj, regulatory, review_pack
from modules.qse.api import DOCX
from modules.qse.common import can_change, paris_day
from modules.qse.models import PESTEL, SWOT
from modules.qse.web import bp, user
from shopfloor.auth.permissions import requires
from shopfloor.auth.services import list_users
from shopfloor.db import session
from shopfloor import clock
from shopfloor.errors import DomainError

PARTY_ROWS = 6
TASK_ROWS = 10


def _people(db):
    return [u for u in list_users(db) if u.active]


def _render(template: str, error=None, **context):
    return render_template(template, error=error, **context), (error.status if error else 200)


# -- objectives and indicators ---------------------------------------------------------------

@bp.get("/objectives")
@requires()
def objectives():
    db, me = session(), user()
    statuses = obj.indicator_statuses(db)
    return render_template("qse/objectives.html", objectives=obj.objectives(db, me), statuses=statuses,
                           alerts=[s for s in statuses if s.off_target])


@bp.route("/objectives/new", methods=["GET", "POST"])
@requires()
def new_objective():
    db, error = session(), None
    form = request.form if request.method == "POST" else request.args
    if request.method == "POST":
        try:
            objective = obj.create_objective(db, user(), {k: form.get(k, "") for k in (
                "title", "axis", "policy_commitment", "target", "means", "owner", "deadline", "description")}, clock.now())
        except DomainError as exc:
            db.rollback()
            error = exc
        else:
            flash("Objectif enregistré : rattachez-lui un indicateur.", "success")
            return redirect(url_for("qse.objective", objective_id=objective.id))
    return _render("qse/objective_new.html", error, form=form, people=_people(db), me=user())


def _objective_page(db, objective, error=None):
    last = obj.last_measurements(db, [i.id for i in objective.indicators])
    return _render("qse/objective.html", error, objective=objective, last=last,
                   can_change=can_change(user(), objective))


@bp.get("/objectives/<int:objective_id>")
@requires()
def objective(objective_id: int):
    db = session()
    return _objective_page(db, obj.get_objective(db, user(), objective_id))


@bp.post("/objectives/<int:objective_id>/status")
@requires()
def objective_status(objective_id: int):
    db, me = session(), user()
    record = obj.get_objective(db, me, objective_id)
    try:
        obj.set_objective_status(db, me, record, {"status": request.form.get("status", "")})
    except DomainError as exc:
        db.rollback()
        return _objective_page(db, obj.get_objective(db, me, objective_id), exc)
    flash("Statut de l'objectif mis à jour.", "success")
    return redirect(url_for("qse.objective", objective_id=objective_id))


@bp.route("/indicators/new", methods=["GET", "POST"])
@requires()
def new_indicator():
    db, error, me = session(), None, user()
    form = request.form if request.method == "POST" else request.args
    if request.method == "POST":
        try:
            indicator = obj.save_indicator(db, me, {k: form.get(k, "") for k in obj.INDICATOR_FIELDS})
        except DomainError as exc:
            db.rollback()
            error = exc
        else:
            flash("Indicateur créé : saisissez sa première mesure.", "success")
            return redirect(url_for("qse.indicator", indicator_id=indicator.id))
    return _render("qse/indicator_new.html", error, form=form, people=_people(db), me=me,
                   objectives=obj.objectives(db, me))


def _indicator_page(db, indicator, error=None, form=None):
    rows = obj.measurements(db, indicator.id)
    last = rows[-1] if rows else None
    first, end = obj.month_bounds(paris_day(clock.now()))
    return _render("qse/indicator.html", error, indicator=indicator, rows=rows, last=last,
                   off_target=last is not None and not indicator.on_target(last.value),
                   figure=obj.chart_figure(indicator, rows), followups=obj.followups(db, user(), indicator.id),
                   form=form or {}, today=paris_day(clock.now()), month=(first, end))


@bp.get("/indicators/<int:indicator_id>")
@requires()
def indicator(indicator_id: int):
    db = session()
    return _indicator_page(db, obj.get_indicator(db, indicator_id))


@bp.post("/indicators/<int:indicator_id>/measure")
@requires()
def indicator_measure(indicator_id: int):
    db, me, form = session(), user(), request.form
    record = obj.get_indicator(db, indicator_id)
    try:
        measurement = obj.add_measurement(db, me, record, {k: form.get(k, "") for k in
                                                           ("measured_on", "value", "comment")}, clock.now())
    except DomainError as exc:
        db.rollback()
        return _indicator_page(db, obj.get_indicator(db, indicator_id), exc, form)
    if record.on_target(measurement.value):
        flash("Mesure enregistrée : dans la cible.", "success")
    else:
        flash("Mesure enregistrée : HORS CIBLE. Analysez l'écart dans un suivi d'indicateur.", "error")
    return redirect(url_for("qse.indicator", indicator_id=indicator_id))


@bp.post("/indicators/<int:indicator_id>/followup")
@requires()
def indicator_followup(indicator_id: int):
    db, me, form = session(), user(), request.form
    record = obj.get_indicator(db, indicator_id)
    try:
        followup = obj.create_followup(db, me, record, {k: form.get(k, "") for k in
                                                        ("period_start", "period_end", "analysis", "decision")},
                                       clock.now())
    except DomainError as exc:
        db.rollback()
        return _indicator_page(db, obj.get_indicator(db, indicator_id), exc, form)
    flash("Suivi enregistré : liez-le à vos compétences dans « Preuves ».", "success")
    return redirect(url_for("qse.followup", followup_id=followup.id))


@bp.get("/followups/<int:followup_id>")
@requires()
def followup(followup_id: int):
    record = obj.get_followup(session(), user(), followup_id)
    return render_template("qse/followup.html", followup=record)


@bp.get("/review-pack.docx")
@requires()
def review_pack_docx():
    db, today = session(), paris_day(clock.now())
    content = review_pack.docx(review_pack.gather(db, user(), today))
    return Response(content, mimetype=DOCX, headers={
        "Content-Disposition": f'attachment; filename="revue-de-direction-{today.isoformat()}.docx"'})


# -- context --------------------------------------------------------------------------------------

def _context_data(form) -> dict:
    data = {k: form.get(k, "") for k in ("title", "scope", "description", *SWOT, *PESTEL)}
    data["parties"] = [{"party": form.get(f"party_{i}", ""), "needs": form.get(f"needs_{i}", ""),
                        "priority": form.get(f"priority_{i}", "")} for i in range(PARTY_ROWS)]
    return data


@bp.route("/context/new", methods=["GET", "POST"])
@requires()
def new_context():
    db, error = session(), None
    form = request.form if request.method == "POST" else request.args
    if request.method == "POST":
        try:
            analysis = analyses.save_context(db, user(), _context_data(form), clock.now())
        except DomainError as exc:
            db.rollback()
            error = exc
        else:
            flash("Analyse du contexte enregistrée.", "success")
            return redirect(url_for("qse.context", analysis_id=analysis.id))
    return _render("qse/context_new.html", error, form=form, swot=SWOT, pestel=PESTEL, rows=range(PARTY_ROWS))


@bp.get("/context/<int:analysis_id>")
@requires()
def context(analysis_id: int):
    record = analyses.get_context(session(), user(), analysis_id)
    return render_template("qse/context.html", analysis=record, swot=SWOT, pestel=PESTEL)


# -- regulatory reviews --------------------------------------------------------------------------

@bp.route("/regulatory/reviews/new", methods=["GET", "POST"])
@requires()
def new_regulatory_review():
    db, error, form = session(), None, request.form
    domain = request.values.get("domain", "")
    if request.method == "POST":
        items = [{"text_id": text_id, "compliance": form.get(f"compliance_{text_id}", ""),
                  "findings": form.get(f"findings_{text_id}", ""), "action": form.get(f"action_{text_id}", "")}
                 for text_id in form.getlist("text_id")]
        try:
            review = analyses.create_regulatory_review(db, user(), {
                "title": form.get("title", ""), "conclusions": form.get("conclusions", ""), "items": items}, clock.now())
        except DomainError as exc:
            db.rollback()
            error = exc
        else:
            flash("Revue réglementaire enregistrée.", "success")
            return redirect(url_for("qse.regulatory_review", review_id=review.id))
    try:
        texts = regulatory.register(db, domain=domain).rows
    except DomainError as exc:
        texts, error = regulatory.register(db).rows, error or exc
    return _render("qse/regulatory_review_new.html", error, form=form, texts=texts, domain=domain,
                   chosen=set(form.getlist("text_id")), today=paris_day(clock.now()))


@bp.get("/regulatory/reviews/<int:review_id>")
@requires()
def regulatory_review(review_id: int):
    record = analyses.get_regulatory_review(session(), user(), review_id)
    return render_template("qse/regulatory_review.html", review=record)


# -- planning -------------------------------------------------------------------------------------

def _planning_data(form) -> dict:
    tasks = [{"name": form.get(f"name_{i}", ""), "start": form.get(f"start_{i}", ""), "end": form.get(f"end_{i}", ""),
              "milestone": form.get(f"milestone_{i}", ""), "responsible": form.get(f"responsible_{i}", "")}
             for i in range(TASK_ROWS)]
    return {"title": form.get("title", ""), "horizon": form.get("horizon", ""),
            "description": form.get("description", ""),
            "tasks": [t for t in tasks if any(val.strip() for val in t.values())]}


@bp.route("/planning/new", methods=["GET", "POST"])
@requires()
def new_planning():
    db, error = session(), None
    form = request.form if request.method == "POST" else request.args
    if request.method == "POST":
        try:
            planning = analyses.save_planning(db, user(), _planning_data(form), clock.now())
        except DomainError as exc:
            db.rollback()
            error = exc
        else:
            flash("Planning QSE enregistré.", "success")
            return redirect(url_for("qse.planning", planning_id=planning.id))
    return _render("qse/planning_new.html", error, form=form, rows=range(TASK_ROWS))


@bp.get("/planning/<int:planning_id>")
@requires()
def planning(planning_id: int):
    record = analyses.get_planning(session(), user(), planning_id)
    return render_template("qse/planning.html", planning=record,
                           figure=analyses.gantt_figure(record, paris_day(clock.now())))
