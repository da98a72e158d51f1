"""Drawings: the Pareto and the Gantt (plotly figures as JSON), the Ishikawa fishbone (SVG made here)."""
from __future__ import annotations

from datetime import date, timedelta

import plotly.graph_objects as go
from markupsafe import Markup, escape

from modules.improvement.models import CATEGORIES_5M, CATEGORY_LABELS, Action
from modules.improvement.pareto import ParetoBar

COLORS = {"done": "#2b8a3e", "in_progress": "#1864ab", "late": "#c92a2a", "todo": "#868e96", "abandoned": "#adb5bd"}


def pareto_figure(bars: list[ParetoBar], title: str = "") -> str:
    fig = go.Figure()
    fig.add_bar(x=[b.category for b in bars], y=[b.value for b in bars], name="Valeur", marker_color="#1864ab",
                text=[f"{b.value:g}" for b in bars], textposition="outside")
    fig.add_scatter(x=[b.category for b in bars], y=[b.cumulative_pct for b in bars], name="Cumul %",
                    yaxis="y2", mode="lines+markers+text", line={"color": "#e8590c", "width": 3},
                    text=[f"{b.cumulative_pct:g} %" for b in bars], textposition="top center")
    fig.add_shape(type="line", xref="paper", x0=0, x1=1, yref="y2", y0=80, y1=80,
                  line={"color": "#e8590c", "dash": "dot", "width": 1})
    fig.update_layout(title={"text": title, "x": 0}, height=380, margin={"l": 40, "r": 50, "t": 50 if title else 20,
                                                                        "b": 80},
                      yaxis={"title": "Nombre", "rangemode": "tozero"},
                      yaxis2={"title": "Cumul %", "overlaying": "y", "side": "right", "range": [0, 115],
                              "tickmode": "array", "tickvals": [0, 20, 40, 60, 80, 100], "showgrid": False},
                      legend={"orientation": "h", "y": -0.25}, font={"size": 13}, plot_bgcolor="#fff")
    return fig.to_json()


def gantt_figure(actions: list[Action], today: date) -> str:
    """Planned (light bar: planned start → due) against actual (solid bar: started → done or today)."""
    fig = go.Figure()
    labels = [f"#{a.id} {a.title[:40]}" for a in actions]
    day_ms = 86400000

    def span(start: date, end: date) -> int:
        return ((end - start).days + 1) * day_ms

    fig.add_bar(y=labels, base=[a.planned_start.isoformat() for a in actions],
                x=[span(a.planned_start, a.due) for a in actions], orientation="h", name="Prévu",
                marker={"color": "rgba(134,142,150,.35)", "line": {"color": "#495057", "width": 1}},
                hovertemplate="%{y}<br>prévu jusqu'au %{customdata}<extra></extra>",
                customdata=[a.due.strftime("%d/%m/%Y") for a in actions], offsetgroup="planned")
    started = [a for a in actions if a.started_on]
    ends = [(a.done_on or max(today, a.started_on)) for a in started]
    fig.add_bar(y=[f"#{a.id} {a.title[:40]}" for a in started], base=[a.started_on.isoformat() for a in started],
                x=[span(a.started_on, end) for a, end in zip(started, ends)], orientation="h", name="Réel",
                marker={"color": [COLORS[a.follow_up(today)] for a in started]}, width=0.35, offsetgroup="actual",
                hovertemplate="%{y}<br>réel jusqu'au %{customdata}<extra></extra>",
                customdata=[end.strftime("%d/%m/%Y") for end in ends])
    fig.add_shape(type="line", x0=today.isoformat(), x1=today.isoformat(), yref="paper", y0=0, y1=1,
                  line={"color": "#c92a2a", "dash": "dash", "width": 2})
    fig.add_annotation(x=today.isoformat(), yref="paper", y=1.02, text="aujourd'hui", showarrow=False,
                       font={"color": "#c92a2a"})
    fig.update_layout(barmode="group", height=max(260, 46 * len(actions) + 120),
                      margin={"l": 10, "r": 10, "t": 30, "b": 40}, font={"size": 13}, plot_bgcolor="#fff",
                      xaxis={"type": "date", "gridcolor": "#e9ecef"}, yaxis={"autorange": "reversed"},
                      legend={"orientation": "h", "y": -0.12})
    return fig.to_json()


