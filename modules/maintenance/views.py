"""HTML pages: schedule, equipment sheet (readings chart, label), breakdown request, work order, KPIs."""
from __future__ import annotations

from datetime import timedelta

import plotly.graph_objects as go
from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from modules.maintenance import equipment as eq_services
from modules.maintenance import readings as rd
from modules.maintenance import workorders as wos
from modules.maintenance.api import period
from modules.maintenance.models import (
    CODE_LABELS, CONSEQUENCES_LABELS, FAILURE_CAUSES, FAILURE_MODES, LOCKOUT_STEPS, Equipment, Plan, WorkOrder)
from modules.stock.labels import qr_svg
from shopfloor import validation as v
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.db import session
from shopfloor import clock
from shopfloor.errors import DomainError, ValidationError
from shopfloor.registry import ActivityType

bp = Blueprint("maintenance", __name__, url_prefix="/maintenance", template_folder="templates")


@bp.app_template_filter("code_label")
def code_label(code: str) -> str:
    return CODE_LABELS.get(code, code)

STEP_LABELS = {"separate": "Séparer", "lock": "Condamner", "tag": "Identifier (étiquette)",
               "purge": "Purger les énergies résiduelles", "verify": "Vérifier l'absence d'énergie"}
STATUS_LABELS = {"requested": "Demandé", "planned": "Planifié", "in_progress": "En cours", "on_hold": "En attente",
                 "done": "Terminé", "closed": "Clôturé"}
PLAN_LABELS = {"calendar": "Systématique (calendrier)", "usage": "Systématique (usage)",
               "condition": "Conditionnel", "predictive": "Prévisionnel"}

