"""AIC boards (SQCDPM) fed by every module, short-interval meetings and workshop screens."""
from dashboards import api, cancellation, demo, indicators, meetings, screen_views, services, views
from dashboards.models import LETTER_LABELS, LETTERS
from shopfloor.registry import Job, Module


registration = Module(
    name="dashboards",
    label="Tableaux AIC",
    blueprints=[views.bp, screen_views.bp, api.bp],
    activity_types=[meetings.MEETING_TYPE],
    indicators=indicators.INDICATORS,
    jobs=[Job("aic_snapshots", services.snapshot_job, minutes=360)],
    demo=demo.load,
    nav=[("Tableaux AIC", "dashboards.boards", ("admin", "tutor", "apprentice")),
         ("Écrans", "dashboards.screens_page", ("admin",))],
    effects=cancellation.EFFECTS,
    origins=meetings.ORIGINS,
    pareto_sources=meetings.PARETO_SOURCES,
    template_globals={"symbols": indicators.SYMBOLS, "status_labels": indicators.STATUS_LABELS,
                      "letter_labels": LETTER_LABELS, "letters": LETTERS},
    public_endpoints=("dashboards_screen.screen", "dashboards_screen.screen_data"),
)
