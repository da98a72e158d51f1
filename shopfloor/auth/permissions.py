"""Who is acting, and the one decorator that enforces roles on every view and endpoint."""
from __future__ import annotations

from functools import wraps

from flask import g, has_app_context, has_request_context, redirect, request, url_for
from flask_login import current_user

from shopfloor.auth.models import User
from shopfloor.errors import Forbidden, Unauthorized


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def current_actor() -> User | None:
    """The one way to know who acts: the API token's user on /api/ paths (never the session
    cookie), the logged-in user on pages, the user a CLI command acts as (`act_as`)."""
    if not has_request_context():
        return g.get("cli_actor") if has_app_context() else None
    if is_api_request():
        return g.get("api_user")
    return current_user._get_current_object() if current_user.is_authenticated else None


def act_as(user: User) -> None:
    """A CLI command (`--as USERNAME`) acts as this user for the rest of its app context."""
    g.cli_actor = user


def requires(*roles: str):
    """Refuse the view unless someone is logged in, with one of `roles` when roles are given."""
    def decorator(view):
        view.required_roles = roles or ("admin", "tutor", "apprentice")

        @wraps(view)
        def wrapped(*args, **kwargs):
            actor = current_actor()
            if actor is None:
                if is_api_request():
                    raise Unauthorized("Jeton d'API absent ou invalide (Authorization: Bearer <jeton>).")
                return redirect(url_for("auth.login", next=request.full_path))
            if roles and actor.role not in roles:
                raise Forbidden("Votre rôle ne permet pas cette action.")
            return view(*args, **kwargs)
        return wrapped
    return decorator
