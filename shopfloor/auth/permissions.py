"""Who is acting, and the one decorator that enforces roles on every view and endpoint."""
from __future__ import annotations

from functools import wraps

from flask import g, redirect, request, url_for
from flask_login import current_user

from shopfloor.auth.models import User
from shopfloor.errors import Forbidden, Unauthorized


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def current_actor() -> User | None:
    """The API token's user on /api/ paths (never the session cookie), else the logged-in user."""
    if is_api_request():
        return g.get("api_user")
    return current_user._get_current_object() if current_user.is_authenticated else None


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
