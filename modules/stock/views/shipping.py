"""Stock pages: customer shipments (prepare, check, load, depart)."""
from __future__ import annotations


from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from shopfloor import clock
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.db import session
from shopfloor.errors import ValidationError
from shopfloor.forms import form_handler
from modules.stock import inputs, shipping
from modules.stock.models import SHIPMENT_STATUSES, Carrier
from modules.stock.views.common import ALL, bp


# -- Shipments --------------------------------------------------------------------

@bp.get("/shipments")
@requires(*ALL)
def shipments():
    return _shipments_page()


def _shipments_page(error=None):
    db = session()
    return render_template("stock/shipments.html", shipments=shipping.shipments(db, current_actor()), error=error,
                           form=request.form)


@bp.post("/shipments")
@requires("apprentice")
@form_handler(_shipments_page)
def create_shipment():
    db = session()
    form = request.form
    lines = [{"sku": sku, "qty": qty, "customer": customer}
             for sku, qty, customer in zip(form.getlist("sku"), form.getlist("qty"), form.getlist("customer"))
             if sku.strip() or qty.strip()]
    spec = inputs.shipment({"order_ref": form.get("order_ref", ""), "lines": lines})
    created = shipping.create_shipment(db, current_actor(), spec, clock.now())
    flash("Commande d'expédition créée : préparez-la.", "success")
    return redirect(url_for("stock.shipment", shipment_id=created.id))


@bp.get("/shipments/<int:shipment_id>")
@requires(*ALL)
def shipment(shipment_id: int):
    return _shipment_page(shipment_id)


def _shipment_page(shipment_id: int, error=None, **_):
    db = session()
    item = shipping.visible_shipment(db, current_actor(), shipment_id)
    return render_template("stock/shipment.html", shipment=item, mine=item.author_id == current_actor().id, error=error,
                           form=request.form, carriers=list(db.scalars(select(Carrier).order_by(Carrier.name))),
                           steps=list(SHIPMENT_STATUSES))


@bp.post("/shipments/<int:shipment_id>/<step>")
@requires("apprentice")
@form_handler(_shipment_page)
def shipment_step(shipment_id: int, step: str):
    db = session()
    item = shipping.visible_shipment(db, current_actor(), shipment_id)
    form, now = request.form, clock.now()
    if step == "prepare":
        shipping.prepare(db, current_actor(), item, now)
        message = "Commande préparée en zone d'expédition."
    elif step == "check":
        shipping.ready_to_check(current_actor(), item)
        line = shipping.check_line(db, current_actor(), item, sku=form.get("sku", ""), qty=inputs.checked_qty(form),
                                   now=now)
        message = f"{line.item.sku} contrôlé."
    elif step == "load":
        shipping.load(db, current_actor(), item, now)
        message = "Chargement enregistré."
    elif step == "depart":
        shipping.ready_to_depart(current_actor(), item)
        departure = inputs.departure(form)
        shipping.depart(db, current_actor(), item, carrier=departure.carrier, truck=departure.truck,
                        departed_at=departure.departed_at, now=now)
        message = "Départ du camion enregistré : la marchandise est sortie du stock."
    else:
        raise ValidationError(f"Étape inconnue : {step}.", "step")
    flash(message, "success")
    return redirect(url_for("stock.shipment", shipment_id=shipment_id))
