"""Stock: the stores of référentiel 001 (LOG-1 … LOG-7) that every other trade touches."""
from modules.stock import api, cancellation, cli, demo, improvement_sources, indicators, jobs, views
from shopfloor.registry import Module

registration = Module(
    name="stock",
    label="Magasin",
    blueprints=[views.bp, api.bp],
    activity_types=views.ACTIVITY_TYPES,
    indicators=indicators.INDICATORS,
    jobs=jobs.JOBS,
    cli=cli.group,
    demo=demo.load,
    nav=views.NAV,
    effects=cancellation.EFFECTS,
    origins=improvement_sources.ORIGINS,
    pareto_sources=improvement_sources.PARETO_SOURCES,
    template_globals=views.TEMPLATE_GLOBALS,
)
