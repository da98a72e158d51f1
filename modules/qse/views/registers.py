"""QSE pages: home, non-conformities, audits and programme, risks and heat map, safety events, regulatory watch."""
from __future__ import annotations

from datetime import timedelta

from flask import Response, flash, redirect, render_template, request, url_for

from modules.improvement import services as improvement
from modules.qse import analyses, audits, events, indicators, inputs, nonconformities as ncs, regulatory, risks
from modules.qse.api import DOCX
from modules.qse.blueprints import bp
from modules.qse.editing import can_change
from modules.qse.views import active_people, or_back_to
from shopfloor import clock
from shopfloor import validation as v
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.db import session
from shopfloor.evidence.context import activity_url
from shopfloor.forms import form_handler, on_error


@bp.get("/")
@requires()
def index():
    db, me, today = session(), current_actor(), clock.paris_day()
    team = me.team_id
    figures = [(i.label, i.compute(db, today, team), i.unit) for i in indicators.INDICATORS]
    return render_template("qse/index.html", figures=figures,
                           ncs=ncs.register(db, me, status="active").rows[:10],
                           audits=audits.audits_page(db, me).rows[:5], analyses=analyses.recent(db, me),
                           registry_url=activity_url)


# -- non-conformities ------------------------------------------------------------------

@bp.get("/nonconformities")
@requires()
def nonconformities():
    filters = {k: request.args.get(k, "") for k in ("status", "severity", "source", "q")}

    def page():
        result = ncs.register(session(), current_actor(), page=v.page_number(request.args),
                              **inputs.nc_filters(filters))
        return render_template("qse/nonconformities.html", result=result, filters=filters)
    return or_back_to("qse.nonconformities", page)


NC_FIELDS = ("title", "source", "severity", "requirement", "description", "place", "quantity", "cost", "detected_at")


@bp.route("/nonconformities/new", methods=["GET", "POST"])
@requires()
def new_nonconformity():
    db = session()
    form = request.form if request.method == "POST" else request.args
    reception = None

    def render(error=None):
        return render_template("qse/nonconformity_new.html", form=form, error=error, reception=reception)

    def act():
        nonlocal reception
        reference = form.get("reception", "").strip()
        reception = ncs.find_reception(db, inputs.reception_reference(reference)) if reference else None
        if request.method != "POST":
            return render()
        data = {k: form.get(k, "") for k in NC_FIELDS}
        data["lots"] = [line.strip() for line in form.get("lots", "").replace(",", "\n").splitlines() if line.strip()]
        now, draft = clock.now(), None
        if reception is not None:
            reception, draft = ncs.reception_draft(db, reception.id)
            data = {k: val for k, val in data.items() if val}   # an empty list of lots keeps the reception's
        nc = ncs.create_nonconformity(db, current_actor(), inputs.nonconformity(data, now, draft), now,
                                      reception=reception)
        flash("Non-conformité ouverte : sécurisez les lots suspects, puis analysez les causes.", "success")
        return redirect(url_for("qse.nonconformity", nc_id=nc.id))
    return on_error(render, act)


def _nc_page(nc_id: int, error=None, **_):
    db, me = session(), current_actor()
    nc = ncs.get_nonconformity(db, me, nc_id)
    sheets = ncs.problem_sheets(db, nc)
    return render_template("qse/nonconformity.html", nc=nc, sheets=sheets, actions=ncs.nc_actions(db, nc, sheets),
                           missing=ncs.closure_missing(db, nc) if nc.status != "closed" else [],
                           people=active_people(db), error=error, today=clock.paris_day(),
                           can_change=can_change(me, nc), action_status_labels=improvement.STATUS_LABELS)


@bp.get("/nonconformities/<int:nc_id>")
@requires()
def nonconformity(nc_id: int):
    return _nc_page(nc_id)


