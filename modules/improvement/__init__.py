"""Improvement: action plans shared by every module, problem solving, decision tools, standards."""
from modules.improvement import (api, cancellation, demo, indicators, jobs, sources, views, views_decisions,  # noqa: F401
                                 views_problems, views_standards)
from modules.improvement.actions import KIND_LABELS, PDCA_LABELS, STATUS_LABELS
from modules.improvement.blueprint import bp
from modules.improvement.ideas import IDEA_LABELS
from modules.improvement.models import CATEGORY_LABELS
from shopfloor.registry import ActivityType, Module
from shopfloor.urls import link


ACTIVITY_TYPES = [
    ActivityType("improvement_problem", "Fiche problème", ("LEAN-1", "INDUS-7"),
                 url=lambda a: link("improvement.problem", problem_id=a.id)),
    ActivityType("improvement_plan", "Plan d'actions", ("LEAN-5", "INDUS-8"),
                 url=lambda a: link("improvement.plan", plan_id=a.id)),
    ActivityType("improvement_decision", "Étude de décision (matrice, ROI)", ("LEAN-3", "INDUS-4"),
                 url=lambda a: link("improvement.decision", study_id=a.id)),
    ActivityType("improvement_standard", "Standard (OPL, mode opératoire)", ("LEAN-8",),
                 url=lambda a: link("improvement.standard", standard_id=a.id)),
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
    # {{ improvement.action_status_labels }}… in the templates
    template_globals={"action_status_labels": STATUS_LABELS, "pdca_labels": PDCA_LABELS,
                      "action_kind_labels": KIND_LABELS, "cause_family_labels": CATEGORY_LABELS,
                      "idea_labels": IDEA_LABELS},
)
