"""Stock pages: the store map and ABC slotting studies."""
from __future__ import annotations


import plotly.graph_objects as go
from flask import flash, redirect, render_template, request, url_for

from shopfloor import clock
from shopfloor import validation as v
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.db import session
from shopfloor.forms import form_handler
from modules.stock import layout
from modules.stock.views.common import ALL, bp


# -- Layout -----------------------------------------------------------------------

@bp.get("/layout", endpoint="layout")
@requires(*ALL)
def layout_page():
    return _layout_page()


def _layout_page(error=None):
    db = session()
    return render_template("stock/layout.html", aisles=layout.store_map(db), studies=layout.studies(db, current_actor()),
                           level=layout.occupancy_level, bases=layout.BASES, error=error, form=request.form)


@bp.post("/slotting")
@requires("apprentice")
@form_handler(_layout_page)
def create_study():
    db = session()
    form = request.form
    study = layout.create_study(db, current_actor(), basis=v.choice(form, "basis", tuple(layout.BASES)),
                                window_days=v.integer(form, "window_days", minimum=7, maximum=730), now=clock.now())
    flash("Analyse ABC enregistrée.", "success")
    return redirect(url_for("stock.study", study_id=study.id))


@bp.get("/slotting/<int:study_id>")
@requires(*ALL)
def study(study_id: int):
    item = layout.visible_study(session(), current_actor(), study_id)
    moves = [line for line in item.lines if line.suggested_location_id]
    changes = [line for line in item.lines if line.current_class != line.proposed_class]
    return render_template("stock/study.html", study=item, top=item.lines[:60], moves=moves,
                           changes=len(changes), bases=layout.BASES, pareto=_pareto(item, item.lines[:60]))


def _pareto(study, lines) -> str:
    """The ABC Pareto: bars coloured by proposed class, cumulative share on the right axis."""
    colours = {"A": "#2b8a3e", "B": "#e8590c", "C": "#868e96"}
    measure = [line.picks if study.basis == "frequency" else float(line.picked_value) for line in lines]
    skus = [line.item.sku for line in lines]
    fig = go.Figure([go.Bar(x=skus, y=measure, marker_color=[colours[line.proposed_class] for line in lines],
                            name="Prélèvements" if study.basis == "frequency" else "Valeur (€)"),
                     go.Scatter(x=skus, y=[float(line.cumulative_pct) for line in lines], yaxis="y2",
                                mode="lines+markers", name="Cumul %", line_color="#1864ab")])
    fig.update_layout(height=340, margin=dict(t=10, r=50, l=50, b=80), showlegend=False,
                      yaxis2=dict(overlaying="y", side="right", range=[0, 100], ticksuffix=" %"),
                      shapes=[dict(type="line", xref="paper", x0=0, x1=1, yref="y2", y0=80, y1=80,
                                   line=dict(dash="dot", color="#c92a2a"))])
    return fig.to_html(full_html=False, include_plotlyjs=False, config={"displayModeBar": False, "responsive": True})


@bp.post("/slotting/<int:study_id>/apply")
@requires(*ALL)
def apply_study(study_id: int):
    db = session()
    changed = layout.apply_study(db, current_actor(), layout.visible_study(db, current_actor(), study_id), clock.now())
    flash(f"Classes ABC appliquées : {changed} article(s) changent de classe.", "success")
    return redirect(url_for("stock.study", study_id=study_id))
