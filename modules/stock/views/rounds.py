"""Stock pages: collection rounds from the lines (finished goods, waste, empty packaging)."""
from __future__ import annotations


from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from shopfloor import clock
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.db import session
from shopfloor.forms import form_handler
from modules.stock import inputs, rounds
from modules.stock.models import Location
from modules.stock.views.common import ALL, bp


# -- Collection rounds ------------------------------------------------------------

@bp.get("/rounds", endpoint="rounds")
@requires(*ALL)
def rounds_page():
    db = session()
    return render_template("stock/rounds.html", rounds=rounds.rounds(db, current_actor()),
                           waiting=rounds.line_side_stock(db))


@bp.post("/rounds")
@requires("apprentice")
def create_round():
    created = rounds.create_round(session(), current_actor(), clock.now())
    return redirect(url_for("stock.round", round_id=created.id))


@bp.get("/rounds/<int:round_id>")
@requires(*ALL)
def round(round_id: int):  # noqa: A001 (the endpoint's name)
    return _round_page(round_id)


def _round_page(round_id: int, error=None):
    db = session()
    item = rounds.visible_round(db, current_actor(), round_id)
    targets = list(db.scalars(select(Location).where(Location.kind.in_(("storage", "waste", "scrap")),
                                                     Location.active.is_(True))
                              .order_by(Location.kind.desc(), Location.code).limit(400)))
    return render_template("stock/round.html", round=item, mine=item.author_id == current_actor().id, error=error,
                           form=request.form, waiting=rounds.line_side_stock(db) if item.closed_at is None else [],
                           targets=targets)


@bp.post("/rounds/<int:round_id>/lines")
@requires("apprentice")
@form_handler(_round_page)
def round_line(round_id: int):
    db = session()
    item = rounds.visible_round(db, current_actor(), round_id)
    form = request.form
    rounds.own_open(current_actor(), item)
    spec = inputs.collection(form)
    line = rounds.collect(db, current_actor(), item, kind=spec.kind, from_code=spec.from_code, to_code=spec.to_code,
                          sku=spec.sku, lot_number=spec.lot_number, qty=spec.qty, now=clock.now())
    flash(f"{line.item.sku} : {line.from_location.code} → {line.to_location.code}.", "success")
    return redirect(url_for("stock.round", round_id=round_id))


@bp.post("/rounds/<int:round_id>/close")
@requires("apprentice")
@form_handler(_round_page)
def close_round(round_id: int):
    db = session()
    item = rounds.visible_round(db, current_actor(), round_id)
    rounds.close_round(db, current_actor(), item, clock.now())
    flash("Tournée clôturée.", "success")
    return redirect(url_for("stock.round", round_id=round_id))
