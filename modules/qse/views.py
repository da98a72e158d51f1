"""QSE pages: home, non-conformities, audits and programme, risks and heat map, safety events, regulatory watch."""
from __future__ import annotations

from datetime import timedelta

from flask import Response, flash, redirect, render_template, request, url_for

from modules.improvement.actions import owner_by_username
from modules.qse import analyses, audits, events, indicators, nonconformities as ncs, regulatory, risks
from modules.qse.api import DOCX
from modules.qse.common import can_change, paris_day
from modules.qse.web import bp, page_arg, user
from shopfloor import validation as v
from shopfloor.auth.permissions import requires
from shopfloor.auth.services import list_users
from shopfloor.db import session
from shopfloor import clock
from shopfloor.errors import DomainError
from shopfloor.evidence.context import activity_url


def _people(db):
    return [u for u in list_users(db) if u.active]


def _failed(db, exc: DomainError):
    db.rollback()
    return exc


@bp.get("/")
@requires()
def index():
    db, me, today = session(), user(), paris_day(clock.now())
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
    db, args = session(), request.args
    filters = {k: args.get(k, "") for k in ("status", "severity", "source", "q")}
    try:
        result = ncs.register(db, user(), page=page_arg(), **filters)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("qse.nonconformities"))
    return render_template("qse/nonconformities.html", result=result, filters=filters)


@bp.route("/nonconformities/new", methods=["GET", "POST"])
@requires()
def new_nonconformity():
    db, error = session(), None
    form = request.form if request.method == "POST" else request.args
    reception, reference = None, form.get("reception", "").strip()
    try:
        reception = ncs.find_reception(db, reference) if reference else None
    except DomainError as exc:
        error = exc
    if request.method == "POST" and error is None:
        data = {k: form.get(k, "") for k in ("title", "source", "severity", "requirement", "description", "place",
                                             "quantity", "cost", "detected_at")}
        data["lots"] = [line.strip() for line in form.get("lots", "").replace(",", "\n").splitlines() if line.strip()]
        try:
            if reception is not None:
                nc = ncs.open_from_reception(db, user(), reception.id, clock.now(),
                                             {k: val for k, val in data.items() if val})
            else:
                nc = ncs.create_nonconformity(db, user(), data, clock.now())
        except DomainError as exc:
            error = _failed(db, exc)
        else:
            flash("Non-conformité ouverte : sécurisez les lots suspects, puis analysez les causes.", "success")
            return redirect(url_for("qse.nonconformity", nc_id=nc.id))
    return render_template("qse/nonconformity_new.html", form=form, error=error, reception=reception), \
        (error.status if error else 200)


def _nc_page(db, nc, error=None):
    sheets = ncs.problem_sheets(db, nc)
    return render_template("qse/nonconformity.html", nc=nc, sheets=sheets, actions=ncs.nc_actions(db, nc, sheets),
                           missing=ncs.closure_missing(db, nc) if nc.status != "closed" else [],
                           people=_people(db), error=error, today=paris_day(clock.now()),
                           can_change=can_change(user(), nc)), (error.status if error else 200)


@bp.get("/nonconformities/<int:nc_id>")
@requires()
def nonconformity(nc_id: int):
    db = session()
    return _nc_page(db, ncs.get_nonconformity(db, user(), nc_id))


