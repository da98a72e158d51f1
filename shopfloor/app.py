"""The application factory: configuration, database, extensions, modules, error handling."""
from __future__ import annotations

import logging
from types import SimpleNamespace

from flask import Flask, g, jsonify, render_template, request
from flask_babel import Babel
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, StatementError
from werkzeug.exceptions import HTTPException

from shopfloor import guards, sanitize
from shopfloor import config as config_module
from shopfloor.auth.models import User
from shopfloor.auth.permissions import is_api_request
from shopfloor.db import Sessions, close_session, make_engine, session
from shopfloor.errors import DomainError
from shopfloor.i18n import compile_translations, select_locale
from shopfloor.registry import Registry

log = logging.getLogger(__name__)
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
OUT_OF_RANGE = "Une valeur envoyée dépasse ce que l'enregistrement peut contenir ; rien n'a été enregistré."
csrf = CSRFProtect()


def create_app(config: dict | None = None) -> Flask:
    settings = config_module.load(config)
    app = Flask(__name__, instance_path=settings["INSTANCE_PATH"], instance_relative_config=False)
    app.config.update(settings)
    app.config["MAX_CONTENT_LENGTH"] = settings["UPLOAD_MAX_BYTES"] + 1024 * 1024
    sanitize.init_app(app)  # <int:…> ids within the id columns, no NUL or lone surrogate in any input


    app.config["BABEL_TRANSLATION_DIRECTORIES"] = compile_translations(app.instance_path)
    Babel(app, locale_selector=select_locale, timezone_selector=lambda: "Europe/Paris")
    csrf.init_app(app)
    _init_login(app)

    registry = Registry(app=app)
    app.extensions["shopfloor_registry"] = registry
    from shopfloor.core_module import core_module
    registry.add(core_module)
    for name in app.config["MODULES"]:
        registry.add(config_module.module_registration(name))
    attach_database(app, app.config["DATABASE_URL"])
    app.teardown_appcontext(close_session)
    for module in registry.modules:
        if module.template_globals:
            app.jinja_env.globals[module.name] = SimpleNamespace(**module.template_globals)
        for blueprint in module.blueprints:
            app.register_blueprint(blueprint)
            if blueprint.url_prefix and blueprint.url_prefix.startswith("/api/"):
                csrf.exempt(blueprint)

    _refuse_unguarded_views(app, registry)
    _init_requests(app)
    _init_errors(app)
    from shopfloor.web import init_templates
    init_templates(app)
    return app


def attach_database(app: Flask, url: str) -> None:
    """The app's sessions on the database at `url`, with the guards every flush goes through."""
    sessions = Sessions(make_engine(url), app.extensions["shopfloor_registry"])
    guards.install(sessions)  # every flush: bounds, cancellation, freeze
    app.extensions["shopfloor_sessions"] = sessions


def _refuse_unguarded_views(app: Flask, registry: Registry) -> None:
    """Every view says who may open it: `@requires(...)`, or its module lists it in
    `public_endpoints`. A view that does neither would be open to anyone by omission."""
    public = {endpoint for module in registry.modules for endpoint in module.public_endpoints}
    for endpoint, view in app.view_functions.items():
        guarded = hasattr(view, "required_roles")
        if endpoint == "static" or endpoint.endswith(".static"):
            continue
        if guarded == (endpoint in public):
            raise RuntimeError(f"view {endpoint}: " + ("both @requires and public_endpoints" if guarded else
                               "neither @requires(...) nor listed in its module's public_endpoints"))


def _init_login(app: Flask) -> None:
    login = LoginManager(app)
    login.login_view = "auth.login"
    login.login_message = None

    @login.user_loader
    def load_user(user_id: str) -> User | None:
        """The cookie names the user and the session version it was issued for: a logout, a
        password change or reset, or a deactivation bumps the version and ends that session."""
        ident, _, version = (user_id or "").partition(":")
        if not ident.isdigit() or not version.isdigit():
            return None
        user = session().get(User, int(ident))
        if user is None or not user.active or user.session_version != int(version):
            return None
        return user


def _init_requests(app: Flask) -> None:
    from shopfloor.api import load_api_user
    from shopfloor.security import init_security_headers
    init_security_headers(app)

    @app.before_request
    def _authenticate_api():
        if is_api_request():
            load_api_user()

    @app.after_request
    def _commit(response):
        """One user action, one transaction: commit a successful write, else roll back."""
        db = g.get("db_session")
        if db is None:
            return response
        if request.method in WRITE_METHODS and response.status_code < 400:
            try:
                db.commit()
            except IntegrityError:
                db.rollback()
                return _error_response(409, "conflict", "L'enregistrement entre en conflit avec des données existantes.")
            except DomainError as exc:  # the bounds check of the final flush
                db.rollback()
                return _error_response(exc.status, exc.code, exc.message, exc.field)
            except (DataError, OverflowError):
                db.rollback()
                return _error_response(422, "invalid", OUT_OF_RANGE)
        else:
            db.rollback()
        return response


def _error_response(status: int, code: str, message: str, field: str | None = None):
    if is_api_request():
        return jsonify({"error": {"code": code, "message": message, "field": field}}), status
    return render_template("error.html", status=status, message=message, field=field), status


def _init_errors(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        if "db_session" in g:
            g.db_session.rollback()
        return _error_response(exc.status, exc.code, exc.message, exc.field)

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        return _error_response(400, "csrf", "Le formulaire a expiré ; rechargez la page et recommencez.", "csrf_token")

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        messages = {404: "Page ou ressource introuvable.", 405: "Méthode non permise.",
                    413: "Fichier trop volumineux.", 400: "Requête invalide."}
        return _error_response(exc.code or 500, exc.name.lower().replace(" ", "_"),
                               messages.get(exc.code, exc.description or exc.name))

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    @app.errorhandler(UnicodeEncodeError)
    def _out_of_range(exc: Exception):
        """A value the database cannot hold that the bounds check did not name: still a 4xx."""
        log.warning("value out of range on %s %s: %s", request.method, request.path, exc)
        if "db_session" in g:
            g.db_session.rollback()
        return _error_response(422, "invalid", OUT_OF_RANGE)

    @app.errorhandler(StatementError)
    def _statement_error(exc: StatementError):
        if isinstance(exc.orig, (OverflowError, UnicodeError)):  # raised while binding a parameter
            return _out_of_range(exc)
        return _unexpected(exc)

    @app.errorhandler(OperationalError)
    def _db_busy(exc: OperationalError):
        log.exception("database error")
        if "db_session" in g:
            g.db_session.rollback()
        return _error_response(503, "unavailable", "La base de données est occupée ; réessayez dans un instant.")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        if "db_session" in g:
            g.db_session.rollback()
        return _error_response(500, "internal", "Erreur interne : l'action n'a pas été enregistrée.")

    @app.context_processor
    def _actor():
        return {"actor": current_user if current_user.is_authenticated else None}
