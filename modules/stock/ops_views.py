"""Pages of the stores' operations: counts, replenishment, expiry, layout, labels, shipments, rounds."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import plotly.graph_objects as go
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from shopfloor import validation as v
from shopfloor.auth.models import User
from shopfloor.auth.permissions import requires
from shopfloor.db import session
from shopfloor import clock
from shopfloor.errors import DomainError, ValidationError
from shopfloor.registry import ActivityType
from modules.stock import counts, labels, layout, replenishment, rounds, shipping
from modules.stock.jobs import expiry_warning_days
from modules.stock.lookup import supplier_by_name
from modules.stock.models import Carrier, Location, Supplier
from modules.stock.models_ops import (COUNT_SCOPES, COUNT_STATUSES, LINE_STATUSES, ROUND_KINDS, SHIPMENT_STATUSES,
                                      Count, PurchaseProposal)
from modules.stock.quantities import parse_qty

bp = Blueprint("stock_ops", __name__, url_prefix="/stock", template_folder="templates")
ALL = ("admin", "tutor", "apprentice")

ACTIVITY_TYPES = [
    ActivityType("stock_count", "Inventaire", ("LOG-2",), url=lambda a: url_for("stock_ops.count", count_id=a.id)),
    ActivityType("stock_purchase_request", "Demande d'achat", ("LOG-4",),
                 url=lambda a: url_for("stock_ops.purchase_request", request_id=a.id)),
    ActivityType("stock_slotting", "Étude d'implantation (ABC)", ("LOG-3",),
                 url=lambda a: url_for("stock_ops.study", study_id=a.id)),
    ActivityType("stock_shipment", "Expédition", ("LOG-5",),
                 url=lambda a: url_for("stock_ops.shipment", shipment_id=a.id)),
    ActivityType("stock_round", "Tournée de collecte", ("LOG-5",), url=lambda a: url_for("stock_ops.round", round_id=a.id)),
]
NAV = []  # reached from the stock module's bar (stock/_base.html)


@bp.record_once
def _template_globals(state):
    state.app.jinja_env.globals.update(count_scopes=COUNT_SCOPES, count_statuses=COUNT_STATUSES,
                                       line_statuses=LINE_STATUSES, shipment_statuses=SHIPMENT_STATUSES,
                                       round_kinds=ROUND_KINDS)


def _user() -> User:
    return current_user._get_current_object()


def _failed(db, exc: DomainError):
    db.rollback()
    return exc


def _visible_authors(query, model, actor: User):
    if actor.role == "apprentice":
        return query.where(model.author_id == actor.id)
    if actor.role == "tutor":
        return query.join(User, User.id == model.author_id).where(User.tutor_id == actor.id)
    return query


@bp.get("/operations")
@requires(*ALL)
def index():
    db = session()
    now = clock.now()
    return render_template("stock_ops/index.html",
                           proposals=db.scalar(select(func.count(PurchaseProposal.id))
                                               .where(PurchaseProposal.status == "open")),
                           expiring=len(replenishment.expiring_lots(db, now, expiry_warning_days())))


# -- Counts -----------------------------------------------------------------------

@bp.get("/counts", endpoint="counts")
@requires(*ALL)
def counts_page(error=None, status=200):
    db = session()
    query = _visible_authors(select(Count).order_by(Count.performed_at.desc()).limit(100), Count, _user())
    return render_template("stock_ops/counts.html", counts=list(db.scalars(query)), error=error,
                           form=request.form), status


@bp.post("/counts")
@requires("apprentice")
def create_count():
    db = session()
    try:
        form = request.form
        count = counts.create_count(
            db, _user(), scope=v.choice(form, "scope", tuple(COUNT_SCOPES)),
            value=v.text(form, "value", required=False, max_length=40), now=clock.now(),
            threshold_pct=v.percentage(form, "threshold_pct", required=False),
            threshold_value=v.decimal(form, "threshold_value", required=False, minimum=Decimal(0)))
    except DomainError as exc:
        return counts_page.__wrapped__(error=_failed(db, exc), status=exc.status)
    flash(f"Inventaire créé : {len(count.lines)} ligne(s) à compter.", "success")
    return redirect(url_for("stock_ops.count", count_id=count.id))


@bp.get("/counts/<int:count_id>")
@requires(*ALL)
def count(count_id: int, error=None, status=200):
    db = session()
    item = counts.visible_count(db, _user(), count_id)
    mine = item.author_id == _user().id
    reveal = item.status == "validated" or counts.can_validate(_user(), item)
    lines = counts.sorted_lines(item)
    totals = None
    if reveal:
        totals = {"value": sum((line.difference_value or 0 for line in lines), Decimal(0)),
                  "lines": sum(1 for line in lines if line.difference not in (None, 0))}
    return render_template("stock_ops/count.html", count=item, lines=lines, mine=mine, reveal=reveal,
                           can_validate=counts.can_validate(_user(), item), totals=totals, error=error,
                           form=request.form if error else request.args,
                           done=sum(1 for line in lines if line.status in ("counted", "recounted"))), status


@bp.post("/counts/<int:count_id>/lines")
@requires("apprentice")
def count_line(count_id: int):
    db = session()
    item = counts.visible_count(db, _user(), count_id)
    form = request.form
    try:
        line = counts.record_line(db, _user(), item, location_code=v.text(form, "location", max_length=40),
                                  sku=v.text(form, "sku", max_length=40),
                                  lot_number=v.text(form, "lot", required=False, max_length=60),
                                  counted_qty=form.get("counted_qty"), now=clock.now())
    except DomainError as exc:
        return count.__wrapped__(count_id, error=_failed(db, exc), status=exc.status)
    if line.status == "recount":
        flash(f"Écart important sur {line.location.code} {line.item.sku} : recomptez cet emplacement.", "error")
    else:
        flash(f"{line.location.code} · {line.item.sku} lot {line.lot.number} : comptage enregistré.", "success")
    return redirect(url_for("stock_ops.count", count_id=count_id, location=line.location.code))


@bp.post("/counts/<int:count_id>/validate")
@requires("tutor", "admin")
def validate_count(count_id: int):
    db = session()
    item = counts.visible_count(db, _user(), count_id)
    try:
        moves = counts.validate_count(db, _user(), item, clock.now())
    except DomainError as exc:
        return count.__wrapped__(count_id, error=_failed(db, exc), status=exc.status)
    flash(f"Inventaire validé : {len(moves)} ajustement(s) passé(s), exactitude {item.accuracy_pct:.1f} %.", "success")
    return redirect(url_for("stock_ops.count", count_id=count_id))


# -- Replenishment ----------------------------------------------------------------

@bp.get("/replenishment", endpoint="replenishment")
@requires(*ALL)
def replenishment_page():
    return render_template("stock_ops/replenishment.html", proposals=replenishment.open_proposals(session()))


@bp.route("/proposals/<int:proposal_id>/request", methods=["GET", "POST"])
@requires("apprentice")
def new_purchase_request(proposal_id: int):
    db = session()
    proposal = replenishment.get_proposal(db, proposal_id)
    error = None
    if request.method == "POST":
        form = request.form
        try:
            supplier = supplier_by_name(db, form.get("supplier", "")) if form.get("supplier") else None
            created = replenishment.create_purchase_request(
                db, _user(), now=clock.now(), proposal=proposal, supplier=supplier,
                qty=parse_qty(form, "qty"), due_date=v.date_field(form, "due_date"),
                note=v.text(form, "note", required=False, max_length=2000))
        except DomainError as exc:
            error = _failed(db, exc)
        else:
            flash("Demande d'achat enregistrée. Reliez-la à vos compétences depuis « Preuves ».", "success")
            return redirect(url_for("stock_ops.purchase_request", request_id=created.id))
    today = replenishment.paris_day(clock.now())
    lead = proposal.item.supplier.lead_time_days if proposal.item.supplier else replenishment.DEFAULT_LEAD_TIME_DAYS
    return render_template("stock_ops/purchase_request_form.html", proposal=proposal, error=error, form=request.form,
                           suppliers=list(db.scalars(select(Supplier).order_by(Supplier.name))),
                           default_due=today + timedelta(days=lead)), (error.status if error else 200)


@bp.get("/purchase-requests")
@requires(*ALL)
def purchase_requests():
    return render_template("stock_ops/purchase_requests.html",
                           requests=replenishment.purchase_requests(session(), _user()))


@bp.get("/purchase-requests/<int:request_id>")
@requires(*ALL)
def purchase_request(request_id: int):
    item = replenishment.visible_purchase_request(session(), _user(), request_id)
    return render_template("stock_ops/purchase_request.html", pr=item, mine=item.author_id == _user().id)


@bp.post("/purchase-requests/<int:request_id>/cancel")
@requires("apprentice")
def cancel_purchase_request(request_id: int):
    db = session()
    replenishment.cancel_purchase_request(db, _user(), replenishment.visible_purchase_request(db, _user(), request_id))
    flash("Demande d'achat annulée.", "success")
    return redirect(url_for("stock_ops.purchase_request", request_id=request_id))


@bp.get("/expiring")
@requires(*ALL)
def expiring():
    days = expiry_warning_days()
    lots = replenishment.expiring_lots(session(), clock.now(), days)
    return render_template("stock_ops/expiring.html", lots=lots, days=days,
                           expired_value=sum((lot["value"] for lot in lots if lot["expired"]), Decimal(0)))


# -- Layout -----------------------------------------------------------------------

@bp.get("/layout", endpoint="layout")
@requires(*ALL)
def layout_page(error=None, status=200):
    db = session()
    return render_template("stock_ops/layout.html", aisles=layout.store_map(db), studies=layout.studies(db, _user()),
                           level=layout.occupancy_level, bases=layout.BASES, error=error, form=request.form), status


@bp.post("/slotting")
@requires("apprentice")
def create_study():
    db = session()
    form = request.form
    try:
        study = layout.create_study(db, _user(), basis=v.choice(form, "basis", tuple(layout.BASES)),
                                    window_days=v.integer(form, "window_days", minimum=7, maximum=730), now=clock.now())
    except DomainError as exc:
        return layout_page.__wrapped__(error=_failed(db, exc), status=exc.status)
    flash("Analyse ABC enregistrée.", "success")
    return redirect(url_for("stock_ops.study", study_id=study.id))


@bp.get("/slotting/<int:study_id>")
@requires(*ALL)
def study(study_id: int):
    item = layout.visible_study(session(), _user(), study_id)
    moves = [line for line in item.lines if line.suggested_location_id]
    changes = [line for line in item.lines if line.current_class != line.proposed_class]
    return render_template("stock_ops/study.html", study=item, top=item.lines[:60], moves=moves,
                           changes=len(changes), bases=layout.BASES, pareto=_pareto(item, item.lines[:60]))


def _pareto(study, lines) -> str:
    """The ABC Pareto: bars coloured by proposed class, cumulative share on the right axis."""
    colours = {"A": "#2b8a3e", "B": "#e8590c", "C": "#868e96"}
    measure = [line.picks if study.basis == "frequency" else float(line.picked_value) for line in lines]
    skus = [line.item.sku for line in lines]
    fig = go.Figure([go.Bar(x=skus, y=measure, marker_color=[colours[line.proposed_class] for line in lines],
                            name="Prélèvements" if study.basis == "frequency" else "Valeur (€)"),
                     go.Scatter(x=skus, y=[float(line.cumulative_pct) for line in lines], yaxis="y2",
                                mode="lines+markers", name="Cumul %", line_color="#1864ab")])
    fig.update_layout(height=340, margin=dict(t=10, r=50, l=50, b=80), showlegend=False,
                      yaxis2=dict(overlaying="y", side="right", range=[0, 100], ticksuffix=" %"),
                      shapes=[dict(type="line", xref="paper", x0=0, x1=1, yref="y2", y0=80, y1=80,
                                   line=dict(dash="dot", color="#c92a2a"))])
    return fig.to_html(full_html=False, include_plotlyjs=False, config={"displayModeBar": False, "responsive": True})


@bp.post("/slotting/<int:study_id>/apply")
@requires(*ALL)
def apply_study(study_id: int):
    db = session()
    changed = layout.apply_study(db, _user(), layout.visible_study(db, _user(), study_id), clock.now())
    flash(f"Classes ABC appliquées : {changed} article(s) changent de classe.", "success")
    return redirect(url_for("stock_ops.study", study_id=study_id))


# -- Labels -----------------------------------------------------------------------

@bp.get("/labels", endpoint="labels")
@requires(*ALL)
def labels_page():
    return render_template("stock_ops/labels.html", formats=labels.FORMATS)


def _label_sheet(build, kind: str):
    fmt = request.args.get("format", "code128")
    try:
        sheet = build(fmt)
    except DomainError as exc:
        return render_template("stock_ops/labels.html", formats=labels.FORMATS, error=exc, kind=kind,
                               form=request.args), exc.status
    return render_template("stock_ops/label_sheet.html", labels=sheet, kind=kind, fmt=fmt)


@bp.get("/labels/locations")
@requires(*ALL)
def location_labels():
    return _label_sheet(lambda fmt: labels.location_labels(session(), request.args.get("prefix", ""), fmt), "locations")


@bp.get("/labels/lots")
@requires(*ALL)
def lot_labels():
    if not request.args.get("sku"):
        return render_template("stock_ops/labels.html", formats=labels.FORMATS, kind="lots", form=request.args)
    return _label_sheet(lambda fmt: labels.lot_labels(session(), request.args.get("sku", ""), fmt), "lots")


# -- Shipments --------------------------------------------------------------------

@bp.get("/shipments")
@requires(*ALL)
def shipments(error=None, status=200):
    db = session()
    return render_template("stock_ops/shipments.html", shipments=shipping.shipments(db, _user()), error=error,
                           form=request.form), status


@bp.post("/shipments")
@requires("apprentice")
def create_shipment():
    db = session()
    form = request.form
    lines = [{"sku": sku, "qty": qty, "customer": customer}
             for sku, qty, customer in zip(form.getlist("sku"), form.getlist("qty"), form.getlist("customer"))
             if sku.strip() or qty.strip()]
    try:
        created = shipping.create_shipment(db, _user(), order_ref=form.get("order_ref", ""), lines=lines, now=clock.now())
    except DomainError as exc:
        return shipments.__wrapped__(error=_failed(db, exc), status=exc.status)
    flash("Commande d'expédition créée : préparez-la.", "success")
    return redirect(url_for("stock_ops.shipment", shipment_id=created.id))


@bp.get("/shipments/<int:shipment_id>")
@requires(*ALL)
def shipment(shipment_id: int, error=None, status=200):
    db = session()
    item = shipping.visible_shipment(db, _user(), shipment_id)
    return render_template("stock_ops/shipment.html", shipment=item, mine=item.author_id == _user().id, error=error,
                           form=request.form, carriers=list(db.scalars(select(Carrier).order_by(Carrier.name))),
                           steps=list(SHIPMENT_STATUSES)), status


@bp.post("/shipments/<int:shipment_id>/<step>")
@requires("apprentice")
def shipment_step(shipment_id: int, step: str):
    db = session()
    item = shipping.visible_shipment(db, _user(), shipment_id)
    form, now = request.form, clock.now()
    try:
        if step == "prepare":
            shipping.prepare(db, _user(), item, now)
            message = "Commande préparée en zone d'expédition."
        elif step == "check":
            line = shipping.check_line(db, _user(), item, sku=form.get("sku", ""), qty=form.get("qty"), now=now)
            message = f"{line.item.sku} contrôlé."
        elif step == "load":
            shipping.load(db, _user(), item, now)
            message = "Chargement enregistré."
        elif step == "depart":
            shipping.depart(db, _user(), item, carrier=form.get("carrier", ""), truck=form.get("truck", ""),
                            departed_at=v.datetime_field(form, "departed_at", required=False), now=now)
            message = "Départ du camion enregistré : la marchandise est sortie du stock."
        else:
            raise ValidationError(f"Étape inconnue : {step}.", "step")
    except DomainError as exc:
        return shipment.__wrapped__(shipment_id, error=_failed(db, exc), status=exc.status)
    flash(message, "success")
    return redirect(url_for("stock_ops.shipment", shipment_id=shipment_id))


# -- Collection rounds ------------------------------------------------------------

@bp.get("/rounds", endpoint="rounds")
@requires(*ALL)
def rounds_page():
    db = session()
    return render_template("stock_ops/rounds.html", rounds=rounds.rounds(db, _user()),
                           waiting=rounds.line_side_stock(db))


@bp.post("/rounds")
@requires("apprentice")
def create_round():
    created = rounds.create_round(session(), _user(), clock.now())
    return redirect(url_for("stock_ops.round", round_id=created.id))


@bp.get("/rounds/<int:round_id>")
@requires(*ALL)
def round(round_id: int, error=None, status=200):  # noqa: A001 (the endpoint's name)
    db = session()
    item = rounds.visible_round(db, _user(), round_id)
    targets = list(db.scalars(select(Location).where(Location.kind.in_(("storage", "waste", "scrap")),
                                                     Location.active.is_(True))
                              .order_by(Location.kind.desc(), Location.code).limit(400)))
    return render_template("stock_ops/round.html", round=item, mine=item.author_id == _user().id, error=error,
                           form=request.form, waiting=rounds.line_side_stock(db) if item.closed_at is None else [],
                           targets=targets), status


@bp.post("/rounds/<int:round_id>/lines")
@requires("apprentice")
def round_line(round_id: int):
    db = session()
    item = rounds.visible_round(db, _user(), round_id)
    form = request.form
    try:
        line = rounds.collect(db, _user(), item, kind=form.get("kind", ""), from_code=form.get("from", ""),
                              to_code=form.get("to", ""), sku=form.get("sku", ""), lot_number=form.get("lot"),
                              qty=form.get("qty"), now=clock.now())
    except DomainError as exc:
        return round.__wrapped__(round_id, error=_failed(db, exc), status=exc.status)
    flash(f"{line.item.sku} : {line.from_location.code} → {line.to_location.code}.", "success")
    return redirect(url_for("stock_ops.round", round_id=round_id))


@bp.post("/rounds/<int:round_id>/close")
@requires("apprentice")
def close_round(round_id: int):
    db = session()
    item = rounds.visible_round(db, _user(), round_id)
    try:
        rounds.close_round(db, _user(), item, clock.now())
    except DomainError as exc:
        return round.__wrapped__(round_id, error=_failed(db, exc), status=exc.status)
    flash("Tournée clôturée.", "success")
    return redirect(url_for("stock_ops.round", round_id=round_id))