@bp.post("/nonconformities/<int:nc_id>/<any(contain, effectiveness, action, close, cost):step>")
@requires()
def nonconformity_step(nc_id: int, step: str):
    db, me, form, now = session(), user(), request.form, clock.now()
    nc = ncs.get_nonconformity(db, me, nc_id)
    try:
        if step == "contain":
            ncs.contain(db, me, nc, now, form.get("immediate_action", ""))
            message = "Lots suspects mis en quarantaine."
        elif step == "effectiveness":
            ncs.record_effectiveness(db, me, nc, {"effectiveness": form.get("effectiveness", ""),
                                                  "effective": form.get("effective", "")}, now)
            message = "Efficacité enregistrée."
        elif step == "action":
            ncs.plan_action(db, me, nc, title=form.get("title", ""), deliverable=form.get("deliverable", ""),
                            owner=owner_by_username(db, form.get("owner", "")), due=v.date_field(form, "due"),
                            now=now, kind=form.get("kind", "corrective"))
            message = "Action planifiée."
        elif step == "cost":
            ncs.update(db, me, nc, {"cost": form.get("cost", "")})
            message = "Coût de non-qualité enregistré."
        else:
            ncs.close(db, me, nc, now)
            message = "Non-conformité clôturée."
    except DomainError as exc:
        db.rollback()
        return _nc_page(db, ncs.get_nonconformity(db, me, nc_id), exc)
    flash(message, "success")
    return redirect(url_for("qse.nonconformity", nc_id=nc.id))


# -- audits ----------------------------------------------------------------------------

@bp.get("/audits")
@requires()
def audits_list():
    db, args = session(), request.args
    try:
        result = audits.audits_page(db, user(), status=args.get("status", ""), process=args.get("process", ""),
                                    page=page_arg())
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("qse.audits_list"))
    return render_template("qse/audits.html", result=result, args=args)


@bp.route("/audits/new", methods=["GET", "POST"])
@requires()
def new_audit():
    db, error = session(), None
    form = request.form if request.method == "POST" else request.args
    if request.method == "POST":
        data = {k: form.get(k, "") for k in ("title", "process", "audit_type", "scope", "criteria", "auditors",
                                             "auditees", "audit_date", "duration_hours", "programme_entry")}
        data["standards"] = form.getlist("standards")
        data["clauses"] = [c.strip() for c in form.get("clauses", "").replace(",", " ").split() if c.strip()]
        data["questions"] = form.get("questions", "")
        try:
            audit = audits.create_audit(db, user(), data, clock.now())
        except DomainError as exc:
            error = _failed(db, exc)
        else:
            flash("Audit créé : suivez la liste de contrôle et notez vos constats.", "success")
            return redirect(url_for("qse.audit", audit_id=audit.id))
    return render_template("qse/audit_new.html", form=form, error=error, standards=audits.standards()), \
        (error.status if error else 200)


def _audit_page(db, audit, error=None):
    return render_template("qse/audit.html", audit=audit, sections=audits.findings_by_clause(audit),
                           titles=audits.clause_titles(audit.standards), error=error, people=_people(db),
                           default_due=(paris_day(clock.now()) + timedelta(days=30)).isoformat(),
                           can_change=can_change(user(), audit),
                           nc_by_finding=_ncs_of(db, audit)), (error.status if error else 200)


def _ncs_of(db, audit) -> dict[int, int]:
    from sqlalchemy import select
    from modules.qse.models import NonConformity
    ids = [f.id for f in audit.findings]
    if not ids:
        return {}
    return {finding_id: nc_id for nc_id, finding_id in
            db.execute(select(NonConformity.id, NonConformity.finding_id).where(NonConformity.finding_id.in_(ids)))}


@bp.get("/audits/<int:audit_id>")
@requires()
def audit(audit_id: int):
    db = session()
    return _audit_page(db, audits.get_audit(db, user(), audit_id))


@bp.post("/audits/<int:audit_id>/<any(finding, question, finish):step>")
@requires()
def audit_step(audit_id: int, step: str):
    db, me, form = session(), user(), request.form
    record = audits.get_audit(db, me, audit_id)
    try:
        if step == "finding":
            audits.add_finding(db, me, record, {k: form.get(k, "") for k in ("clause", "kind", "evidence")}, clock.now())
            message = "Constat ajouté."
        elif step == "question":
            audits.add_question(db, me, record, {"clause": form.get("clause", ""), "question": form.get("question", "")})
            message = "Question ajoutée à la liste de contrôle."
        else:
            audits.finish(db, me, record, form.get("conclusions", ""))
            message = "Audit terminé : téléchargez son rapport."
    except DomainError as exc:
        db.rollback()
        return _audit_page(db, audits.get_audit(db, me, audit_id), exc)
    flash(message, "success")
    return redirect(url_for("qse.audit", audit_id=audit_id) + ("#findings" if step == "finding" else ""))


