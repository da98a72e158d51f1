"""Stock pages: the production programme, pick lists (scan the round), line calls."""
from __future__ import annotations

from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from shopfloor import access
from shopfloor import clock
from shopfloor import validation as v
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.db import session
from shopfloor.forms import form_handler, on_error
from modules.stock import picking
from modules.stock.lookup import item_by_sku, location_by_code
from modules.stock.models import Item, LineCall, Location, PickList, ProgrammeLine
from modules.stock.inputs import parse_qty
from modules.stock.views.common import PAGE, bp, page_number


# -- Programme and picks -----------------------------------------------------------------------

@bp.route("/programme", methods=["GET", "POST"])
@requires()
def programme():
    db = session()

    def add():
        form = request.form
        picking.add_programme_line(db, current_actor(), line_code=form.get("line", ""), sku=form.get("sku", ""),
                                   qty=parse_qty(form, "qty"), needed_at=v.datetime_field(form, "needed_at"),
                                   workshop=v.text(form, "workshop", required=False, max_length=80))
        flash("Besoin ajouté au programme.", "success")
        return redirect(url_for("stock.programme"))
    return on_error(_programme_page, add) if request.method == "POST" else _programme_page()


def _programme_page(error=None):
    db, now = session(), clock.now()
    rows = list(db.scalars(select(ProgrammeLine).options(joinedload(ProgrammeLine.item),
                                                         joinedload(ProgrammeLine.line_location),
                                                         joinedload(ProgrammeLine.pick_list))
                           .where(ProgrammeLine.needed_at >= now - timedelta(days=2),
                                  ProgrammeLine.needed_at < now + timedelta(days=8))
                           .order_by(ProgrammeLine.needed_at, ProgrammeLine.id).limit(300)))
    lines = list(db.scalars(select(Location).where(Location.kind == "line").order_by(Location.code)))
    return render_template("stock/programme.html", rows=rows, lines=lines, error=error, form=request.form,
                           now=v.to_paris(now))


@bp.post("/programme/pick")
@requires()
@form_handler(_programme_page)
def pick_programme():
    ids = [int(x) for x in request.form.getlist("lines") if x.isdigit()]
    pick = picking.pick_programme(session(), current_actor(), ids, clock.now())
    flash("Liste de prélèvement réservée : suivez la tournée.", "success")
    return redirect(url_for("stock.pick", pick_id=pick.id))


@bp.get("/picks")
@requires()
def picks():
    db, page = session(), page_number()
    status = request.args.get("status") or ""
    query = select(PickList).options(joinedload(PickList.destination), joinedload(PickList.author)).where(
        access.visible_filter(PickList, current_actor()))
    if status:
        query = query.where(PickList.status == status)
    rows = list(db.scalars(query.order_by(PickList.performed_at.desc(), PickList.id.desc())
                           .limit(PAGE + 1).offset((page - 1) * PAGE)))
    return render_template("stock/picks.html", picks=rows[:PAGE], more=len(rows) > PAGE, page=page, status=status)


@bp.route("/picks/new", methods=["GET", "POST"])
@requires()
def new_pick():
    db = session()

    def render(error=None):
        lines = list(db.scalars(select(Location).where(Location.kind == "line").order_by(Location.code)))
        return render_template("stock/pick_new.html", form=request.form, error=error, lines=lines)

    def allocate():
        form = request.form
        pick = picking.allocate(db, current_actor(), requests=[(item_by_sku(db, form.get("sku", "")),
                                                                parse_qty(form, "qty"))],
                                destination=location_by_code(db, form.get("destination", ""), "destination"),
                                now=clock.now())
        flash("Stock réservé : suivez la tournée et scannez chaque prélèvement.", "success")
        return redirect(url_for("stock.pick", pick_id=pick.id))
    return on_error(render, allocate) if request.method == "POST" else render()


@bp.get("/picks/<int:pick_id>")
@requires()
def pick(pick_id: int):
    return _pick_page(pick_id)


def _pick_page(pick_id: int, error=None):
    found = picking.get_pick(session(), current_actor(), pick_id)
    return render_template("stock/pick.html", pick=found, lines=picking.round_order(found),
                           next_line=picking.next_line(found), error=error)


@bp.post("/picks/<int:pick_id>/scan")
@requires()
@form_handler(_pick_page)
def scan_pick(pick_id: int):
    db = session()
    found = picking.get_pick(db, current_actor(), pick_id)
    line = picking.confirm_scan(db, current_actor(), found, request.form.get("location", ""), request.form.get("code", ""),
                                clock.now())
    flash(f"{line.item.sku} lot {line.lot.number} × {picking.fmt(line.qty)} prélevé en {line.location.code}.",
          "success")
    return redirect(url_for("stock.pick", pick_id=pick_id))


@bp.post("/picks/<int:pick_id>/cancel")
@requires()
@form_handler(_pick_page)
def cancel_pick(pick_id: int):
    db = session()
    picking.cancel(db, current_actor(), picking.get_pick(db, current_actor(), pick_id), clock.now())
    flash("Liste annulée : les réservations sont libérées.", "success")
    return redirect(url_for("stock.pick", pick_id=pick_id))


# -- Line calls ---------------------------------------------------------------------------------

@bp.get("/line-calls")
@requires()
def line_calls():
    return _calls_page()


def _calls_page(error=None, **_):
    return render_template("stock/line_calls.html", calls=picking.call_queue(session()), now=clock.now(),
                           error=error)


@bp.route("/line-calls/new", methods=["GET", "POST"])
@requires()
def new_line_call():
    db = session()
    line_code = (request.values.get("line") or "").upper()

    def render(error=None):
        lines = list(db.scalars(select(Location).where(Location.kind == "line").order_by(Location.code)))
        items = []
        if line_code:
            # the line's usual material: what the programme brings it
            items = list(db.scalars(select(Item).where(Item.id.in_(
                select(ProgrammeLine.item_id).join(ProgrammeLine.line_location).where(Location.code == line_code))
            ).order_by(Item.sku).limit(24)))
        mine = list(db.scalars(select(LineCall).join(LineCall.line_location).where(
            Location.code == line_code, LineCall.status.in_(("open", "picking"))).order_by(LineCall.raised_at)))
        return render_template("stock/line_call_new.html", lines=lines, line_code=line_code, items=items, calls=mine,
                               now=clock.now(), error=error)

    def raise_call():
        call = picking.raise_call(db, current_actor(), line_code=line_code, sku=request.form.get("sku", ""),
                                  qty=parse_qty(request.form, "qty"), now=clock.now())
        flash(f"Appel envoyé au magasin : {call.item.sku} × {picking.fmt(call.qty)}.", "success")
        return redirect(url_for("stock.new_line_call", line=line_code))
    return on_error(render, raise_call) if request.method == "POST" else render()


@bp.post("/line-calls/<int:call_id>/serve")
@requires()
@form_handler(_calls_page)
def serve_call(call_id: int):
    pick = picking.serve_call(session(), current_actor(), call_id, clock.now())
    return redirect(url_for("stock.pick", pick_id=pick.id))


@bp.post("/line-calls/<int:call_id>/cancel")
@requires()
@form_handler(_calls_page)
def cancel_call(call_id: int):
    picking.cancel_call(session(), current_actor(), call_id)
    flash("Appel annulé.", "success")
    return redirect(url_for("stock.line_calls"))


def elapsed(since, now) -> str:
    minutes = int((now - since).total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60:02d}"
