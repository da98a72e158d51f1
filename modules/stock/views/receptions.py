"""Stock pages: receptions (scan, put away, correct), expected receipts, quarantine decisions."""
from __future__ import annotations


from flask import current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from shopfloor import access
from shopfloor import clock
from shopfloor import validation as v
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.db import session
from shopfloor.forms import form_handler, on_error
from modules.stock import inputs, masterdata, picking, reception as receiving
from modules.stock.lookup import supplier_by_name
from modules.stock.models import ANOMALY_KINDS, DECISIONS, Carrier, ExpectedReceipt, Reception, Supplier
from modules.stock.inputs import parse_qty
from modules.stock.views.common import PAGE, bp, page_number


# -- Receptions -----------------------------------------------------------------------------

@bp.get("/receptions")
@requires()
def receptions():
    db, page = session(), page_number()
    rows = list(db.scalars(select(Reception).options(joinedload(Reception.supplier), joinedload(Reception.author))
                           .where(access.visible_filter(Reception, current_actor()))
                           .order_by(Reception.performed_at.desc(), Reception.id.desc())
                           .limit(PAGE + 1).offset((page - 1) * PAGE)))
    expected = list(db.scalars(select(ExpectedReceipt).options(joinedload(ExpectedReceipt.supplier))
                               .where(ExpectedReceipt.status == "open").order_by(ExpectedReceipt.expected_on).limit(50)))
    return render_template("stock/receptions.html", receptions=rows[:PAGE], more=len(rows) > PAGE, page=page,
                           expected=expected)


@bp.route("/receptions/new", methods=["GET", "POST"])
@requires()
def new_reception():
    db = session()

    def render(error=None):
        return render_template("stock/reception_new.html", form=request.form, error=error,
                               suppliers=list(db.scalars(select(Supplier).order_by(Supplier.name))),
                               carriers=list(db.scalars(select(Carrier).order_by(Carrier.name))),
                               expected=list(db.scalars(select(ExpectedReceipt).where(ExpectedReceipt.status == "open")
                                                        .order_by(ExpectedReceipt.reference).limit(100))))

    def open_():
        form, now = request.form, clock.now()
        expected = None
        if form.get("expected"):
            expected = access.get(db, ExpectedReceipt, v.identifier(form, "expected"), label="Commande")
        rec = receiving.open_reception(
            db, current_actor(), supplier=supplier_by_name(db, form.get("supplier", "")), now=now,
            delivery_note=form.get("delivery_note", ""),
            carrier=masterdata.carrier_by_name(db, form["carrier"]) if form.get("carrier") else None,
            expected=expected, documents_ok=v.boolean(form, "documents_ok", default=False),
            truck_arrived_at=v.datetime_field(form, "truck_arrived_at", required=False))
        flash("Réception ouverte : scannez maintenant les articles.", "success")
        return redirect(url_for("stock.reception", reception_id=rec.id))
    return on_error(render, open_) if request.method == "POST" else render()


@bp.get("/receptions/<int:reception_id>")
@requires()
def reception(reception_id: int):
    return _reception_page(reception_id)


def _reception_page(reception_id: int, error=None, **_):
    db = session()
    rec = receiving.get_reception(db, current_actor(), reception_id)
    suggestions = {line.id: receiving.suggest_location(db, line.item, line.qty) for line in rec.lines
                   if line.conforming and line.put_away_at is None and line.location.kind == "reception"
                   and line.qty > 0}
    return render_template("stock/reception.html", rec=rec, error=error, form=request.form, suggestions=suggestions,
                           mine=rec.author_id == current_actor().id, problem_url=_problem_url(rec),
                           nc_url=_nonconformity_url(rec))


def _problem_url(rec: Reception) -> str | None:
    """The improvement module's new problem sheet, pre-filled from the reception's anomalies (when installed)."""
    if not rec.anomalies or "improvement.new_problem" not in current_app.view_functions:
        return None
    what = "\n".join(f"{ANOMALY_KINDS.get(a.kind, a.kind)}{f' ({a.item.sku})' if a.item else ''} : {a.note} → "
                     f"{DECISIONS.get(a.decision, a.decision)}" for a in rec.anomalies)
    return url_for("improvement.new_problem", origin_type="stock_reception", origin_id=rec.id,
                   title=f"Anomalies à la réception {rec.delivery_note} ({rec.supplier.name})"[:200], what=what)