ACTIVITY_TYPES = [
    ActivityType("maintenance_check", "Contrôle / inspection", ("MAINT-1",),
                 url=lambda a: url_for("maintenance.work_order", wo_id=a.work_order.id)),
    ActivityType("maintenance_preventive", "Maintenance préventive", ("MAINT-2",),
                 url=lambda a: url_for("maintenance.work_order", wo_id=a.work_order.id)),
    ActivityType("maintenance_analysis", "Analyse de maintenance (action de progrès mesurée : MAINT-6)",
                 ("MAINT-5",), url=lambda a: url_for("maintenance.analysis", analysis_id=a.id)),
    ActivityType("maintenance_corrective", "Maintenance corrective (diagnostic : MAINT-3)", ("MAINT-4",),
                 url=lambda a: url_for("maintenance.work_order", wo_id=a.work_order.id)),
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
    db, now = session(), clock.now()
    eq = eq_services.get_equipment(db, code)
    plans = db.scalars(select(Plan).where(Plan.equipment_id == eq.id).order_by(Plan.id)).all()
    orders = wos.list_work_orders(db, equipment=eq, limit=30, actor=current_actor())
    params = rd.parameters(db, eq)
    parameter = request.args.get("parameter") or (params[0] if params else None)
    figure = _reading_figure(db, eq, parameter, now) if parameter else None
    kpis = rd.compute_kpis(db, [eq.id], now - timedelta(days=365), now, now)
    return render_template("maintenance/equipment.html", **_ctx(
        eq=eq, plans=plans, orders=orders, params=params, parameter=parameter, figure=figure, kpis=kpis))


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
def add_reading(code):
    db = session()
    eq = eq_services.get_equipment(db, code)
    try:
        rd.add_readings(db, current_actor(), [{"equipment": eq.code, "parameter": request.form.get("parameter"),
                                               "value": request.form.get("value"),
                                               "at": request.form.get("at") or None}], clock.now(), source="manual")
    except DomainError as error:
        db.rollback()
        flash(error.message, "error")
        return redirect(url_for("maintenance.equipment", code=code)), error.status
    flash("Mesure enregistrée.", "success")
    return redirect(url_for("maintenance.equipment", code=code, parameter=request.form.get("parameter")))


@bp.get("/equipment/<code>/label")
@requires()
def label(code):
    eq = eq_services.get_equipment(session(), code)
    target = url_for("maintenance.breakdown", code=eq.code, _external=True)
    return render_template("maintenance/label.html", **_ctx(eq=eq, qr=qr_svg(target), target=target))


@bp.route("/equipment/<code>/breakdown", methods=["GET", "POST"])
@requires()
def breakdown(code):
    db = session()
    eq = eq_services.get_equipment(db, code)
    error = None
    if request.method == "POST":
        try:
            data = dict(request.form.items(), stopped=bool(request.form.get("stopped")))
            wo = wos.request_breakdown(db, current_actor(), eq, data, clock.now())
        except DomainError as exc:
            db.rollback()
            error = exc
        else:
            flash(f"Demande OT-{wo.id} enregistrée : le service maintenance est prévenu.", "success")
            return redirect(url_for("maintenance.work_order", wo_id=wo.id))
    return render_template("maintenance/breakdown.html", **_ctx(eq=eq, error=error, form=request.form)), \
        (error.status if error else 200)


@bp.get("/work-orders/<int:wo_id>")
@requires()
def work_order(wo_id):
    db = session()
    wo = wos.visible_work_order(db, current_actor(), wo_id)
    return _render_wo(wo, None)


def _render_wo(wo: WorkOrder, error, status: int = 200):
    actor = current_actor()
    mine = wo.intervention is None or wo.intervention.author_id == actor.id
    follow = session().scalars(select(WorkOrder).where(WorkOrder.parent_id == wo.id)).all()
    return render_template("maintenance/work_order.html", **_ctx(
        wo=wo, error=error, mine=mine, can_close=wos.can_close(actor, wo), missing=wos.lockout_missing(wo),
        follow=follow, modes=FAILURE_MODES, causes=FAILURE_CAUSES, consequences=CONSEQUENCES_LABELS,
        steps=LOCKOUT_STEPS, form=request.form)), status


def _form_action(wo_id, fn, message):
    db = session()
    wo = wos.visible_work_order(db, current_actor(), wo_id)
    try:
        fn(db, wo)
    except DomainError as error:
        db.rollback()
        return _render_wo(wos.visible_work_order(db, current_actor(), wo_id), error, error.status)
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
def lockout(wo_id):
    form = request.form
    if form.get("running"):
        data = {"running": True}
    else:
        data = {"steps": [_lockout_step(value) for value in form.getlist("step")]}
    return _form_action(wo_id, lambda db, wo: wos.record_lockout(db, current_actor(), wo, data, clock.now()),
                        "Consignation enregistrée.")


@bp.post("/work-orders/<int:wo_id>/start")
@requires()
def start(wo_id):
    return _form_action(wo_id, lambda db, wo: wos.start(db, current_actor(), wo, clock.now()), "Intervention démarrée.")


@bp.post("/work-orders/<int:wo_id>/hold")
@requires()
def hold(wo_id):
    return _form_action(wo_id, lambda db, wo: wos.hold(db, current_actor(), wo, request.form.get("reason", ""),
                                                       clock.now()), "Ordre de travail mis en attente.")


@bp.post("/work-orders/<int:wo_id>/results")
@requires()
def results(wo_id):
    values = {k[2:]: ("ok" if val == "on" else val) for k, val in request.form.items() if k.startswith("r_")}
    return _form_action(wo_id, lambda db, wo: wos.record_results(db, current_actor(), wo, values, clock.now()),
                        "Résultats de la gamme enregistrés.")


@bp.post("/work-orders/<int:wo_id>/diagnosis")
@requires()
def diagnosis(wo_id):
    f = request.form
    hypotheses = [{"hypothesis": h, "test": t, "result": r} for h, t, r in
                  zip(f.getlist("hypothesis"), f.getlist("test"), f.getlist("result")) if h.strip()]
    data = {"lost_function": f.get("lost_function"), "root_cause": f.get("root_cause"),
            "failure_mode": f.get("failure_mode"), "failure_cause": f.get("failure_cause"),
            "symptom": f.get("symptom"), "hypotheses": hypotheses,
            "consequences": {k: f.get(f"cons_{k}", "") for k in CONSEQUENCES_LABELS}}
    return _form_action(wo_id, lambda db, wo: wos.record_diagnosis(db, current_actor(), wo, data, clock.now()),
                        "Diagnostic enregistré.")


@bp.post("/work-orders/<int:wo_id>/parts")
@requires()
def pick_parts(wo_id):
    from modules.maintenance import parts
    db = session()
    wo = wos.visible_work_order(db, current_actor(), wo_id)
    try:
        outcome = parts.pick_parts(db, current_actor(), wo, dict(request.form.items()), clock.now())
    except DomainError as error:
        db.rollback()
        return _render_wo(wos.visible_work_order(db, current_actor(), wo_id), error, error.status)
    flash(outcome.message, "success" if outcome.picked else "error")
    return redirect(url_for("maintenance.work_order", wo_id=wo.id))


@bp.post("/work-orders/<int:wo_id>/finish")
@requires()
def finish(wo_id):
    return _form_action(wo_id, lambda db, wo: wos.finish(db, current_actor(), wo, dict(request.form.items()),
                                                         clock.now()), "Intervention terminée.")


@bp.post("/work-orders/<int:wo_id>/close")
@requires("tutor", "admin")
def close(wo_id):
    return _form_action(wo_id, lambda db, wo: wos.close(db, current_actor(), wo, clock.now()), "Ordre de travail clôturé.")


@bp.post("/work-orders/<int:wo_id>/corrective")
@requires()
def propose_corrective(wo_id):
    return _form_action(wo_id, lambda db, wo: wos.propose_corrective(db, current_actor(), wo, clock.now()),
                        "Ordre de travail correctif créé.")


@bp.get("/kpis")
@requires()
def kpis():
    db, now = session(), clock.now()
    error = None
    eq = None
    try:
        eq = eq_services.get_equipment(db, request.args["equipment"]) if request.args.get("equipment") else None
        start, end = period(request.args, now)
    except DomainError as exc:
        error, eq = exc, None
        start, end = period({}, now)
    ids = [eq.id] if eq else None
    figures = {}
    for by in (("cause",) if eq else ("equipment", "cause")):
        bars = rd.pareto_failures(db, start, end, by, equipment_ids=ids)
        if bars:
            figures[by] = _pareto_figure(bars)
    codes = db.execute(select(Equipment.code, Equipment.name).where(Equipment.level != "site")
                       .order_by(Equipment.code).limit(500)).all()
    return render_template("maintenance/kpis.html", **_ctx(
        eq=eq, kpis=rd.compute_kpis(db, ids, start, end, now), figures=figures, codes=codes, error=error,
        start=v.to_paris(start).date(), end=(v.to_paris(end) - timedelta(seconds=1)).date())), \
        (error.status if error else 200)


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

def _analysis_services():
    from modules.maintenance import analysis
    return analysis


@bp.get("/analyses")
@requires()
def analyses():
    db = session()
    return render_template("maintenance/analyses.html", **_ctx(
        analyses=_analysis_services().list_analyses(db, current_actor()), codes=_equipment_codes(db), error=None,
        form={}, today=v.to_paris(clock.now()).date())), 200


def _equipment_codes(db):
    return db.execute(select(Equipment.code, Equipment.name).where(Equipment.level != "site")
                      .order_by(Equipment.code).limit(500)).all()


@bp.post("/analyses")
@requires()
def create_analysis():
    db, an = session(), _analysis_services()
    try:
        analysis = an.create_analysis(db, current_actor(), dict(request.form.items()), clock.now())
    except DomainError as error:
        db.rollback()
        return render_template("maintenance/analyses.html", **_ctx(
            analyses=an.list_analyses(db, current_actor()), codes=_equipment_codes(db), error=error,
            form=request.form, today=v.to_paris(clock.now()).date())), error.status
    flash("Analyse créée : rédigez vos conclusions et votre proposition.", "success")
    return redirect(url_for("maintenance.analysis", analysis_id=analysis.id))


@bp.get("/analyses/<int:analysis_id>")
@requires()
def analysis(analysis_id):
    db = session()
    return _render_analysis(db, _analysis_services().visible_analysis(db, current_actor(), analysis_id), None)


def _render_analysis(db, analysis, error, status: int = 200):
    an, now = _analysis_services(), clock.now()
    progress = an.progress_action(db, analysis)
    suggested, since = an.suggested_after(db, analysis, progress, now) if progress else (None, None)
    figure = _pareto_figure([tuple(p) for p in analysis.pareto]) if analysis.pareto else None
    return render_template("maintenance/analysis.html", **_ctx(
        analysis=analysis, proposals=an.proposals(db, analysis), progress=progress, suggested=suggested,
        since=since, figure=figure, indicators=an.INDICATORS, indicator_label=an.indicator_label, error=error,
        form=request.form, mine=analysis.author_id == current_actor().id, today=v.to_paris(now).date(),
        first_day=v.to_paris(analysis.period_start).date(),
        last_day=v.to_paris(analysis.period_end - timedelta(seconds=1)).date())), status


def _analysis_action(analysis_id, fn, message):
    db, an = session(), _analysis_services()
    analysis = an.visible_analysis(db, current_actor(), analysis_id)
    try:
        fn(db, an, analysis)
    except DomainError as error:
        db.rollback()
        return _render_analysis(db, an.visible_analysis(db, current_actor(), analysis_id), error, error.status)
    flash(message, "success")
    return redirect(url_for("maintenance.analysis", analysis_id=analysis_id))


@bp.post("/analyses/<int:analysis_id>/conclusions")
@requires()
def analysis_conclusions(analysis_id):
    return _analysis_action(analysis_id, lambda db, an, a: an.update_conclusions(
        db, current_actor(), a, dict(request.form.items())), "Conclusions enregistrées.")


@bp.post("/analyses/<int:analysis_id>/proposal")
@requires()
def analysis_proposal(analysis_id):
    return _analysis_action(analysis_id, lambda db, an, a: an.propose(
        db, current_actor(), a, dict(request.form.items()), clock.now()), "Proposition d'amélioration enregistrée.")


@bp.post("/analyses/<int:analysis_id>/progress")
@requires()
def analysis_progress(analysis_id):
    return _analysis_action(analysis_id, lambda db, an, a: an.start_progress(
        db, current_actor(), a, dict(request.form.items()), clock.now()), "Action de progrès lancée.")


@bp.post("/analyses/<int:analysis_id>/after")
@requires()
def analysis_after(analysis_id):
    return _analysis_action(analysis_id, lambda db, an, a: an.record_after(
        db, current_actor(), a, dict(request.form.items()), clock.now()), "Valeur après enregistrée.")


# -- Equipment register and plans: forms for tutors and admins ---------------------

def _equipment_form(eq, error, form, status: int = 200):
    from modules.maintenance import forms
    from modules.maintenance.models import CRITICALITIES, ENERGIES, LEVELS, TECHNOLOGIES
    db = session()
    parents = db.execute(select(Equipment.code, Equipment.name).where(Equipment.level != "subassembly")
                         .order_by(Equipment.code).limit(500)).all()
    if eq is not None and not form:
        values = {"name": eq.name, "criticality": eq.criticality, "maker": eq.maker, "model": eq.model,
                  "location": eq.location, "reference_values": forms.reference_text(eq.reference_values)}
        chosen = {"technologies": eq.technologies, "energies": eq.energies, "meters": eq.meters}
    else:
        values = {k: form.get(k, "") for k in forms.EQUIPMENT_TEXT + ("reference_values",)}
        chosen = {k: form.getlist(k) if hasattr(form, "getlist") else [] for k in ("technologies", "energies", "meters")}
    return render_template("maintenance/equipment_form.html", **_ctx(
        eq=eq, error=error, values=values, chosen=chosen, parents=parents, levels=LEVELS,
        technologies=TECHNOLOGIES, energies=ENERGIES, criticalities=CRITICALITIES)), status


@bp.route("/equipment/new", methods=["GET", "POST"])
@requires("tutor", "admin")
def new_equipment():
    if request.method == "GET":
        return _equipment_form(None, None, {})
    from modules.maintenance import forms
    db = session()
    try:
        eq = eq_services.create_equipment(db, current_actor(), forms.equipment_data(request.form))
    except DomainError as error:
        db.rollback()
        return _equipment_form(None, error, request.form, error.status)
    flash(f"Équipement {eq.code} créé.", "success")
    return redirect(url_for("maintenance.equipment", code=eq.code))


@bp.route("/equipment/<code>/edit", methods=["GET", "POST"])
@requires("tutor", "admin")
def edit_equipment(code):
    db = session()
    eq = eq_services.get_equipment(db, code)
    if request.method == "GET":
        return _equipment_form(eq, None, {})
    from modules.maintenance import forms
    try:
        eq_services.update_equipment(db, current_actor(), eq, forms.equipment_data(request.form))
    except DomainError as error:
        db.rollback()
        return _equipment_form(eq_services.get_equipment(db, code), error, request.form, error.status)
    flash(f"Équipement {eq.code} modifié.", "success")
    return redirect(url_for("maintenance.equipment", code=eq.code))


@bp.route("/equipment/import", methods=["GET", "POST"])
@requires("tutor", "admin")
def import_equipment():
    error, created = None, None
    if request.method == "POST":
        db, upload = session(), request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise ValidationError("Choisissez un fichier CSV ou XLSX.", "file")
            created, _ = eq_services.import_equipment(db, current_actor(), upload.read(), upload.filename)
        except DomainError as exc:
            db.rollback()
            error = exc
    return render_template("maintenance/import.html", **_ctx(
        error=error, lines=getattr(error, "lines", []), created=created,
        columns=eq_services.IMPORT_COLUMNS)), (error.status if error else 200)


def _plan_form(error, form, status: int = 200):
    from modules.maintenance.models import PLAN_KINDS
    codes = _equipment_codes(session())
    return render_template("maintenance/plan_form.html", **_ctx(
        error=error, form=form, codes=codes, kinds=PLAN_KINDS, now=v.to_paris(clock.now()))), status


@bp.route("/plans/new", methods=["GET", "POST"])
@requires("tutor", "admin")
def new_plan():
    if request.method == "GET":
        return _plan_form(None, {"equipment": request.args.get("equipment", "")})
    from modules.maintenance import forms
    db = session()
    try:
        plan = eq_services.create_plan(db, current_actor(), forms.plan_data(request.form), clock.now())
    except DomainError as error:
        db.rollback()
        return _plan_form(error, request.form, error.status)
    flash(f"Plan « {plan.title} » créé.", "success")
    return redirect(url_for("maintenance.equipment", code=plan.equipment.code))
