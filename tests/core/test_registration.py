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


@pytest.mark.parametrize("left_out", ["modules.qse", "modules.maintenance", "modules.improvement", "dashboards"])
def test_an_app_without_a_module_has_no_trace_of_it(app_config, left_out):
    module = importlib.import_module(left_out).registration   # imported: import alone must register nothing
    full = create_app(app_config)
    assert any(_traces(full, module).values()), "the module gives the app something when it is loaded"
    without = create_app({**app_config, "MODULES": [m for m in DEFAULT_MODULES if m != left_out]})
    assert _traces(without, module) == {key: [] for key in _traces(without, module)}
    for app in (full, without):
        app.extensions["shopfloor_sessions"].engine.dispose()


def _module_with_a_view(tmp_name: str, guarded: bool, public: bool):
    """A throw-away module with one view, as a site's own module would add one."""
    import sys
    import types

    from flask import Blueprint

    from shopfloor.auth.permissions import requires
    from shopfloor.registry import Module

    bp = Blueprint(tmp_name, __name__, url_prefix=f"/{tmp_name}")

    def page():
        return "secret"
    bp.add_url_rule("/", "page", requires()(page) if guarded else page)
    module = types.ModuleType(tmp_name)
    module.registration = Module(name=tmp_name, label=tmp_name, blueprints=[bp],
                                 public_endpoints=(f"{tmp_name}.page",) if public else ())
    sys.modules[tmp_name] = module
    return tmp_name


@pytest.mark.parametrize(("guarded", "public", "refusal"), [
    (False, False, "neither @requires"),
    (True, True, "both @requires and public_endpoints"),
])
def test_an_app_refuses_a_view_that_does_not_say_who_may_open_it(app_config, guarded, public, refusal):
    name = _module_with_a_view(f"site_extra_{guarded}_{public}", guarded, public)
    with pytest.raises(RuntimeError, match=f"view {name}.page: {refusal}"):
        create_app({**app_config, "MODULES": [*DEFAULT_MODULES, name]})


@pytest.mark.parametrize(("guarded", "public", "status"), [(True, False, 302), (False, True, 200)])
def test_a_declared_view_is_served_as_declared(app_config, guarded, public, status):
    name = _module_with_a_view(f"site_ok_{guarded}_{public}", guarded, public)
    app = create_app({**app_config, "MODULES": [*DEFAULT_MODULES, name]})
    assert app.test_client().get(f"/{name}/").status_code == status   # 302: to the login page
    app.extensions["shopfloor_sessions"].engine.dispose()