def _nonconformity_url(rec: Reception) -> str | None:
    """The QSE module's supplier non-conformity, opened from this reception (when installed)."""
    if not rec.anomalies or "qse.new_nonconformity" not in current_app.view_functions:
        return None
    return url_for("qse.new_nonconformity", reception=rec.id)


@bp.post("/receptions/<int:reception_id>/lines")
@requires()
@form_handler(_reception_page)
def add_reception_line(reception_id: int):
    db = session()
    rec = receiving.get_reception(db, current_actor(), reception_id)
    line = receiving.add_line(db, current_actor(), rec, inputs.line_input(request.form), clock.now())
    flash(f"Ligne {line.item.sku} × {picking.fmt(line.qty)} reçue en {line.location.code}.", "success")
    return redirect(url_for("stock.reception", reception_id=reception_id))


@bp.post("/receptions/<int:reception_id>/close")
@requires()
@form_handler(_reception_page)
def close_reception(reception_id: int):
    db = session()
    rec = receiving.get_reception(db, current_actor(), reception_id)
    receiving.close_reception(db, current_actor(), rec, clock.now(),
                              v.datetime_field(request.form, "truck_departed_at", required=False))
    flash("Réception clôturée : départ du camion enregistré.", "success")
    return redirect(url_for("stock.reception", reception_id=reception_id))


@bp.post("/receptions/<int:reception_id>/lines/<int:line_id>/putaway")
@requires()
@form_handler(_reception_page)
def put_away(reception_id: int, line_id: int):
    db = session()
    line = receiving.get_line(db, current_actor(), reception_id, line_id)
    receiving.put_away(db, current_actor(), line, request.form.get("location", ""), clock.now())
    flash(f"{line.item.sku} rangé en {line.put_away_location.code}.", "success")
    return redirect(url_for("stock.reception", reception_id=reception_id))


@bp.post("/receptions/<int:reception_id>/lines/<int:line_id>/correct")
@requires()
@form_handler(_reception_page)
def correct_reception_line(reception_id: int, line_id: int):
    db = session()
    line = receiving.get_line(db, current_actor(), reception_id, line_id)
    receiving.correct_line(db, current_actor(), line, inputs.correction(request.form), clock.now())
    flash(f"Ligne {line.item.sku} corrigée à {picking.fmt(line.qty)} : l'écart est sorti du stock.", "success")
    return redirect(url_for("stock.reception", reception_id=reception_id))


@bp.route("/expected", methods=["GET", "POST"])
@requires()
def expected_receipts():
    db = session()

    def render(error=None):
        rows = list(db.scalars(select(ExpectedReceipt).options(joinedload(ExpectedReceipt.supplier))
                               .order_by(ExpectedReceipt.status, ExpectedReceipt.expected_on.desc()).limit(100)))
        return render_template("stock/expected.html", receipts=rows, error=error, form=request.form,
                               suppliers=list(db.scalars(select(Supplier).order_by(Supplier.name))))

    def create():
        form = request.form
        supplier = supplier_by_name(db, form.get("supplier", ""))
        receipt = receiving.create_expected(db, supplier=supplier, spec=inputs.expected_receipt(form))
        flash(f"Réception attendue {receipt.reference} enregistrée.", "success")
        return redirect(url_for("stock.expected_receipts"))
    return on_error(render, create) if request.method == "POST" else render()


# -- Quarantine -----------------------------------------------------------------------------

@bp.get("/quarantine")
@requires()
def quarantine():
    return _quarantine_page()


def _quarantine_page(error=None, **_):
    return render_template("stock/quarantine.html", rows=receiving.quarantine_stock(session()), error=error,
                           form=request.form)


@bp.post("/quarantine/<int:balance_id>/release")
@requires("tutor", "admin")
@form_handler(_quarantine_page)
def release(balance_id: int):
    db, form = session(), request.form
    receiving.release_quarantine(db, current_actor(), balance_id=balance_id, decision=form.get("decision", ""),
                                 qty=parse_qty(form, "qty"), now=clock.now(),
                                 location_code=form.get("location", ""), note=form.get("note", ""))
    flash("Décision enregistrée.", "success")
    return redirect(url_for("stock.quarantine"))
