"""QSE pages that steer the management system: objectives and indicators, context, regulatory reviews,
planning and the management review pack."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for

from modules.qse import analyses, inputs, objectives as obj, regulatory, review_pack
from modules.qse.api import DOCX
from modules.qse.blueprints import bp
from modules.qse.editing import can_change, editable
from modules.qse.models import PESTEL, REG_DOMAINS, SWOT
from modules.qse.views import active_people
from shopfloor import clock
from shopfloor import validation as v
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.db import session
from shopfloor.forms import form_handler

PARTY_ROWS = 6
TASK_ROWS = 10


def _form():
    """What the form shows: the posted values, or the query string's (a link may prefill a form)."""
    return request.form if request.method == "POST" else request.args


# -- objectives and indicators ---------------------------------------------------------------

@bp.get("/objectives")
@requires()
def objectives():
    db, me = session(), current_actor()
    statuses = obj.indicator_statuses(db)
    return render_template("qse/objectives.html", objectives=obj.objectives(db, me), statuses=statuses,
                           alerts=[s for s in statuses if s.off_target])


OBJECTIVE_FIELDS = ("title", "axis", "policy_commitment", "target", "means", "owner", "deadline", "description")


def _new_objective_page(error=None):
    return render_template("qse/objective_new.html", error=error, form=_form(), people=active_people(session()),
                           me=current_actor())


@bp.route("/objectives/new", methods=["GET", "POST"])
@requires()
@form_handler(_new_objective_page)
def new_objective():
    if request.method != "POST":
        return _new_objective_page()
    now = clock.now()
    spec = inputs.objective({k: request.form.get(k, "") for k in OBJECTIVE_FIELDS}, now)
    objective = obj.create_objective(session(), current_actor(), spec, now)
    flash("Objectif enregistré : rattachez-lui un indicateur.", "success")
    return redirect(url_for("qse.objective", objective_id=objective.id))


def _objective_page(objective_id: int, error=None):
    db, me = session(), current_actor()
    objective = obj.get_objective(db, me, objective_id)
    last = obj.last_measurements(db, [i.id for i in objective.indicators])
    return render_template("qse/objective.html", error=error, objective=objective, last=last,
                           can_change=can_change(me, objective))


@bp.get("/objectives/<int:objective_id>")
@requires()
def objective(objective_id: int):
    return _objective_page(objective_id)


@bp.post("/objectives/<int:objective_id>/status")
@requires()
@form_handler(_objective_page)
def objective_status(objective_id: int):
    db, me = session(), current_actor()
    record = obj.get_objective(db, me, objective_id)
    editable(me, record, "cet objectif")
    obj.set_objective_status(db, me, record, inputs.objective_status(request.form))
    flash("Statut de l'objectif mis à jour.", "success")
    return redirect(url_for("qse.objective", objective_id=objective_id))


def _new_indicator_page(error=None):
    db, me = session(), current_actor()
    return render_template("qse/indicator_new.html", error=error, form=_form(), people=active_people(db), me=me,
                           objectives=obj.objectives(db, me))


@bp.route("/indicators/new", methods=["GET", "POST"])
@requires()
@form_handler(_new_indicator_page)
def new_indicator():
    if request.method != "POST":
        return _new_indicator_page()
    spec = inputs.indicator({k: request.form.get(k, "") for k in obj.INDICATOR_FIELDS})
    indicator = obj.save_indicator(session(), current_actor(), spec)
    flash("Indicateur créé : saisissez sa première mesure.", "success")
    return redirect(url_for("qse.indicator", indicator_id=indicator.id))


def _indicator_page(indicator_id: int, error=None):
    db, today = session(), clock.paris_day()
    indicator = obj.get_indicator(db, indicator_id)
    rows = obj.measurements(db, indicator.id)
    last = rows[-1] if rows else None
    return render_template("qse/indicator.html", error=error, indicator=indicator, rows=rows, last=last,
                           off_target=last is not None and not indicator.on_target(last.value),
                           figure=obj.chart_figure(indicator, rows),
                           followups=obj.followups(db, current_actor(), indicator.id),
                           form=request.form if error else {}, today=today, month=obj.month_bounds(today))


@bp.get("/indicators/<int:indicator_id>")
@requires()
def indicator(indicator_id: int):
    return _indicator_page(indicator_id)


@bp.post("/indicators/<int:indicator_id>/measure")
@requires()
@form_handler(_indicator_page)
def indicator_measure(indicator_id: int):
    db, me = session(), current_actor()
    record = obj.get_indicator(db, indicator_id)
    obj.check_may_change_indicator(me, record)
    measurement = obj.add_measurement(db, me, record, inputs.measurement(request.form), clock.now())
    if record.on_target(measurement.value):
        flash("Mesure enregistrée : dans la cible.", "success")
    else:
        flash("Mesure enregistrée : HORS CIBLE. Analysez l'écart dans un suivi d'indicateur.", "error")
    return redirect(url_for("qse.indicator", indicator_id=indicator_id))


@bp.post("/indicators/<int:indicator_id>/followup")
@requires()
@form_handler(_indicator_page)
def indicator_followup(indicator_id: int):
    db = session()
    record = obj.get_indicator(db, indicator_id)
    values = inputs.followup({k: request.form.get(k, "") for k in ("period_start", "period_end", "analysis", "decision")})
    followup = obj.create_followup(db, current_actor(), record, values, clock.now())
    flash("Suivi enregistré : liez-le à vos compétences dans « Preuves ».", "success")
    return redirect(url_for("qse.followup", followup_id=followup.id))


