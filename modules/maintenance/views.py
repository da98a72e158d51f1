"""HTML pages: schedule, equipment sheet (readings chart, label), breakdown request, work order, KPIs.

Every form has the kit's shape (shopfloor.forms): load → authorise → parse → call the service →
redirect; a domain error re-renders the same page with the error and its status."""
from __future__ import annotations

from datetime import timedelta

import plotly.graph_objects as go
from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from modules.improvement import services as improvement
from modules.maintenance import analysis as an
from modules.maintenance import equipment as eq_services
from modules.maintenance import forms as fields
from modules.maintenance import importer, inputs, parts, progress
from modules.maintenance import readings as rd
from modules.maintenance import workorders as wos
from modules.maintenance.api import period
from modules.maintenance.models import (
    CONSEQUENCES_LABELS, CRITICALITIES, ENERGIES, FAILURE_CAUSES, FAILURE_MODES, LEVELS, LOCKOUT_STEPS,
    PLAN_KINDS, TECHNOLOGIES, Analysis, Equipment, Plan, WorkOrder)
from modules.stock import services as stock
from shopfloor import access, clock
from shopfloor import validation as v
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.db import session
from shopfloor.errors import ValidationError
from shopfloor.forms import form_handler, on_error
from shopfloor.registry import ActivityType
from shopfloor.urls import link

bp = Blueprint("maintenance", __name__, url_prefix="/maintenance", template_folder="templates")

STEP_LABELS = {"separate": "Séparer", "lock": "Condamner", "tag": "Identifier (étiquette)",
               "purge": "Purger les énergies résiduelles", "verify": "Vérifier l'absence d'énergie"}
STATUS_LABELS = {"requested": "Demandé", "planned": "Planifié", "in_progress": "En cours", "on_hold": "En attente",
                 "done": "Terminé", "closed": "Clôturé"}
PLAN_LABELS = {"calendar": "Systématique (calendrier)", "usage": "Systématique (usage)",
               "condition": "Conditionnel", "predictive": "Prévisionnel"}

ACTIVITY_TYPES = [
    ActivityType("maintenance_check", "Contrôle / inspection", ("MAINT-1",),
                 url=lambda a: link("maintenance.work_order", wo_id=a.work_order.id)),
    ActivityType("maintenance_preventive", "Maintenance préventive", ("MAINT-2",),
                 url=lambda a: link("maintenance.work_order", wo_id=a.work_order.id)),
    ActivityType("maintenance_analysis", "Analyse de maintenance (action de progrès mesurée : MAINT-6)",
                 ("MAINT-5",), url=lambda a: link("maintenance.analysis", analysis_id=a.id)),
    ActivityType("maintenance_corrective", "Maintenance corrective (diagnostic : MAINT-3)", ("MAINT-4",),
                 url=lambda a: link("maintenance.work_order", wo_id=a.work_order.id)),
]
NAV = [("Maintenance", "maintenance.index", ("admin", "tutor", "apprentice"))]


def _ctx(**values):
    return dict(step_labels=STEP_LABELS, status_labels=STATUS_LABELS, kind_labels=wos.KIND_LABELS,
                plan_labels=PLAN_LABELS, actor=current_actor(), **values)


@bp.get("/")
@requires()
def index():
    db = session()
    orders = wos.list_work_orders(db, open_only=True, limit=100, actor=current_actor())
    equipment = db.scalars(select(Equipment).where(Equipment.level.in_(("equipment", "subassembly")))
                           .order_by(Equipment.code).limit(200)).all()
    return render_template("maintenance/index.html", **_ctx(orders=orders, equipment=equipment,
                                                            now=clock.now()))


@bp.get("/equipment/<code>")
@requires()
def equipment(code):
    return _equipment_page(code)


def _equipment_page(code, error=None):
    db, now = session(), clock.now()
    eq = eq_services.get_equipment(db, code)
    plans = db.scalars(select(Plan).where(Plan.equipment_id == eq.id).order_by(Plan.id)).all()
    orders = wos.list_work_orders(db, equipment=eq, limit=30, actor=current_actor())
    params = rd.parameters(db, eq)
    parameter = request.args.get("parameter") or (params[0] if params else None)
    figure = _reading_figure(db, eq, parameter, now) if parameter else None
    kpis = rd.compute_kpis(db, [eq.id], now - timedelta(days=365), now, now)
    return render_template("maintenance/equipment.html", **_ctx(
        eq=eq, plans=plans, orders=orders, params=params, parameter=parameter, figure=figure, kpis=kpis,
        error=error, form=request.form))