@bp.post("/audits/<int:audit_id>/findings/<int:finding_id>/<any(nonconformity, action, close):step>")
@requires()
def finding_step(audit_id: int, finding_id: int, step: str):
    db, me, form, now = session(), user(), request.form, clock.now()
    record = audits.get_audit(db, me, audit_id)
    finding = audits.get_finding(db, me, record, finding_id)
    try:
        if step == "nonconformity":
            nc = audits.finding_to_nonconformity(db, me, record, finding, now)
            flash("Non-conformité ouverte depuis le constat.", "success")
            return redirect(url_for("qse.nonconformity", nc_id=nc.id))
        if step == "action":
            audits.finding_to_action(db, me, record, finding, owner=owner_by_username(db, form.get("owner", "")),
                                     due=v.date_field(form, "due"), now=now, title=form.get("title", ""))
            flash("Action créée depuis le constat.", "success")
        else:
            audits.close_finding(db, me, record, finding, now)
            flash("Constat soldé.", "success")
    except DomainError as exc:
        db.rollback()
        return _audit_page(db, audits.get_audit(db, me, audit_id), exc)
    return redirect(url_for("qse.audit", audit_id=audit_id) + "#findings")


@bp.get("/audits/<int:audit_id>/report.docx")
@requires()
def audit_report_docx(audit_id: int):
    record = audits.get_audit(session(), user(), audit_id)
    return Response(audits.report_docx(record), mimetype=DOCX,
                    headers={"Content-Disposition": f'attachment; filename="audit-{record.id}.docx"'})


@bp.get("/audits/<int:audit_id>/report")
@requires()
def audit_report_print(audit_id: int):
    record = audits.get_audit(session(), user(), audit_id)
    return render_template("qse/audit_report.html", audit=record, sections=audits.findings_by_clause(record),
                           identification=audits._identification(record),
                           opportunities=[f for f in record.findings if f.kind == "opportunity"])


@bp.route("/audits/programme", methods=["GET", "POST"])
@requires()
def programme():
    db, error = session(), None
    year = v.query_int(request.values, "year", minimum=1900, maximum=2200) or paris_day(clock.now()).year
    if request.method == "POST":
        try:
            audits.add_programme_entry(db, user(), {k: request.form.get(k, "") for k in
                                                    ("year", "month", "process", "standard")})
        except DomainError as exc:
            error = _failed(db, exc)
        else:
            flash("Audit ajouté au programme.", "success")
            return redirect(url_for("qse.programme", year=year))
    return render_template("qse/programme.html", year=year, grid=audits.programme(db, year), months=audits.MONTHS,
                           standards=audits.standards(), error=error), (error.status if error else 200)


# -- risks -----------------------------------------------------------------------------

RISK_FIELDS = ("title", "process", "category", "kind", "description", "likelihood", "severity", "work_unit", "hazard",
               "existing_measures", "residual_likelihood", "residual_severity", "treatment", "review_on")


@bp.get("/risks")
@requires()
def risks_list():
    db, args, me = session(), request.args, user()
    category, process = args.get("category", ""), args.get("process", "")
    try:
        min_score = v.integer(args, "min_score", required=False, minimum=1, maximum=16)
        result = risks.register(db, me, category=category, process=process, min_score=min_score, page=page_arg())
        figure = risks.heat_map_figure(risks.heat_counts(db, me, category=category, process=process))
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("qse.risks_list"))
    return render_template("qse/risks.html", result=result, args=args, figure=figure, processes=risks.processes(db),
                           level=risks.level, level_labels=risks.LEVEL_LABELS)


