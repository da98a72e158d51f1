"""Everything a module gives the core goes through its Module object: an app built without a
module has no trace of it, even when the module was imported earlier in the process."""
from __future__ import annotations

import importlib

import pytest

from shopfloor import create_app
from shopfloor.config import DEFAULT_MODULES


def _traces(app, module) -> dict[str, list]:
    registry = app.extensions["shopfloor_registry"]
    blueprints = {bp.name for bp in module.blueprints}
    return {
        "module": [m.name for m in registry.modules if m.name == module.name],
        "origins": [key for key in registry.origins if key in {o.type_key for o in module.origins}],
        "pareto sources": [key for key in registry.pareto_sources if key in {p.key for p in module.pareto_sources}],
        "activity types": [key for key in registry.activity_types if key in {t.key for t in module.activity_types}],
        "indicators": [key for key in registry.indicators if key in {i.key for i in module.indicators}],
        "jobs": [job.name for job in registry.jobs if job in module.jobs],
        "template globals": [name for name in app.jinja_env.globals
                             if name == module.name or name in module.template_globals],
        "blueprints": [name for name in app.blueprints if name in blueprints],
        "endpoints": [rule.endpoint for rule in app.url_map.iter_rules()
                      if rule.endpoint.split(".")[0] in blueprints],
    }


@pytest.mark.parametrize("left_out", ["modules.qse", "modules.maintenance", "dashboards"])
def test_an_app_without_a_module_has_no_trace_of_it(app_config, left_out):
    module = importlib.import_module(left_out).registration   # imported: import alone must register nothing
    full = create_app(app_config)
    assert any(_traces(full, module).values()), "the module gives the app something when it is loaded"
    without = create_app({**app_config, "MODULES": [m for m in DEFAULT_MODULES if m != left_out]})
    assert _traces(without, module) == {key: [] for key in _traces(without, module)}
    for app in (full, without):
        app.extensions["shopfloor_sessions"].engine.dispose()