def _text(x: float, y: float, value: str, size: int = 13, anchor: str = "start", weight: str = "normal",
          fill: str = "#1b1f24") -> str:
    return (f'<text x="{x:.0f}" y="{y:.0f}" font-size="{size}" text-anchor="{anchor}" font-weight="{weight}" '
            f'fill="{fill}">{escape(value)}</text>')


def ishikawa_svg(problem: str, causes: list, chosen_id: int | None = None, width: int = 1000) -> Markup:
    """The fishbone on the 5M: three bones above the spine, two below; causes along each bone with their
    weight in bâtons (|||); the chosen cause in red. Causes are objects with category, text, weight, id."""
    top, bottom = ("matiere", "methodes", "main_oeuvre"), ("milieu", "materiel")
    by_family = {family: sorted([c for c in causes if c.category == family], key=lambda c: (-c.weight, c.id))[:6]
                 for family in CATEGORIES_5M}
    rows = max([len(v) for v in by_family.values()] + [3])
    bone_height = 40 + 22 * rows
    height = 2 * bone_height + 60
    spine_y, head_x = height / 2, width - 210
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height:.0f}" class="ishikawa" '
             f'role="img" aria-label="Diagramme d\'Ishikawa 5M" font-family="DejaVu Sans, sans-serif">',
             f'<line x1="20" y1="{spine_y}" x2="{head_x}" y2="{spine_y}" stroke="#1b1f24" stroke-width="4"/>',
             f'<polygon points="{head_x},{spine_y - 14} {head_x + 18},{spine_y} {head_x},{spine_y + 14}" fill="#1b1f24"/>',
             f'<rect x="{head_x + 22}" y="{spine_y - 50}" width="180" height="100" rx="8" fill="#fff5f5" '
             f'stroke="#c92a2a" stroke-width="2"/>']
    words, lines, line = problem.split(), [], ""
    for word in words:
        if len(line) + len(word) > 22 and line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    for index, value in enumerate(lines[:5]):
        parts.append(_text(head_x + 112, spine_y - 30 + 17 * index + (5 - min(len(lines), 5)) * 8, value, 13,
                           "middle", "bold"))
    slots = [(family, True, i) for i, family in enumerate(top)] + [(family, False, i) for i, family in
                                                                   enumerate(bottom)]
    step = (head_x - 60) / 3
    for family, above, index in slots:
        x_end = 60 + step * (index + 1) - (0 if above else step / 2)
        x_start = x_end - 90
        y_end = spine_y
        y_start = spine_y - bone_height + 10 if above else spine_y + bone_height - 10
        parts.append(f'<line x1="{x_start:.0f}" y1="{y_start:.0f}" x2="{x_end:.0f}" y2="{y_end:.0f}" '
                     f'stroke="#495057" stroke-width="3"/>')
        label_y = y_start - 8 if above else y_start + 20
        parts.append(_text(x_start, label_y, CATEGORY_LABELS[family], 15, "middle", "bold", "#0b5cad"))
        for row, cause in enumerate(by_family[family]):
            fraction = (row + 1) / (rows + 1)
            y = y_start + (y_end - y_start) * fraction
            x = x_start + (x_end - x_start) * fraction
            chosen = cause.id == chosen_id
            parts.append(f'<line x1="{x - 14:.0f}" y1="{y:.0f}" x2="{x:.0f}" y2="{y:.0f}" stroke="#adb5bd"/>')
            label = cause.text if len(cause.text) <= 34 else cause.text[:33] + "…"
            marks = f"  {'|' * min(cause.weight, 12)}{'+' if cause.weight > 12 else ''}" if cause.weight else ""
            parts.append(_text(x - 16, y + 4, label + marks, 12, "end", "bold" if chosen else "normal",
                               "#c92a2a" if chosen else "#1b1f24"))
    parts.append("</svg>")
    return Markup("".join(parts))


def days_late(action: Action, today: date) -> int:
    return (today - action.due).days if action.is_late(today) else 0


def horizon(actions: list[Action], today: date) -> tuple[date, date]:
    starts = [a.planned_start for a in actions] + [today]
    ends = [a.due for a in actions] + [today + timedelta(days=7)]
    return min(starts), max(ends)