@bp.route("/risks/new", methods=["GET", "POST"])
@requires()
def new_risk():
    db, error = session(), None
    form = request.form if request.method == "POST" else request.args
    if request.method == "POST":
        data = {k: form.get(k, "") for k in RISK_FIELDS if form.get(k, "") != ""}
        try:
            risk = risks.create_risk(db, user(), data, clock.now())
        except DomainError as exc:
            error = _failed(db, exc)
        else:
            flash(f"Risque enregistré : cotation {risk.score}.", "success")
            return redirect(url_for("qse.risk", risk_id=risk.id))
    return render_template("qse/risk_new.html", form=form, error=error, scale=risks.SCALE,
                           likelihood_labels=risks.LIKELIHOOD_LABELS, severity_labels=risks.SEVERITY_LABELS), \
        (error.status if error else 200)


@bp.get("/risks/<int:risk_id>")
@requires()
def risk(risk_id: int):
    record = risks.get_risk(session(), user(), risk_id)
    return render_template("qse/risk.html", risk=record, level=risks.level(record.score),
                           level_labels=risks.LEVEL_LABELS)


# -- safety events -----------------------------------------------------------------------

@bp.route("/events", methods=["GET", "POST"])
@requires()
def events_list():
    db, me, error, now = session(), user(), None, clock.now()
    if request.method == "POST":
        try:
            events.create_event(db, me, {k: request.form.get(k, "") for k in
                                         ("kind", "at", "description", "place", "lost_days")}, now)
        except DomainError as exc:
            error = _failed(db, exc)
        else:
            flash("Événement déclaré. Merci : chaque signalement évite le suivant.", "success")
            return redirect(url_for("qse.events_list"))
    today = paris_day(now)
    kind = request.args.get("kind", "")
    try:
        result = events.events_page(db, me, kind=kind, page=page_arg())
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("qse.events_list"))
    return render_template("qse/events.html", result=result, error=error, form=request.form, kind=kind,
                           days=events.days_without_accident(db, today, me.team_id),
                           near_misses=events.count_in_month(db, "near_miss", today, me.team_id),
                           waste=events.waste_by_kind(db, today - timedelta(days=30), today)), \
        (error.status if error else 200)


# -- regulatory watch ----------------------------------------------------------------------

@bp.get("/regulatory")
@requires()
def regulatory_list():
    db, args = session(), request.args
    filters = {k: args.get(k, "") for k in ("domain", "compliance", "q")}
    try:
        result = regulatory.register(db, page=page_arg(), **filters)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("qse.regulatory_list"))
    return render_template("qse/regulatory.html", result=result, filters=filters, today=paris_day(clock.now()))


@bp.get("/regulatory/export.csv")
@requires()
def regulatory_export():
    args = request.args
    content = regulatory.export_csv(session(), **{k: args.get(k, "") for k in ("domain", "compliance", "q")})
    return Response(content, mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="veille-reglementaire.csv"'})


@bp.route("/regulatory/new", methods=["GET", "POST"], defaults={"text_id": None})
@bp.route("/regulatory/<int:text_id>", methods=["GET", "POST"])
@requires()
def regulatory_text(text_id):
    db, error = session(), None
    text = regulatory.get_text(db, text_id) if text_id else None
    form = request.form if request.method == "POST" else (regulatory.as_json(text) if text else {})
    if request.method == "POST":
        try:
            text = regulatory.save_text(db, user(), {k: form.get(k, "") for k in regulatory.FIELDS}, text)
        except DomainError as exc:
            error = _failed(db, exc)
        else:
            flash("Texte enregistré.", "success")
            return redirect(url_for("qse.regulatory_text", text_id=text.id))
    return render_template("qse/regulatory_text.html", form=form, text=text, error=error), \
        (error.status if error else 200)
