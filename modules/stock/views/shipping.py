"""Stock pages: customer shipments (prepare, check, load, depart)."""
from __future__ import annotations


from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from shopfloor import clock
from shopfloor import validation as v
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.db import session
from shopfloor.errors import DomainError, ValidationError
from modules.stock import shipping
from modules.stock.models import SHIPMENT_STATUSES, Carrier
from modules.stock.views.common import ALL, _fail, bp


# -- Shipments --------------------------------------------------------------------

@bp.get("/shipments")
@requires(*ALL)
def shipments(error=None, status=200):
    db = session()
    return render_template("stock/shipments.html", shipments=shipping.shipments(db, current_actor()), error=error,
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
        created = shipping.create_shipment(db, current_actor(), order_ref=form.get("order_ref", ""), lines=lines, now=clock.now())
    except DomainError as exc:
        return shipments.__wrapped__(error=_fail(db, exc), status=exc.status)
    flash("Commande d'expédition créée : préparez-la.", "success")
    return redirect(url_for("stock.shipment", shipment_id=created.id))


@bp.get("/shipments/<int:shipment_id>")
@requires(*ALL)
def shipment(shipment_id: int, error=None, status=200):
    db = session()
    item = shipping.visible_shipment(db, current_actor(), shipment_id)
    return render_template("stock/shipment.html", shipment=item, mine=item.author_id == current_actor().id, error=error,
                           form=request.form, carriers=list(db.scalars(select(Carrier).order_by(Carrier.name))),
                           steps=list(SHIPMENT_STATUSES)), status


@bp.post("/shipments/<int:shipment_id>/<step>")
@requires("apprentice")
def shipment_step(shipment_id: int, step: str):
    db = session()
    item = shipping.visible_shipment(db, current_actor(), shipment_id)
    form, now = request.form, clock.now()
    try:
        if step == "prepare":
            shipping.prepare(db, current_actor(), item, now)
            message = "Commande préparée en zone d'expédition."
        elif step == "check":
            line = shipping.check_line(db, current_actor(), item, sku=form.get("sku", ""), qty=form.get("qty"), now=now)
            message = f"{line.item.sku} contrôlé."
        elif step == "load":
            shipping.load(db, current_actor(), item, now)
            message = "Chargement enregistré."
        elif step == "depart":
            shipping.depart(db, current_actor(), item, carrier=form.get("carrier", ""), truck=form.get("truck", ""),
                            departed_at=v.datetime_field(form, "departed_at", required=False), now=now)
            message = "Départ du camion enregistré : la marchandise est sortie du stock."
        else:
            raise ValidationError(f"Étape inconnue : {step}.", "step")
    except DomainError as exc:
        return shipment.__wrapped__(shipment_id, error=_fail(db, exc), status=exc.status)
    flash(message, "success")
    return redirect(url_for("stock.shipment", shipment_id=shipment_id))