def _reading_figure(db, eq, parameter, now) -> str:
    points = rd.series(db, eq, parameter, now - timedelta(days=365), now)
    fig = go.Figure()
    xs = [v.to_paris(at).isoformat() for at, _ in points]
    fig.add_trace(go.Scatter(x=xs, y=[val for _, val in points], mode="lines+markers", name=parameter,
                             marker={"size": 4}))
    for plan in rd.thresholds(db, eq, parameter):
        fig.add_hline(y=plan.threshold, line_dash="dash", line_color="#c0392b",
                      annotation_text=f"Seuil {plan.threshold:g}")
        if plan.kind == "predictive" and plan.predicted_crossing and len(points) >= 2:
            last_at, last_val = points[-1]
            fig.add_trace(go.Scatter(x=[xs[-1], v.to_paris(plan.predicted_crossing).isoformat()],
                                     y=[last_val, plan.threshold], mode="lines", name="Tendance",
                                     line={"dash": "dot", "color": "#e67e22"}))
    if eq.reference_values.get(parameter) is not None:
        fig.add_hline(y=eq.reference_values[parameter], line_color="#27ae60", annotation_text="Kilomètre zéro")
    fig.update_layout(height=320, margin={"l": 40, "r": 10, "t": 10, "b": 30}, showlegend=False)
    return fig.to_json()


@bp.post("/equipment/<code>/readings")
@requires()
@form_handler(_equipment_page)
def add_reading(code):
    db = session()
    eq = eq_services.get_equipment(db, code)
    now = clock.now()
    raw = {"equipment": eq.code, "parameter": request.form.get("parameter"), "value": request.form.get("value"),
           "at": request.form.get("at") or None}
    rd.add_readings(db, current_actor(), inputs.readings([raw], now), now, source="manual")
    flash("Mesure enregistrée.", "success")
    return redirect(url_for("maintenance.equipment", code=code, parameter=request.form.get("parameter")))


@bp.get("/equipment/<code>/label")
@requires()
def label(code):
    eq = eq_services.get_equipment(session(), code)
    target = url_for("maintenance.breakdown", code=eq.code, _external=True)
    return render_template("maintenance/label.html", **_ctx(eq=eq, qr=stock.qr_svg(target), target=target))


def _breakdown_page(code, error=None):
    eq = eq_services.get_equipment(session(), code)
    return render_template("maintenance/breakdown.html", **_ctx(eq=eq, error=error, form=request.form))


@bp.route("/equipment/<code>/breakdown", methods=["GET", "POST"])
@requires()
@form_handler(_breakdown_page)
def breakdown(code):
    if request.method == "GET":
        return _breakdown_page(code)
    db = session()
    eq = eq_services.get_equipment(db, code)
    data = dict(request.form.items(), stopped=bool(request.form.get("stopped")))
    now = clock.now()
    wo = wos.request_breakdown(db, current_actor(), eq, inputs.breakdown(data, now), now)
    flash(f"Demande OT-{wo.id} enregistrée : le service maintenance est prévenu.", "success")
    return redirect(url_for("maintenance.work_order", wo_id=wo.id))


# -- Work orders -------------------------------------------------------------------

def _work_order(wo_id: int) -> WorkOrder:
    return access.visible(session(), WorkOrder, current_actor(), wo_id, field="work_order")


def _work_order_page(wo_id, error=None):
    db, actor = session(), current_actor()
    wo = _work_order(wo_id)
    mine = wo.intervention is None or wo.intervention.author_id == actor.id
    follow = db.scalars(select(WorkOrder).where(WorkOrder.parent_id == wo.id)).all()
    return render_template("maintenance/work_order.html", **_ctx(
        wo=wo, error=error, mine=mine, can_close=wos.can_close(actor, wo), missing=wos.lockout_missing(wo),
        follow=follow, modes=FAILURE_MODES, causes=FAILURE_CAUSES, consequences=CONSEQUENCES_LABELS,
        steps=LOCKOUT_STEPS, form=request.form))


@bp.get("/work-orders/<int:wo_id>")
@requires()
def work_order(wo_id):
    return _work_order_page(wo_id)


def _done(wo: WorkOrder, message: str):
    flash(message, "success")
    return redirect(url_for("maintenance.work_order", wo_id=wo.id))


def _lockout_step(value: str) -> dict:
    """A ticked box of the lockout form: "energy:step"."""
    energy, sep, step = value.partition(":")
    if not sep:
        raise ValidationError("Étape de consignation invalide : cochez les cases du formulaire.", "step")
    return {"energy": energy, "step": step}


