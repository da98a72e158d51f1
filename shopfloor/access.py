"""Who may see a record: one rule per record kind, one SQL condition, one way to say 404.

A record kind declares its rule once, on the model, as `__access__ = Visibility(...)` (activities
inherit the rule of `Activity`: the author, the author's tutor, admins). Both `visible` (one
record) and `visible_filter` (lists) come from that rule, so a page, the API and a list can
never disagree. A record someone may not see answers exactly like a missing one (404): its
id is not confirmed."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import false, or_, select, true
from sqlalchemy.orm import Session

from shopfloor.auth.models import User
from shopfloor.errors import NotFound

Expression = Callable[[type], Any]   # model class → SQL column or expression


def _column(model: type, spec: str | Expression | None):
    if spec is None:
        return None
    return getattr(model, spec) if isinstance(spec, str) else spec(model)


@dataclass(frozen=True)
class Visibility:
    """Who sees the records of one kind.

    - `owner`: the person whose work it is (a column name, or a function of the model giving an
      SQL expression, e.g. the author of the activity a row belongs to). The owner, the owner's
      tutor and admins see it. None: nobody owns it, so `everyone` must say who sees it.
    - `site`: tutors of that site see it too (a column or expression naming the site).
    - `team`: members of that team see it too.
    - `unowned_visible`: a row whose owner is NULL is seen by everyone logged in (a work order
      nobody has taken yet is the queue apprentices pick from).
    - `everyone`: shared records (master data, boards' public data): every logged-in user.
    - `extra`: a function (model, actor) → SQL condition for who else sees a row when the options
      above cannot say it (a meeting is seen by the people of its board, reached through the board).
    - `label`: how a message names one record (« Ordre de travail »)."""

    owner: str | Expression | None = "author_id"
    site: str | Expression | None = None
    team: str | Expression | None = None
    unowned_visible: bool = False
    everyone: bool = False
    extra: Callable[[type, User], Any] | None = None
    label: str = "Enregistrement"

    def condition(self, model: type, actor: User):
        if self.everyone or actor.role == "admin":
            return true()
        owner = _column(model, self.owner)
        allowed = []
        if owner is not None:
            allowed.append(owner == actor.id)
            if actor.role == "tutor":
                allowed.append(owner.in_(select(User.id).where(User.tutor_id == actor.id)))
            if self.unowned_visible:
                allowed.append(owner.is_(None))
        site = _column(model, self.site)
        if site is not None and actor.role == "tutor" and actor.site_id is not None:
            allowed.append(site == actor.site_id)
        team = _column(model, self.team)
        if team is not None and actor.team_id is not None:
            allowed.append(team == actor.team_id)
        if self.extra is not None:
            allowed.append(self.extra(model, actor))
        return or_(*allowed) if allowed else false()


def rule(model: type) -> Visibility:
    found = getattr(model, "__access__", None)
    if not isinstance(found, Visibility):
        raise TypeError(f"{model.__name__} declares no __access__ rule")
    return found


def visible_filter(model: type, actor: User):
    """SQL condition: the rows of `model` that `actor` may see (for lists and counts)."""
    return rule(model).condition(model, actor)


def not_found(model: type, ident, field: str = "id", label: str | None = None) -> NotFound:
    """The one 404 of a record: « Ordre de travail n° 12 introuvable. », naming the field."""
    name = label or getattr(getattr(model, "__access__", None), "label", None) or "Enregistrement"
    return NotFound(f"{name} n° {ident} introuvable.", field)


def get(db: Session, model: type, ident, field: str = "id", label: str | None = None, options=()):
    """The record with this id, or a 404 naming the field (for records everyone may see)."""
    row = db.get(model, ident, options=list(options)) if ident is not None else None
    if row is None:
        raise not_found(model, ident, field, label)
    return row


def visible(db: Session, model: type, actor: User, ident, field: str = "id", label: str | None = None,
            options=()):
    """The record if `actor` may see it, else the same 404 as a missing one."""
    if ident is None:
        raise not_found(model, ident, field, label)
    query = select(model).where(model.id == ident, visible_filter(model, actor)).options(*options)
    row = db.scalars(query).first()
    if row is None:
        raise not_found(model, ident, field, label)
    return row


def can_see(db: Session, model: type, actor: User, ident) -> bool:
    """Whether `visible` would answer the record (to show or hide a link)."""
    query = select(model.id).where(model.id == ident, visible_filter(model, actor))
    return db.scalar(query) is not None