@bp.post("/nonconformities/<int:nc_id>/<any(contain, effectiveness, action, close, cost):step>")
@requires()
@form_handler(_nc_page)
def nonconformity_step(nc_id: int, step: str):
    db, me, form, now = session(), current_actor(), request.form, clock.now()
    nc = ncs.get_nonconformity(db, me, nc_id)
    if step == "contain":
        ncs.contain(db, me, nc, now, inputs.immediate_action(form))
        message = "Lots suspects mis en quarantaine."
    elif step == "effectiveness":
        ncs.check_open(db, me, nc)
        ncs.record_effectiveness(db, me, nc, inputs.effectiveness(form), now)
        message = "Efficacité enregistrée."
    elif step == "action":
        ncs.plan_action(db, me, nc, improvement.new_action(form),
                        owner=improvement.owner_by_username(db, form.get("owner", "")), now=now)
        message = "Action planifiée."
    elif step == "cost":
        ncs.check_open(db, me, nc)
        ncs.set_cost(db, me, nc, inputs.nc_cost(form))
        message = "Coût de non-qualité enregistré."
    else:
        ncs.close(db, me, nc, now)
        message = "Non-conformité clôturée."
    flash(message, "success")
    return redirect(url_for("qse.nonconformity", nc_id=nc.id))


# -- audits ----------------------------------------------------------------------------

@bp.get("/audits")
@requires()
def audits_list():
    args = request.args

    def page():
        filters = inputs.audit_filters(args)
        result = audits.audits_page(session(), current_actor(), page=v.page_number(args), **filters)
        return render_template("qse/audits.html", result=result, args=args)
    return or_back_to("qse.audits_list", page)


AUDIT_FIELDS = ("title", "process", "audit_type", "scope", "criteria", "auditors", "auditees", "audit_date",
                "duration_hours", "programme_entry")


def _new_audit_page(error=None):
    form = request.form if request.method == "POST" else request.args
    return render_template("qse/audit_new.html", form=form, error=error, standards=audits.standards())


@bp.route("/audits/new", methods=["GET", "POST"])
@requires()
@form_handler(_new_audit_page)
def new_audit():
    if request.method != "POST":
        return _new_audit_page()
    form = request.form
    data = {k: form.get(k, "") for k in AUDIT_FIELDS}
    data["standards"] = form.getlist("standards")
    data["clauses"] = [c.strip() for c in form.get("clauses", "").replace(",", " ").split() if c.strip()]
    data["questions"] = form.get("questions", "")
    now = clock.now()
    audit = audits.create_audit(session(), current_actor(), inputs.audit(data, now), now)
    flash("Audit créé : suivez la liste de contrôle et notez vos constats.", "success")
    return redirect(url_for("qse.audit", audit_id=audit.id))


def _audit_page(audit_id: int, error=None, **_):
    db, me = session(), current_actor()
    audit = audits.get_audit(db, me, audit_id)
    return render_template("qse/audit.html", audit=audit, sections=audits.findings_by_clause(audit),
                           titles=audits.clause_titles(audit.standards), error=error, people=active_people(db),
                           default_due=(clock.paris_day() + timedelta(days=30)).isoformat(),
                           can_change=can_change(me, audit),
                           nc_by_finding=audits.nonconformities_of_findings(db, audit))


@bp.get("/audits/<int:audit_id>")
@requires()
def audit(audit_id: int):
    return _audit_page(audit_id)


@bp.post("/audits/<int:audit_id>/<any(finding, question, finish):step>")
@requires()
@form_handler(_audit_page)
def audit_step(audit_id: int, step: str):
    db, me, form = session(), current_actor(), request.form
    record = audits.get_audit(db, me, audit_id)
    if step == "finding":
        audits.check_open(me, record)
        spec = inputs.finding(form, audits.known_clauses(record), record.standards)
        audits.add_finding(db, me, record, spec, clock.now())
        message = "Constat ajouté."
    elif step == "question":
        audits.check_open(me, record)
        audits.add_question(db, me, record, inputs.question(form))
        message = "Question ajoutée à la liste de contrôle."
    else:
        audits.check_finishable(me, record)
        audits.finish(db, me, record, inputs.audit_conclusions(form))
        message = "Audit terminé : téléchargez son rapport."
    flash(message, "success")
    return redirect(url_for("qse.audit", audit_id=audit_id) + ("#findings" if step == "finding" else ""))


