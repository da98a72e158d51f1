"""What every stock page shares: the one page blueprint, the roles, paging."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, request

from shopfloor import validation as v
from shopfloor.auth.models import User
from shopfloor.errors import DomainError, NotFound

bp = Blueprint("stock", __name__, url_prefix="/stock", template_folder=str(Path(__file__).parent.parent / "templates"))
PAGE = 50
EVERYONE = ALL = ("admin", "tutor", "apprentice")


def page_number() -> int:
    return v.page_number(request.args)


def _fail(db, exc: DomainError):
    db.rollback()
    return exc


def _visible_authors(query, model, actor: User):
    if actor.role == "apprentice":
        return query.where(model.author_id == actor.id)
    if actor.role == "tutor":
        return query.join(User, User.id == model.author_id).where(User.tutor_id == actor.id)
    return query


def _missing(what: str, ident):
    raise NotFound(f"{what} {ident} introuvable.", "id")
