"""Core pages: home per role, health check, the referential browser, served assets."""
from __future__ import annotations

from importlib import resources

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template
from flask_babel import format_date, format_datetime, get_locale
from sqlalchemy import text

from shopfloor.api import core_api, doc, openapi_document
from shopfloor.auth import services as users
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.db import session
from shopfloor.evidence import queries
from shopfloor.referential import services as referential

bp = Blueprint("web", __name__)


@bp.get("/healthz")
def healthz():
    session().execute(text("SELECT 1"))
    return jsonify({"status": "ok"})


@bp.get("/")
@requires()
def home():
    db = session()
    user = current_actor()
    if user.role == "apprentice":
        return render_template("home/apprentice.html", activities=queries.recent_activities(db, user, 8),
                               coverage=queries.coverage(db, user))
    if user.role == "tutor":
        return render_template("home/tutor.html", apprentices=queries.apprentice_overview(db, user),
                               queue_count=queries.review_queue_count(db, user))
    return render_template("home/admin.html", users=users.list_users(db))


@bp.get("/referential")
@requires()
def referential_index():
    return render_template("referential/index.html", certifications=referential.certifications(session()))


@bp.get("/referential/<code>")
@requires()
def referential_certification(code: str):
    cert = referential.certification(session(), code)
    return render_template("referential/certification.html", cert=cert)


@bp.get("/referential/competence/<code>")
@requires()
def referential_competence(code: str):
    comp = referential.competence(session(), code)
    return render_template("referential/competence.html", comp=comp)


@bp.get("/assets/plotly.min.js")
def plotly_js():
    """plotly.js from the installed plotly package: no CDN, works offline."""
    source = resources.files("plotly") / "package_data" / "plotly.min.js"
    response = Response(source.read_bytes(), mimetype="application/javascript")
    response.cache_control.public, response.cache_control.max_age = True, 7 * 86400
    return response


@core_api.get("/competences")
@requires()
@doc("The CQPM referential: certifications, blocks, competences with criteria and expected results",
     response={"type": "object", "properties": {"certifications": {"type": "array"}}})
def api_competences():
    return jsonify(referential.referential_as_dict(session()))


@bp.get("/api/openapi.json")
def openapi():
    return jsonify(openapi_document())


def init_templates(app: Flask) -> None:
    app.jinja_env.filters["dt"] = lambda value, fmt="dd/MM/y HH:mm": format_datetime(value, fmt) if value else "—"
    app.jinja_env.filters["d"] = lambda value, fmt="medium": format_date(value, fmt) if value else "—"
    app.jinja_env.globals["get_locale"] = get_locale

    @app.context_processor
    def _navigation():
        actor = current_actor()
        items = []
        if actor is not None:
            for module in current_app.extensions["shopfloor_registry"].modules:
                items += [(label, endpoint) for label, endpoint, roles in module.nav if actor.role in roles]
        return {"nav_items": items}
