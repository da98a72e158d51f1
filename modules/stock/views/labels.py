"""Stock pages: location and lot label sheets."""
from __future__ import annotations


from flask import render_template, request

from shopfloor.auth.permissions import requires
from shopfloor.db import session
from shopfloor.forms import on_error
from modules.stock import labels
from modules.stock.views.common import ALL, bp


# -- Labels -----------------------------------------------------------------------

@bp.get("/labels", endpoint="labels")
@requires(*ALL)
def labels_page():
    return render_template("stock/labels.html", formats=labels.FORMATS)


def _label_sheet(build, kind: str):
    fmt = request.args.get("format", "code128")

    def render(error):
        return render_template("stock/labels.html", formats=labels.FORMATS, error=error, kind=kind, form=request.args)
    return on_error(render, lambda: render_template("stock/label_sheet.html", labels=build(fmt), kind=kind, fmt=fmt))


@bp.get("/labels/locations")
@requires(*ALL)
def location_labels():
    return _label_sheet(lambda fmt: labels.location_labels(session(), request.args.get("prefix", ""), fmt), "locations")


@bp.get("/labels/lots")
@requires(*ALL)
def lot_labels():
    if not request.args.get("sku"):
        return render_template("stock/labels.html", formats=labels.FORMATS, kind="lots", form=request.args)
    return _label_sheet(lambda fmt: labels.lot_labels(session(), request.args.get("sku", ""), fmt), "lots")
