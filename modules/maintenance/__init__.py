"""Maintenance: equipment, preventive plans, work orders with lockout and diagnosis, KPIs."""
from modules.maintenance import api, cancellation, demo, indicators, schedule, views
from modules.maintenance.cli import group
from modules.maintenance.models import code_label, code_labels
from shopfloor.registry import Job, Module


registration = Module(
    name="maintenance",
    label="Maintenance",
    blueprints=[views.bp, api.bp],
    activity_types=views.ACTIVITY_TYPES,
    indicators=indicators.INDICATORS,
    jobs=[Job("maintenance.generate_work_orders", schedule.job, minutes=15)],
    cli=group,
    demo=demo.load,
    nav=views.NAV,
    effects=cancellation.EFFECTS,
    origins=indicators.ORIGINS,
    pareto_sources=indicators.PARETO_SOURCES,
    template_globals={"code_label": code_label, "code_labels": code_labels},
)
