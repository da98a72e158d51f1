"""QSE: non-conformities, internal audits, risks, regulatory watch, safety events."""
from flask import url_for

from modules.qse import api, demo, indicators, jobs, sources, views  # noqa: F401
from modules.qse.web import api as api_bp, bp
from shopfloor.registry import ActivityType, Module

sources.register()

ACTIVITY_TYPES = [
    ActivityType("qse_nonconformity", "Non-conformité", ("QSE-9",),
                 url=lambda a: url_for("qse.nonconformity", nc_id=a.id)),
    ActivityType("qse_audit", "Audit interne", ("QSE-8",), url=lambda a: url_for("qse.audit", audit_id=a.id)),
    ActivityType("qse_risk_evaluation", "Évaluation des risques", ("QSE-2",),
                 url=lambda a: url_for("qse.risk", risk_id=a.id)),
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
)
