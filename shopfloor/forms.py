"""The one shape of an HTML form handler.

load → authorise → parse → call the service → redirect; on a domain error, roll back the
request's transaction and re-render the same page with the error and its status (never a
redirect with a 4xx: browsers do not follow it). Raw input is parsed in handlers (with
shopfloor.validation); services take typed values."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import g

from shopfloor.errors import DomainError


def rollback() -> None:
    """Undo what the request wrote so far (the page re-rendered after an error reads clean state)."""
    db = g.get("db_session")
    if db is not None:
        db.rollback()


def form_handler(render: Callable[..., str]):
    """Decorate a POST view: a DomainError it raises re-renders the page.

    `render(error=…, **view_kwargs)` gives the page's HTML, typically the function the GET view
    uses; the template shows `error` (its message and field) and the posted `request.form`.
    The response carries the error's status (422, 404, 409…)."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except DomainError as error:
                rollback()
                return render(*args, error=error, **kwargs), error.status
        return wrapped
    return decorator


def on_error(render: Callable[[DomainError], str], action: Callable[[], object]):
    """The same shape inline, when the page to re-render depends on what the handler loaded."""
    try:
        return action()
    except DomainError as error:
        rollback()
        return render(error), error.status