@bp.get("/followups/<int:followup_id>")
@requires()
def followup(followup_id: int):
    record = obj.get_followup(session(), current_actor(), followup_id)
    return render_template("qse/followup.html", followup=record)


@bp.get("/review-pack.docx")
@requires()
def review_pack_docx():
    today = clock.paris_day()
    content = review_pack.docx(review_pack.gather(session(), current_actor(), today))
    return Response(content, mimetype=DOCX, headers={
        "Content-Disposition": f'attachment; filename="revue-de-direction-{today.isoformat()}.docx"'})


# -- context --------------------------------------------------------------------------------------

def _context_data(form) -> dict:
    data = {k: form.get(k, "") for k in ("title", "scope", "description", *SWOT, *PESTEL)}
    data["parties"] = [{"party": form.get(f"party_{i}", ""), "needs": form.get(f"needs_{i}", ""),
                        "priority": form.get(f"priority_{i}", "")} for i in range(PARTY_ROWS)]
    return data


def _new_context_page(error=None):
    return render_template("qse/context_new.html", error=error, form=_form(), swot=SWOT, pestel=PESTEL,
                           rows=range(PARTY_ROWS))


@bp.route("/context/new", methods=["GET", "POST"])
@requires()
@form_handler(_new_context_page)
def new_context():
    if request.method != "POST":
        return _new_context_page()
    analysis = analyses.save_context(session(), current_actor(), inputs.context(_context_data(request.form)),
                                     clock.now())
    flash("Analyse du contexte enregistrée.", "success")
    return redirect(url_for("qse.context", analysis_id=analysis.id))


@bp.get("/context/<int:analysis_id>")
@requires()
def context(analysis_id: int):
    record = analyses.get_context(session(), current_actor(), analysis_id)
    return render_template("qse/context.html", analysis=record, swot=SWOT, pestel=PESTEL)


# -- regulatory reviews --------------------------------------------------------------------------

def _new_review_page(error=None):
    """The texts of the chosen domain to review (all of them while the domain filter is wrong)."""
    domain = request.values.get("domain", "")
    texts = regulatory.register(session(), domain=domain if domain in REG_DOMAINS else "").rows
    return render_template("qse/regulatory_review_new.html", error=error, form=request.form, texts=texts,
                           domain=domain, chosen=set(request.form.getlist("text_id")), today=clock.paris_day())


@bp.route("/regulatory/reviews/new", methods=["GET", "POST"])
@requires()
@form_handler(_new_review_page)
def new_regulatory_review():
    form = request.form
    if request.method != "POST":
        if domain := request.values.get("domain", ""):
            v.choice({"domain": domain}, "domain", tuple(REG_DOMAINS))   # a wrong filter: every text, and why
        return _new_review_page()
    items = [{"text_id": text_id, "compliance": form.get(f"compliance_{text_id}", ""),
              "findings": form.get(f"findings_{text_id}", ""), "action": form.get(f"action_{text_id}", "")}
             for text_id in form.getlist("text_id")]
    spec = inputs.regulatory_review({"title": form.get("title", ""), "conclusions": form.get("conclusions", ""),
                                     "items": items})
    review = analyses.create_regulatory_review(session(), current_actor(), spec, clock.now())
    flash("Revue réglementaire enregistrée.", "success")
    return redirect(url_for("qse.regulatory_review", review_id=review.id))


@bp.get("/regulatory/reviews/<int:review_id>")
@requires()
def regulatory_review(review_id: int):
    record = analyses.get_regulatory_review(session(), current_actor(), review_id)
    return render_template("qse/regulatory_review.html", review=record)


# -- planning -------------------------------------------------------------------------------------

def _planning_data(form) -> dict:
    tasks = [{"name": form.get(f"name_{i}", ""), "start": form.get(f"start_{i}", ""), "end": form.get(f"end_{i}", ""),
              "milestone": form.get(f"milestone_{i}", ""), "responsible": form.get(f"responsible_{i}", "")}
             for i in range(TASK_ROWS)]
    return {"title": form.get("title", ""), "horizon": form.get("horizon", ""),
            "description": form.get("description", ""),
            "tasks": [t for t in tasks if any(val.strip() for val in t.values())]}


def _new_planning_page(error=None):
    return render_template("qse/planning_new.html", error=error, form=_form(), rows=range(TASK_ROWS))


@bp.route("/planning/new", methods=["GET", "POST"])
@requires()
@form_handler(_new_planning_page)
def new_planning():
    if request.method != "POST":
        return _new_planning_page()
    planning = analyses.save_planning(session(), current_actor(), inputs.planning(_planning_data(request.form)),
                                      clock.now())
    flash("Planning QSE enregistré.", "success")
    return redirect(url_for("qse.planning", planning_id=planning.id))


@bp.get("/planning/<int:planning_id>")
@requires()
def planning(planning_id: int):
    record = analyses.get_planning(session(), current_actor(), planning_id)
    return render_template("qse/planning.html", planning=record,
                           figure=analyses.gantt_figure(record, clock.paris_day()))
