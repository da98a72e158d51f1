"""Stock pages: inventory counts (blind sheet, recount, validation)."""
from __future__ import annotations

from decimal import Decimal

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from shopfloor import access
from shopfloor import clock
from shopfloor import validation as v
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.db import session
from shopfloor.forms import form_handler
from modules.stock import counts, inputs
from modules.stock.models import COUNT_SCOPES, Count
from modules.stock.views.common import ALL, bp


# -- Counts -----------------------------------------------------------------------

@bp.get("/counts", endpoint="counts")
@requires(*ALL)
def counts_page():
    return _counts_page()


def _counts_page(error=None):
    db = session()
    query = (select(Count).where(access.visible_filter(Count, current_actor()))
             .order_by(Count.performed_at.desc()).limit(100))
    return render_template("stock/counts.html", counts=list(db.scalars(query)), error=error,
                           form=request.form)


@bp.post("/counts")
@requires("apprentice")
@form_handler(_counts_page)
def create_count():
    db = session()
    form = request.form
    count = counts.create_count(
        db, current_actor(), scope=v.choice(form, "scope", tuple(COUNT_SCOPES)),
        value=v.text(form, "value", required=False, max_length=40), now=clock.now(),
        threshold_pct=v.percentage(form, "threshold_pct", required=False),
        threshold_value=v.decimal(form, "threshold_value", required=False, minimum=Decimal(0)))
    flash(f"Inventaire créé : {len(count.lines)} ligne(s) à compter.", "success")
    return redirect(url_for("stock.count", count_id=count.id))


@bp.get("/counts/<int:count_id>")
@requires(*ALL)
def count(count_id: int):
    return _count_page(count_id)


def _count_page(count_id: int, error=None):
    db = session()
    item = counts.visible_count(db, current_actor(), count_id)
    mine = item.author_id == current_actor().id
    reveal = item.status == "validated" or counts.can_validate(current_actor(), item)
    lines = counts.sorted_lines(item)
    totals = None
    if reveal:
        totals = {"value": sum((line.difference_value or 0 for line in lines), Decimal(0)),
                  "lines": sum(1 for line in lines if line.difference not in (None, 0))}
    return render_template("stock/count.html", count=item, lines=lines, mine=mine, reveal=reveal,
                           can_validate=counts.can_validate(current_actor(), item), totals=totals, error=error,
                           form=request.form if error else request.args,
                           done=sum(1 for line in lines if line.status in ("counted", "recounted")))


@bp.post("/counts/<int:count_id>/lines")
@requires("apprentice")
@form_handler(_count_page)
def count_line(count_id: int):
    db = session()
    item = counts.visible_count(db, current_actor(), count_id)
    entry = inputs.count_entry(request.form)
    line = counts.record_line(db, current_actor(), item, location_code=entry.location_code, sku=entry.sku,
                              lot_number=entry.lot_number, counted_qty=entry.counted_qty, now=clock.now())
    if line.status == "recount":
        flash(f"Écart important sur {line.location.code} {line.item.sku} : recomptez cet emplacement.", "error")
    else:
        flash(f"{line.location.code} · {line.item.sku} lot {line.lot.number} : comptage enregistré.", "success")
    return redirect(url_for("stock.count", count_id=count_id, location=line.location.code))


@bp.post("/counts/<int:count_id>/validate")
@requires("tutor", "admin")
@form_handler(_count_page)
def validate_count(count_id: int):
    db = session()
    item = counts.visible_count(db, current_actor(), count_id)
    moves = counts.validate_count(db, current_actor(), item, clock.now())
    flash(f"Inventaire validé : {len(moves)} ajustement(s) passé(s), exactitude {item.accuracy_pct:.1f} %.", "success")
    return redirect(url_for("stock.count", count_id=count_id))
