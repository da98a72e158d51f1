"""The QSE pages: the registers (registers.py) and the steering of the management system (steering.py)."""
from __future__ import annotations

from flask import flash, redirect, url_for

from shopfloor.auth.services import list_users
from shopfloor.errors import DomainError


def active_people(db) -> list:
    """Who can be named as a pilot, an owner or a responsible."""
    return [u for u in list_users(db) if u.active]


def or_back_to(endpoint: str, page):
    """A list whose filters do not parse flashes the error and goes back to the unfiltered list."""
    try:
        return page()
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for(endpoint))