@bp.post("/work-orders/<int:wo_id>/lockout")
@requires()
@form_handler(_work_order_page)
def lockout(wo_id):
    db, actor, now, form = session(), current_actor(), clock.now(), request.form
    wo = _work_order(wo_id)
    wos.authorise(db, actor, wo, wos.LOCKOUT, now)
    raw = {"running": True} if form.get("running") else {"steps": [_lockout_step(s) for s in form.getlist("step")]}
    wos.record_lockout(db, actor, wo, inputs.lockout(raw, wo.equipment.energies), now)
    return _done(wo, "Consignation enregistrée.")


@bp.post("/work-orders/<int:wo_id>/start")
@requires()
@form_handler(_work_order_page)
def start(wo_id):
    wo = _work_order(wo_id)
    wos.start(session(), current_actor(), wo, clock.now())
    return _done(wo, "Intervention démarrée.")


@bp.post("/work-orders/<int:wo_id>/hold")
@requires()
@form_handler(_work_order_page)
def hold(wo_id):
    wo = _work_order(wo_id)
    wos.hold(session(), current_actor(), wo, request.form.get("reason", ""), clock.now())
    return _done(wo, "Ordre de travail mis en attente.")


@bp.post("/work-orders/<int:wo_id>/results")
@requires()
@form_handler(_work_order_page)
def results(wo_id):
    db, actor, now = session(), current_actor(), clock.now()
    wo = _work_order(wo_id)
    wos.authorise(db, actor, wo, wos.RESULTS, now)
    values = {k[2:]: ("ok" if val == "on" else val) for k, val in request.form.items() if k.startswith("r_")}
    wos.record_results(db, actor, wo, inputs.results(values), now)
    return _done(wo, "Résultats de la gamme enregistrés.")


@bp.post("/work-orders/<int:wo_id>/diagnosis")
@requires()
@form_handler(_work_order_page)
def diagnosis(wo_id):
    db, actor, now, f = session(), current_actor(), clock.now(), request.form
    wo = _work_order(wo_id)
    wos.authorise(db, actor, wo, wos.DIAGNOSIS, now)
    hypotheses = [{"hypothesis": h, "test": t, "result": r} for h, t, r in
                  zip(f.getlist("hypothesis"), f.getlist("test"), f.getlist("result")) if h.strip()]
    raw = {"lost_function": f.get("lost_function"), "root_cause": f.get("root_cause"),
           "failure_mode": f.get("failure_mode"), "failure_cause": f.get("failure_cause"),
           "symptom": f.get("symptom"), "hypotheses": hypotheses,
           "consequences": {k: f.get(f"cons_{k}", "") for k in CONSEQUENCES_LABELS}}
    wos.record_diagnosis(db, actor, wo, inputs.diagnosis(raw), now)
    return _done(wo, "Diagnostic enregistré.")


@bp.post("/work-orders/<int:wo_id>/parts")
@requires()
@form_handler(_work_order_page)
def pick_parts(wo_id):
    db, actor, now = session(), current_actor(), clock.now()
    wo = _work_order(wo_id)
    wos.authorise(db, actor, wo, parts.PARTS, now)
    outcome = parts.pick_parts(db, actor, wo, inputs.parts_request(dict(request.form.items())), now)
    flash(outcome.message, "success" if outcome.picked else "error")
    return redirect(url_for("maintenance.work_order", wo_id=wo.id))


@bp.post("/work-orders/<int:wo_id>/finish")
@requires()
@form_handler(_work_order_page)
def finish(wo_id):
    db, actor, now = session(), current_actor(), clock.now()
    wo = _work_order(wo_id)
    wos.authorise(db, actor, wo, wos.FINISH, now)
    wos.finish(db, actor, wo, inputs.finish(request.form), now)
    return _done(wo, "Intervention terminée.")


@bp.post("/work-orders/<int:wo_id>/close")
@requires("tutor", "admin")
@form_handler(_work_order_page)
def close(wo_id):
    wo = _work_order(wo_id)
    wos.close(session(), current_actor(), wo, clock.now())
    return _done(wo, "Ordre de travail clôturé.")


@bp.post("/work-orders/<int:wo_id>/corrective")
@requires()
@form_handler(_work_order_page)
def propose_corrective(wo_id):
    wo = _work_order(wo_id)
    wos.propose_corrective(session(), current_actor(), wo, clock.now())
    return _done(wo, "Ordre de travail correctif créé.")


@bp.get("/kpis")
@requires()
def kpis():
    now = clock.now()

    def page(error=None):
        eq = None if error else _kpis_equipment()
        start, end = period({} if error else request.args, now)
        return _kpis_page(eq, start, end, now, error)
    return on_error(page, page)


