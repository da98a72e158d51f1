"""QSE: non-conformities, internal audits, risks, regulatory watch, safety events."""
from flask import url_for

from modules.qse import api, cancellation, demo, indicators, jobs, sources, views, views_plan  # noqa: F401
from modules.qse.web import api as api_bp, bp
from shopfloor.registry import ActivityType, Module

ACTIVITY_TYPES = [
    ActivityType("qse_nonconformity", "Non-conformité", ("QSE-9",),
                 url=lambda a: url_for("qse.nonconformity", nc_id=a.id)),
    ActivityType("qse_audit", "Audit interne", ("QSE-8",), url=lambda a: url_for("qse.audit", audit_id=a.id)),
    ActivityType("qse_risk_evaluation", "Évaluation des risques", ("QSE-2",),
                 url=lambda a: url_for("qse.risk", risk_id=a.id)),
    ActivityType("qse_context", "Analyse du contexte", ("QSE-1",),
                 url=lambda a: url_for("qse.context", analysis_id=a.id)),
    ActivityType("qse_regulatory_review", "Revue réglementaire", ("QSE-3",),
                 url=lambda a: url_for("qse.regulatory_review", review_id=a.id)),
    ActivityType("qse_objectives", "Objectifs QSE", ("QSE-4",),
                 url=lambda a: url_for("qse.objective", objective_id=a.id)),
    ActivityType("qse_planning", "Planning QSE", ("QSE-5",), url=lambda a: url_for("qse.planning", planning_id=a.id)),
    ActivityType("qse_indicator_followup", "Suivi d'indicateur QSE", ("QSE-6", "QSE-7"),
                 url=lambda a: url_for("qse.followup", followup_id=a.id)),
]

registration = Module(
    name="qse",
    label="QSE",
    blueprints=[bp, api_bp],
    activity_types=ACTIVITY_TYPES,
    indicators=indicators.INDICATORS,
    jobs=jobs.JOBS,
    demo=demo.load,
    nav=[("QSE", "qse.index", ("admin", "tutor", "apprentice"))],
    effects=cancellation.EFFECTS,
    origins=sources.ORIGINS,
    pareto_sources=sources.PARETO_SOURCES,
)