@bp.post("/audits/<int:audit_id>/findings/<int:finding_id>/<any(nonconformity, action, close):step>")
@requires()
def finding_step(audit_id: int, finding_id: int, step: str):
    db, me, form, now = session(), current_actor(), request.form, clock.now()
    record = audits.get_audit(db, me, audit_id)
    finding = audits.get_finding(db, me, record, finding_id)   # a missing finding is the error page, as before

    def act():
        if step == "nonconformity":
            draft = audits.finding_draft(db, me, record, finding)
            nc = ncs.create_nonconformity(db, me, inputs.nonconformity({}, now, draft), now, finding=finding)
            flash("Non-conformité ouverte depuis le constat.", "success")
            return redirect(url_for("qse.nonconformity", nc_id=nc.id))
        if step == "action":
            audits.finding_to_action(db, me, record, finding, owner=improvement.owner_by_username(db, form.get("owner", "")),
                                     due=v.date_field(form, "due"), now=now, title=v.text(form, "title", required=False))
            flash("Action créée depuis le constat.", "success")
        else:
            audits.close_finding(db, me, record, finding, now)
            flash("Constat soldé.", "success")
        return redirect(url_for("qse.audit", audit_id=audit_id) + "#findings")
    return on_error(lambda error: _audit_page(audit_id, error), act)


@bp.get("/audits/<int:audit_id>/report.docx")
@requires()
def audit_report_docx(audit_id: int):
    record = audits.get_audit(session(), current_actor(), audit_id)
    return Response(audits.report_docx(record), mimetype=DOCX,
                    headers={"Content-Disposition": f'attachment; filename="audit-{record.id}.docx"'})


@bp.get("/audits/<int:audit_id>/report")
@requires()
def audit_report_print(audit_id: int):
    record = audits.get_audit(session(), current_actor(), audit_id)
    return render_template("qse/audit_report.html", audit=record, sections=audits.findings_by_clause(record),
                           identification=audits.identification(record),
                           opportunities=[f for f in record.findings if f.kind == "opportunity"])


def _programme_year() -> int:
    return v.query_int(request.values, "year", minimum=1900, maximum=2200) or clock.paris_day().year


def _programme_page(error=None):
    year = _programme_year()
    return render_template("qse/programme.html", year=year, grid=audits.programme(session(), year),
                           months=audits.MONTHS, standards=audits.standards(), error=error)


@bp.route("/audits/programme", methods=["GET", "POST"])
@requires()
def programme():
    year = _programme_year()   # a malformed year is the error page, as before
    if request.method != "POST":
        return _programme_page()

    def act():
        audits.check_may_plan(current_actor())
        audits.add_programme_entry(session(), current_actor(), inputs.programme_entry(request.form))
        flash("Audit ajouté au programme.", "success")
        return redirect(url_for("qse.programme", year=year))
    return on_error(_programme_page, act)


# -- risks -----------------------------------------------------------------------------

RISK_FIELDS = ("title", "process", "category", "kind", "description", "likelihood", "severity", "work_unit", "hazard",
               "existing_measures", "residual_likelihood", "residual_severity", "treatment", "review_on")


@bp.get("/risks")
@requires()
def risks_list():
    db, args, me = session(), request.args, current_actor()
    process = args.get("process", "")

    def page():
        min_score = v.integer(args, "min_score", required=False, minimum=1, maximum=16)
        number = v.page_number(args)
        category = inputs.risk_category(args)
        result = risks.register(db, me, category=category, process=process, min_score=min_score, page=number)
        figure = risks.heat_map_figure(risks.heat_counts(db, me, category=category, process=process))
        return render_template("qse/risks.html", result=result, args=args, figure=figure,
                               processes=risks.processes(db), level=risks.level, level_labels=risks.LEVEL_LABELS)
    return or_back_to("qse.risks_list", page)