def _kpis_equipment():
    code = request.args.get("equipment")
    return eq_services.get_equipment(session(), code) if code else None


def _kpis_page(eq, start, end, now, error):
    db = session()
    ids = [eq.id] if eq else None
    figures = {}
    for by in (("cause",) if eq else ("equipment", "cause")):
        bars = rd.pareto_failures(db, start, end, by, equipment_ids=ids)
        if bars:
            figures[by] = _pareto_figure(bars)
    return render_template("maintenance/kpis.html", **_ctx(
        eq=eq, kpis=rd.compute_kpis(db, ids, start, end, now), figures=figures, codes=_equipment_codes(db),
        error=error, start=clock.paris_day(start), end=clock.paris_day(end - timedelta(seconds=1))))


def _pareto_figure(bars) -> str:
    labels, counts = [b[0] for b in bars], [b[1] for b in bars]
    total, running, cumulated = sum(counts), 0, []
    for c in counts:
        running += c
        cumulated.append(round(100 * running / total, 1))
    fig = go.Figure([go.Bar(x=labels, y=counts, name="Pannes"),
                     go.Scatter(x=labels, y=cumulated, yaxis="y2", name="% cumulé", mode="lines+markers")])
    fig.update_layout(height=320, margin={"l": 40, "r": 40, "t": 10, "b": 80}, showlegend=False,
                      yaxis2={"overlaying": "y", "side": "right", "range": [0, 105]})
    return fig.to_json()


# -- Analyses (MAINT-5, MAINT-6) ---------------------------------------------------

def _equipment_codes(db):
    return db.execute(select(Equipment.code, Equipment.name).where(Equipment.level != "site")
                      .order_by(Equipment.code).limit(500)).all()


def _analyses_page(error=None):
    db = session()
    return render_template("maintenance/analyses.html", **_ctx(
        analyses=an.list_analyses(db, current_actor()), codes=_equipment_codes(db), error=error,
        form=request.form, today=clock.paris_day()))


@bp.get("/analyses")
@requires()
def analyses():
    return _analyses_page()


@bp.post("/analyses")
@requires()
@form_handler(_analyses_page)
def create_analysis():
    db, now = session(), clock.now()
    analysis = an.create_analysis(db, current_actor(), inputs.new_analysis(db, request.form, now), now)
    flash("Analyse créée : rédigez vos conclusions et votre proposition.", "success")
    return redirect(url_for("maintenance.analysis", analysis_id=analysis.id))


def _analysis(analysis_id: int) -> Analysis:
    return access.visible(session(), Analysis, current_actor(), analysis_id, field="analysis_id", label=an.LABEL)


def _analysis_page(analysis_id, error=None):
    db, now = session(), clock.now()
    analysis = _analysis(analysis_id)
    action = progress.progress_action(db, analysis)
    suggested, since = an.suggested_after(db, analysis, action, now) if action else (None, None)
    figure = _pareto_figure([tuple(p) for p in analysis.pareto]) if analysis.pareto else None
    return render_template("maintenance/analysis.html", **_ctx(
        analysis=analysis, proposals=progress.proposals(db, analysis), progress=action, suggested=suggested,
        since=since, figure=figure, indicators=an.INDICATORS, indicator_label=an.indicator_label, error=error,
        form=request.form, mine=analysis.author_id == current_actor().id, today=clock.paris_day(now),
        first_day=clock.paris_day(analysis.period_start),
        last_day=clock.paris_day(analysis.period_end - timedelta(seconds=1))))


@bp.get("/analyses/<int:analysis_id>")
@requires()
def analysis(analysis_id):
    return _analysis_page(analysis_id)


def _analysis_done(analysis: Analysis, message: str):
    flash(message, "success")
    return redirect(url_for("maintenance.analysis", analysis_id=analysis.id))


def _completed(analysis_id: int) -> Analysis:
    """Load and authorise: the analysis, if the actor is its author and it is not validated yet."""
    analysis = _analysis(analysis_id)
    an.editable_by_author(current_actor(), analysis)
    return analysis


@bp.post("/analyses/<int:analysis_id>/conclusions")
@requires()
@form_handler(_analysis_page)
def analysis_conclusions(analysis_id):
    analysis = _completed(analysis_id)
    an.update_conclusions(session(), current_actor(), analysis, inputs.conclusions(request.form))
    return _analysis_done(analysis, "Conclusions enregistrées.")


@bp.post("/analyses/<int:analysis_id>/proposal")
@requires()
@form_handler(_analysis_page)
def analysis_proposal(analysis_id):
    analysis = _completed(analysis_id)
    an.propose(session(), current_actor(), analysis, improvement.new_action(request.form), clock.now())
    return _analysis_done(analysis, "Proposition d'amélioration enregistrée.")


