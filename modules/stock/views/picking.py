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
from shopfloor.errors import DomainError
from modules.stock import picking
from modules.stock.lookup import item_by_sku, location_by_code
from modules.stock.models import Item, LineCall, Location, PickList, ProgrammeLine
from modules.stock.quantities import parse_qty
from modules.stock.views.common import PAGE, _fail, bp, page_number


# -- Programme and picks -----------------------------------------------------------------------

@bp.route("/programme", methods=["GET", "POST"])
@requires()
def programme():
    db, error, now = session(), None, clock.now()
    if request.method == "POST":
        form = request.form
        try:
            picking.add_programme_line(db, current_actor(), line_code=form.get("line", ""), sku=form.get("sku", ""),
                                       qty=parse_qty(form, "qty"),
                                       needed_at=v.datetime_field(form, "needed_at"),
                                       workshop=v.text(form, "workshop", required=False, max_length=80))
        except DomainError as exc:
            error = _fail(db, exc)
        else:
            flash("Besoin ajouté au programme.", "success")
            return redirect(url_for("stock.programme"))
    return _programme_page(error, now)


def _programme_page(error, now, status=None):
    db = session()
    rows = list(db.scalars(select(ProgrammeLine).options(joinedload(ProgrammeLine.item),
                                                         joinedload(ProgrammeLine.line_location),
                                                         joinedload(ProgrammeLine.pick_list))
                           .where(ProgrammeLine.needed_at >= now - timedelta(days=2),
                                  ProgrammeLine.needed_at < now + timedelta(days=8))
                           .order_by(ProgrammeLine.needed_at, ProgrammeLine.id).limit(300)))
    lines = list(db.scalars(select(Location).where(Location.kind == "line").order_by(Location.code)))
    return render_template("stock/programme.html", rows=rows, lines=lines, error=error, form=request.form,
                           now=v.to_paris(now)), status or (error.status if error else 200)


@bp.post("/programme/pick")
@requires()
def pick_programme():
    db = session()
    try:
        ids = [int(x) for x in request.form.getlist("lines") if x.isdigit()]
        pick = picking.pick_programme(db, current_actor(), ids, clock.now())
    except DomainError as exc:
        return _programme_page(_fail(db, exc), clock.now(), exc.status)
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
    db, error = session(), None
    if request.method == "POST":
        form = request.form
        try:
            pick = picking.allocate(db, current_actor(), requests=[(item_by_sku(db, form.get("sku", "")),
                                                            parse_qty(form, "qty"))],
                                    destination=location_by_code(db, form.get("destination", ""), "destination"),
                                    now=clock.now())
        except DomainError as exc:
            error = _fail(db, exc)
        else:
            flash("Stock réservé : suivez la tournée et scannez chaque prélèvement.", "success")
            return redirect(url_for("stock.pick", pick_id=pick.id))
    lines = list(db.scalars(select(Location).where(Location.kind == "line").order_by(Location.code)))
    return render_template("stock/pick_new.html", form=request.form, error=error, lines=lines), \
        (error.status if error else 200)


@bp.get("/picks/<int:pick_id>")
@requires()
def pick(pick_id: int):
    return _pick_page(pick_id, None)


def _pick_page(pick_id: int, error, status: int = 200):
    db = session()
    found = picking.get_pick(db, current_actor(), pick_id)
    return render_template("stock/pick.html", pick=found, lines=picking.round_order(found),
                           next_line=picking.next_line(found), error=error), status


@bp.post("/picks/<int:pick_id>/scan")
@requires()
def scan_pick(pick_id: int):
    db = session()
    found = picking.get_pick(db, current_actor(), pick_id)
    try:
        line = picking.confirm_scan(db, current_actor(), found, request.form.get("location", ""), request.form.get("code", ""),
                                    clock.now())
    except DomainError as exc:
        _fail(db, exc)
        return _pick_page(pick_id, exc, exc.status)
    flash(f"{line.item.sku} lot {line.lot.number} × {picking.fmt(line.qty)} prélevé en {line.location.code}.",
          "success")
    return redirect(url_for("stock.pick", pick_id=pick_id))


@bp.post("/picks/<int:pick_id>/cancel")
@requires()
def cancel_pick(pick_id: int):
    db = session()
    try:
        picking.cancel(db, current_actor(), picking.get_pick(db, current_actor(), pick_id), clock.now())
    except DomainError as exc:
        _fail(db, exc)
        return _pick_page(pick_id, exc, exc.status)
    flash("Liste annulée : les réservations sont libérées.", "success")
    return redirect(url_for("stock.pick", pick_id=pick_id))


# -- Line calls ---------------------------------------------------------------------------------

@bp.get("/line-calls")
@requires()
def line_calls():
    return _calls_page(None)


def _calls_page(error, status: int = 200):
    return render_template("stock/line_calls.html", calls=picking.call_queue(session()), now=clock.now(),
                           error=error), status


@bp.route("/line-calls/new", methods=["GET", "POST"])
@requires()
def new_line_call():
    db, error = session(), None
    line_code = (request.values.get("line") or "").upper()
    if request.method == "POST":
        try:
            call = picking.raise_call(db, current_actor(), line_code=line_code, sku=request.form.get("sku", ""),
                                      qty=parse_qty(request.form, "qty"), now=clock.now())
        except DomainError as exc:
            error = _fail(db, exc)
        else:
            flash(f"Appel envoyé au magasin : {call.item.sku} × {picking.fmt(call.qty)}.", "success")
            return redirect(url_for("stock.new_line_call", line=line_code))
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
                           now=clock.now(), error=error), (error.status if error else 200)


@bp.post("/line-calls/<int:call_id>/serve")
@requires()
def serve_call(call_id: int):
    db = session()
    try:
        pick = picking.serve_call(db, current_actor(), call_id, clock.now())
    except DomainError as exc:
        return _calls_page(_fail(db, exc), exc.status)
    return redirect(url_for("stock.pick", pick_id=pick.id))


@bp.post("/line-calls/<int:call_id>/cancel")
@requires()
def cancel_call(call_id: int):
    db = session()
    try:
        picking.cancel_call(db, current_actor(), call_id)
    except DomainError as exc:
        return _calls_page(_fail(db, exc), exc.status)
    flash("Appel annulé.", "success")
    return redirect(url_for("stock.line_calls"))


def elapsed(since, now) -> str:
    minutes = int((now - since).total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60:02d}"


bp.add_app_template_filter(elapsed, "elapsed")