def _new_risk_page(error=None):
    form = request.form if request.method == "POST" else request.args
    return render_template("qse/risk_new.html", form=form, error=error, scale=risks.SCALE,
                           likelihood_labels=risks.LIKELIHOOD_LABELS, severity_labels=risks.SEVERITY_LABELS)


@bp.route("/risks/new", methods=["GET", "POST"])
@requires()
@form_handler(_new_risk_page)
def new_risk():
    if request.method != "POST":
        return _new_risk_page()
    data = {k: request.form.get(k, "") for k in RISK_FIELDS if request.form.get(k, "") != ""}
    risk = risks.create_risk(session(), current_actor(), inputs.risk(data), clock.now())
    flash(f"Risque enregistré : cotation {risk.score}.", "success")
    return redirect(url_for("qse.risk", risk_id=risk.id))


@bp.get("/risks/<int:risk_id>")
@requires()
def risk(risk_id: int):
    record = risks.get_risk(session(), current_actor(), risk_id)
    return render_template("qse/risk.html", risk=record, level=risks.level(record.score),
                           level_labels=risks.LEVEL_LABELS)


# -- safety events -----------------------------------------------------------------------

def _events_page(error=None):
    db, me = session(), current_actor()
    today, kind = clock.paris_day(), request.args.get("kind", "")
    number = v.page_number(request.args)
    result = events.events_page(db, me, kind=inputs.event_kind(request.args), page=number)
    return render_template("qse/events.html", result=result, error=error, form=request.form, kind=kind,
                           days=events.days_without_accident(db, today, me.team_id),
                           near_misses=events.count_in_month(db, "near_miss", today, me.team_id),
                           waste=events.waste_by_kind(db, today - timedelta(days=30), today))


@bp.route("/events", methods=["GET", "POST"])
@requires()
def events_list():
    if request.method != "POST":
        return or_back_to("qse.events_list", _events_page)

    def act():
        now = clock.now()
        events.create_event(session(), current_actor(), inputs.event(request.form, now), now)
        flash("Événement déclaré. Merci : chaque signalement évite le suivant.", "success")
        return redirect(url_for("qse.events_list"))
    return on_error(_events_page, act)


# -- regulatory watch ----------------------------------------------------------------------

REGULATORY_FILTERS = ("domain", "compliance", "q")


@bp.get("/regulatory")
@requires()
def regulatory_list():
    filters = {k: request.args.get(k, "") for k in REGULATORY_FILTERS}

    def page():
        number = v.page_number(request.args)
        result = regulatory.register(session(), page=number, **inputs.regulatory_filters(filters))
        return render_template("qse/regulatory.html", result=result, filters=filters, today=clock.paris_day())
    return or_back_to("qse.regulatory_list", page)


@bp.get("/regulatory/export.csv")
@requires()
def regulatory_export():
    content = regulatory.export_csv(session(), **inputs.regulatory_filters(request.args))
    return Response(content, mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="veille-reglementaire.csv"'})


def _text_page(text_id, error=None):
    text = regulatory.get_text(session(), text_id) if text_id else None
    form = request.form if request.method == "POST" else (regulatory.as_json(text) if text else {})
    return render_template("qse/regulatory_text.html", form=form, text=text, error=error)


@bp.route("/regulatory/new", methods=["GET", "POST"], defaults={"text_id": None})
@bp.route("/regulatory/<int:text_id>", methods=["GET", "POST"])
@requires()
@form_handler(_text_page)
def regulatory_text(text_id):
    db = session()
    text = regulatory.get_text(db, text_id) if text_id else None
    if request.method != "POST":
        return _text_page(text_id)
    regulatory.check_may_edit(current_actor())
    values = inputs.regulatory_text({k: request.form.get(k, "") for k in inputs.REGULATORY_FIELDS})
    text = regulatory.save_text(db, current_actor(), values, text)
    flash("Texte enregistré.", "success")
    return redirect(url_for("qse.regulatory_text", text_id=text.id))