@bp.post("/analyses/<int:analysis_id>/progress")
@requires()
@form_handler(_analysis_page)
def analysis_progress(analysis_id):
    analysis = _completed(analysis_id)
    progress_input = inputs.new_progress(request.form, tuple(an.INDICATORS))
    an.start_progress(session(), current_actor(), analysis, progress_input, clock.now())
    return _analysis_done(analysis, "Action de progrès lancée.")


@bp.post("/analyses/<int:analysis_id>/after")
@requires()
@form_handler(_analysis_page)
def analysis_after(analysis_id):
    analysis = _completed(analysis_id)
    an.record_after(session(), current_actor(), analysis, inputs.after(request.form), clock.now())
    return _analysis_done(analysis, "Valeur après enregistrée.")


# -- Equipment register and plans: forms for tutors and admins ---------------------

def _equipment_form(eq, error):
    db, form = session(), request.form
    parents = db.execute(select(Equipment.code, Equipment.name).where(Equipment.level != "subassembly")
                         .order_by(Equipment.code).limit(500)).all()
    if eq is not None and not form:
        values = {"name": eq.name, "criticality": eq.criticality, "maker": eq.maker, "model": eq.model,
                  "location": eq.location, "reference_values": fields.reference_text(eq.reference_values)}
        chosen = {"technologies": eq.technologies, "energies": eq.energies, "meters": eq.meters}
    else:
        values = {k: form.get(k, "") for k in fields.EQUIPMENT_TEXT + ("reference_values",)}
        chosen = {k: form.getlist(k) for k in ("technologies", "energies", "meters")}
    return render_template("maintenance/equipment_form.html", **_ctx(
        eq=eq, error=error, values=values, chosen=chosen, parents=parents, levels=LEVELS,
        technologies=TECHNOLOGIES, energies=ENERGIES, criticalities=CRITICALITIES))


def _new_equipment_page(error=None):
    return _equipment_form(None, error)


@bp.route("/equipment/new", methods=["GET", "POST"])
@requires("tutor", "admin")
@form_handler(_new_equipment_page)
def new_equipment():
    if request.method == "GET":
        return _new_equipment_page()
    eq = eq_services.create_equipment(session(), current_actor(),
                                     inputs.new_equipment(fields.equipment_data(request.form)))
    flash(f"Équipement {eq.code} créé.", "success")
    return redirect(url_for("maintenance.equipment", code=eq.code))


def _edit_equipment_page(code, error=None):
    return _equipment_form(eq_services.get_equipment(session(), code), error)


@bp.route("/equipment/<code>/edit", methods=["GET", "POST"])
@requires("tutor", "admin")
@form_handler(_edit_equipment_page)
def edit_equipment(code):
    if request.method == "GET":
        return _edit_equipment_page(code)
    db = session()
    eq = eq_services.get_equipment(db, code)
    change = inputs.equipment_change(fields.equipment_data(request.form))
    eq_services.update_equipment(db, current_actor(), eq, change)
    flash(f"Équipement {eq.code} modifié.", "success")
    return redirect(url_for("maintenance.equipment", code=eq.code))


def _import_page(error=None, created=None):
    return render_template("maintenance/import.html", **_ctx(
        error=error, lines=getattr(error, "lines", []), created=created, columns=importer.IMPORT_COLUMNS))


@bp.route("/equipment/import", methods=["GET", "POST"])
@requires("tutor", "admin")
@form_handler(_import_page)
def import_equipment():
    if request.method == "GET":
        return _import_page()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError("Choisissez un fichier CSV ou XLSX.", "file")
    created, _ = importer.import_equipment(session(), current_actor(), upload.read(), upload.filename)
    return _import_page(created=created)


def _plan_page(error=None):
    form = request.form if request.method == "POST" else {"equipment": request.args.get("equipment", "")}
    return render_template("maintenance/plan_form.html", **_ctx(
        error=error, form=form, codes=_equipment_codes(session()), kinds=PLAN_KINDS,
        now=v.to_paris(clock.now())))


@bp.route("/plans/new", methods=["GET", "POST"])
@requires("tutor", "admin")
@form_handler(_plan_page)
def new_plan():
    if request.method == "GET":
        return _plan_page()
    spec = inputs.new_plan(fields.plan_data(request.form), clock.now())
    plan = eq_services.create_plan(session(), current_actor(), spec)
    flash(f"Plan « {plan.title} » créé.", "success")
    return redirect(url_for("maintenance.equipment", code=plan.equipment.code))
