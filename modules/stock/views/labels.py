"""Stock pages: location and lot label sheets."""
from __future__ import annotations


from flask import render_template, request

from shopfloor.auth.permissions import requires
from shopfloor.db import session
from shopfloor.forms import on_error
from modules.stock import inputs, labels
from modules.stock.views.common import ALL, bp


# -- Labels -----------------------------------------------------------------------

@bp.get("/labels", endpoint="labels")
@requires(*ALL)
def labels_page():
    return render_template("stock/labels.html", formats=labels.FORMATS)


def _label_sheet(build, kind: str, field: str):
    def render(error):
        return render_template("stock/labels.html", formats=labels.FORMATS, error=error, kind=kind, form=request.args)

    def sheet():
        query = inputs.label_sheet(request.args, field)
        return render_template("stock/label_sheet.html", labels=build(session(), query.key, query.fmt), kind=kind,
                               fmt=query.fmt)
    return on_error(render, sheet)


@bp.get("/labels/locations")
@requires(*ALL)
def location_labels():
    return _label_sheet(labels.location_labels, "locations", "prefix")


@bp.get("/labels/lots")
@requires(*ALL)
def lot_labels():
    if not request.args.get("sku"):
        return render_template("stock/labels.html", formats=labels.FORMATS, kind="lots", form=request.args)
    return _label_sheet(labels.lot_labels, "lots", "sku")
