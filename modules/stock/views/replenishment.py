"""Stock pages: the operations board, purchase proposals and requests, expiring lots."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from shopfloor import clock
from shopfloor import validation as v
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.db import session
from shopfloor.forms import on_error
from modules.stock import replenishment
from modules.stock.jobs import expiry_warning_days
from modules.stock.lookup import supplier_by_name
from modules.stock.models import PurchaseProposal, Supplier
from modules.stock.inputs import parse_qty
from modules.stock.views.common import ALL, bp


@bp.get("/operations")
@requires(*ALL)
def operations():
    db = session()
    now = clock.now()
    return render_template("stock/operations.html",
                           proposals=db.scalar(select(func.count(PurchaseProposal.id))
                                               .where(PurchaseProposal.status == "open")),
                           expiring=len(replenishment.expiring_lots(db, now, expiry_warning_days())))


# -- Replenishment ----------------------------------------------------------------

@bp.get("/replenishment", endpoint="replenishment")
@requires(*ALL)
def replenishment_page():
    return render_template("stock/replenishment.html", proposals=replenishment.open_proposals(session()))


@bp.route("/proposals/<int:proposal_id>/request", methods=["GET", "POST"])
@requires("apprentice")
def new_purchase_request(proposal_id: int):
    db = session()
    proposal = replenishment.get_proposal(db, proposal_id)

    def render(error=None):
        today = clock.paris_day()
        lead = proposal.item.supplier.lead_time_days if proposal.item.supplier else replenishment.DEFAULT_LEAD_TIME_DAYS
        return render_template("stock/purchase_request_form.html", proposal=proposal, error=error, form=request.form,
                               suppliers=list(db.scalars(select(Supplier).order_by(Supplier.name))),
                               default_due=today + timedelta(days=lead))

    def create():
        form = request.form
        supplier = supplier_by_name(db, form.get("supplier", "")) if form.get("supplier") else None
        created = replenishment.create_purchase_request(
            db, current_actor(), now=clock.now(), proposal=proposal, supplier=supplier,
            qty=parse_qty(form, "qty"), due_date=v.date_field(form, "due_date"),
            note=v.text(form, "note", required=False, max_length=2000))
        flash("Demande d'achat enregistrée. Reliez-la à vos compétences depuis « Preuves ».", "success")
        return redirect(url_for("stock.purchase_request", request_id=created.id))
    return on_error(render, create) if request.method == "POST" else render()


@bp.get("/purchase-requests")
@requires(*ALL)
def purchase_requests():
    return render_template("stock/purchase_requests.html",
                           requests=replenishment.purchase_requests(session(), current_actor()))


@bp.get("/purchase-requests/<int:request_id>")
@requires(*ALL)
def purchase_request(request_id: int):
    item = replenishment.visible_purchase_request(session(), current_actor(), request_id)
    return render_template("stock/purchase_request.html", pr=item, mine=item.author_id == current_actor().id)


@bp.post("/purchase-requests/<int:request_id>/cancel")
@requires("apprentice")
def cancel_purchase_request(request_id: int):
    db = session()
    replenishment.cancel_purchase_request(db, current_actor(), replenishment.visible_purchase_request(db, current_actor(), request_id))
    flash("Demande d'achat annulée.", "success")
    return redirect(url_for("stock.purchase_request", request_id=request_id))


@bp.get("/expiring")
@requires(*ALL)
def expiring():
    days = expiry_warning_days()
    lots = replenishment.expiring_lots(session(), clock.now(), days)
    return render_template("stock/expiring.html", lots=lots, days=days,
                           expired_value=sum((lot["value"] for lot in lots if lot["expired"]), Decimal(0)))
