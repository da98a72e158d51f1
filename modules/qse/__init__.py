"""QSE: non-conformities, internal audits, risks, regulatory watch, safety events, objectives and steering."""
from modules.qse import api, cancellation, demo, indicators, jobs, models, sources  # noqa: F401
from modules.qse.blueprints import api as api_bp, bp
from modules.qse.views import registers, steering  # noqa: F401  (their routes are on the blueprints)
from shopfloor.registry import ActivityType, Module
from shopfloor.urls import link

ACTIVITY_TYPES = [
    ActivityType("qse_nonconformity", "Non-conformité", ("QSE-9",),
                 url=lambda a: link("qse.nonconformity", nc_id=a.id)),
    ActivityType("qse_audit", "Audit interne", ("QSE-8",), url=lambda a: link("qse.audit", audit_id=a.id)),
    ActivityType("qse_risk_evaluation", "Évaluation des risques", ("QSE-2",),
                 url=lambda a: link("qse.risk", risk_id=a.id)),
    ActivityType("qse_context", "Analyse du contexte", ("QSE-1",),
                 url=lambda a: link("qse.context", analysis_id=a.id)),
    ActivityType("qse_regulatory_review", "Revue réglementaire", ("QSE-3",),
                 url=lambda a: link("qse.regulatory_review", review_id=a.id)),
    ActivityType("qse_objectives", "Objectifs QSE", ("QSE-4",),
                 url=lambda a: link("qse.objective", objective_id=a.id)),
    ActivityType("qse_planning", "Planning QSE", ("QSE-5",), url=lambda a: link("qse.planning", planning_id=a.id)),
    ActivityType("qse_indicator_followup", "Suivi d'indicateur QSE", ("QSE-6", "QSE-7"),
                 url=lambda a: link("qse.followup", followup_id=a.id)),
]

# The labels the templates show, as {{ qse.labels.<kind>[key] }}.
LABELS = {"source": models.NC_SOURCES, "severity": models.NC_SEVERITIES, "requirement": models.NC_REQUIREMENTS,
          "status": models.NC_STATUSES, "audit_type": models.AUDIT_TYPES, "finding": models.FINDING_KINDS,
          "risk_category": models.RISK_CATEGORIES, "risk_kind": models.RISK_KINDS, "event": models.EVENT_KINDS,
          "domain": models.REG_DOMAINS, "compliance": models.REG_COMPLIANCE, "axis": models.POLICY_AXES,
          "objective_status": models.OBJECTIVE_STATUSES, "frequency": models.FREQUENCIES,
          "direction": models.DIRECTIONS, "visual": models.VISUALS, "party_priority": models.PARTY_PRIORITIES}

__all__ = ["ACTIVITY_TYPES", "LABELS", "api", "registers", "registration", "steering"]

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
    template_globals={"labels": LABELS},
)
