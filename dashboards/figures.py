"""Plotly figures of the boards: an indicator's trend and the Pareto of the problems raised."""
from __future__ import annotations

from datetime import date

import plotly.graph_objects as go

from dashboards import indicators as ind

COLOURS = {"green": "#2b8a3e", "orange": "#e8590c", "red": "#c92a2a", "grey": "#868e96"}
MARKERS = {"green": "circle", "orange": "triangle-up", "red": "x", "grey": "line-ew"}


def _layout(fig: go.Figure, title: str, height: int = 300) -> go.Figure:
    fig.update_layout(title={"text": title, "font": {"size": 16}}, height=height,
                      margin={"l": 50, "r": 20, "t": 45, "b": 40}, plot_bgcolor="#fff", paper_bgcolor="#fff",
                      showlegend=True, legend={"orientation": "h", "y": -0.2}, font={"family": "DejaVu Sans"})
    fig.update_xaxes(gridcolor="#eee")
    fig.update_yaxes(gridcolor="#eee")
    return fig


def trend(label: str, unit: str, points: list[tuple[date, float | None]], target: float, threshold: float,
          higher_is_better: bool) -> go.Figure:
    """The daily values with target and threshold lines; each point coloured and shaped by its status."""
    known = [(d, v) for d, v in points if v is not None]
    statuses = [ind.status(v, target, threshold, higher_is_better) for _, v in known]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[d for d, _ in known], y=[v for _, v in known], mode="lines+markers", name=label,
                             line={"color": "#495057", "width": 1.5},
                             marker={"size": 8, "color": [COLOURS[s] for s in statuses],
                                     "symbol": [MARKERS[s] for s in statuses]},
                             hovertemplate="%{x|%d/%m/%Y} : %{y}" + (f" {unit}" if unit else "") + "<extra></extra>"))
    if points:
        xs = [points[0][0], points[-1][0]]
        fig.add_trace(go.Scatter(x=xs, y=[target, target], mode="lines", name=f"Objectif {target:g}",
                                 line={"color": COLOURS["green"], "dash": "dash"}))
        fig.add_trace(go.Scatter(x=xs, y=[threshold, threshold], mode="lines", name=f"Seuil {threshold:g}",
                                 line={"color": COLOURS["orange"], "dash": "dot"}))
    return _layout(fig, f"{label}" + (f" ({unit})" if unit else ""))


def pareto(counts: list[tuple[str, int]], title: str) -> go.Figure:
    """Bars by category, most frequent first, and the cumulative percentage."""
    total = sum(c for _, c in counts) or 1
    cumulative, running = [], 0
    for _, count in counts:
        running += count
        cumulative.append(round(100 * running / total, 1))
    fig = go.Figure()
    fig.add_trace(go.Bar(x=[c for c, _ in counts], y=[n for _, n in counts], name="Problèmes",
                         marker_color="#0b5cad", text=[n for _, n in counts], textposition="outside"))
    fig.add_trace(go.Scatter(x=[c for c, _ in counts], y=cumulative, name="Cumul %", yaxis="y2",
                             mode="lines+markers", line={"color": "#c92a2a"}))
    fig.update_layout(yaxis2={"overlaying": "y", "side": "right", "range": [0, 105], "ticksuffix": " %"})
    return _layout(fig, title, height=340)
