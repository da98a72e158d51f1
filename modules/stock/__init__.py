"""Stock: the stores of référentiel 001 (LOG-1 … LOG-7) that every other trade touches."""
from modules.stock import (api, cancellation, cli, demo, improvement_sources, indicators, jobs, ops_api, ops_demo,
                           ops_views, views)
from shopfloor.registry import Module



def _demo(db, now):
    demo.load(db, now)
    ops_demo.load(db, now)


registration = Module(
    name="stock",
    label="Magasin",
    blueprints=[views.bp, api.bp, ops_views.bp, ops_api.bp],
    activity_types=views.ACTIVITY_TYPES + ops_views.ACTIVITY_TYPES,
    indicators=indicators.INDICATORS,
    jobs=jobs.JOBS,
    cli=cli.group,
    demo=_demo,
    nav=views.NAV + ops_views.NAV,
    effects=cancellation.EFFECTS,
    origins=improvement_sources.ORIGINS,
    pareto_sources=improvement_sources.PARETO_SOURCES,
)
