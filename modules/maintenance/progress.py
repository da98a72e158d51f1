"""What an analysis started in the improvement module, and the rows of its evidence.

An analysis's improvement proposals and its progress action (MAINT-6) are improvement actions whose
origin is ("maintenance_analysis", analysis id); the progress action is the one carrying an
indicator. The Analysis model describes itself from here (summary, proposed competences), so this
file needs no maintenance model and the model needs none of the services that create analyses."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, object_session

from modules.improvement import services as improvement
from shopfloor import clock
from shopfloor.evidence.models import Activity  # an Analysis: its model imports this file

ORIGIN = "maintenance_analysis"


def actions(db: Session, analysis: Activity):
    return improvement.origin_actions(db, ORIGIN, analysis.id)


def proposals(db: Session, analysis: Activity):
    return [a for a in actions(db, analysis) if not a.eff_indicator]


def progress_action(db: Session, analysis: Activity):
    return next((a for a in actions(db, analysis) if a.eff_indicator), None)


def has_measured_progress(analysis: Activity) -> bool:
    db = object_session(analysis)
    action = progress_action(db, analysis) if db is not None and analysis.id else None
    return bool(action and action.effectiveness_recorded)


def _number(value, unit: str) -> str:
    return "—" if value is None else f"{value:.1f} {unit}".strip()


def summary_rows(analysis: Activity) -> list[tuple[str, str]]:
    k = analysis.kpis
    last_day = clock.paris_day(analysis.period_end - timedelta(seconds=1))
    rows = [("Périmètre", analysis.scope_label),
            ("Période", f"du {clock.paris_day(analysis.period_start):%d/%m/%Y} au {last_day:%d/%m/%Y}"),
            ("Pannes", str(k.get("failures", 0))),
            ("Disponibilité", _number(k.get("availability"), "%")),
            ("MTBF / MTTR", f"{_number(k.get('mtbf_hours'), 'h')} / {_number(k.get('mttr_hours'), 'h')}"),
            ("Respect du préventif", _number(k.get("pm_compliance"), "%"))]
    if analysis.pareto:
        rows.append(("Pareto des causes", ", ".join(f"{cause} ({count})" for cause, count in analysis.pareto[:5])))
    if analysis.conclusions:
        rows.append(("Conclusions", analysis.conclusions))
    db = object_session(analysis)
    if db is None or analysis.id is None:
        return rows
    for action in proposals(db, analysis):
        rows.append(("Proposition d'amélioration", f"{action.title} — {action.deliverable}"))
    progress = progress_action(db, analysis)
    if progress is not None:
        after = f", après {progress.eff_after:g}" if progress.eff_after is not None else ""
        rows.append(("Action de progrès", f"{progress.title} — {progress.eff_indicator} : avant "
                     f"{progress.eff_before:g}, cible {progress.eff_target:g}{after}"))
    return rows
