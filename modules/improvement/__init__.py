"""Improvement: action plans shared by every module, problem solving, decision tools, standards."""
from flask import url_for

from modules.improvement import (api, cancellation, demo, indicators, jobs, sources, views, views_decisions,  # noqa: F401
                                 views_problems, views_standards)
from modules.improvement.blueprint import bp
from shopfloor.registry import ActivityType, Module


ACTIVITY_TYPES = [
    ActivityType("improvement_problem", "Fiche problème", ("LEAN-1", "INDUS-7"),
                 url=lambda a: url_for("improvement.problem", problem_id=a.id)),
    ActivityType("improvement_plan", "Plan d'actions", ("LEAN-5", "INDUS-8"),
                 url=lambda a: url_for("improvement.plan", plan_id=a.id)),
    ActivityType("improvement_decision", "Étude de décision (matrice, ROI)", ("LEAN-3", "INDUS-4"),
                 url=lambda a: url_for("improvement.decision", study_id=a.id)),
    ActivityType("improvement_standard", "Standard (OPL, mode opératoire)", ("LEAN-8",),
                 url=lambda a: url_for("improvement.standard", standard_id=a.id)),
]

registration = Module(
    name="improvement",
    label="Amélioration continue",
    blueprints=[bp, api.bp],
    activity_types=ACTIVITY_TYPES,
    indicators=indicators.INDICATORS,
    jobs=jobs.JOBS,
    demo=demo.load,
    nav=[("Amélioration", "improvement.index", ("admin", "tutor", "apprentice"))],
    effects=cancellation.EFFECTS,
    origins=sources.ORIGINS,
    pareto_sources=sources.PARETO_SOURCES,
)
