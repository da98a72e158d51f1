"""Who may see a record: one rule per record kind, one SQL condition, one way to say 404.

A record kind declares its rule once, on the model, as `__access__ = Visibility(...)` (activities
inherit the rule of `Activity`: the author, the author's tutor, admins). Both `visible` (one
record) and `visible_filter` (lists) come from that rule, so a page, the API and a list can
never disagree. A record someone may not see answers exactly like a missing one (404): its
id is not confirmed."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.orm import Session

from shopfloor.auth.models import User
from shopfloor.errors import NotFound

Expression = Callable[[type], Any]   # model class → SQL column or expression


def _columns(model: type, spec) -> list:
    """The SQL columns or expressions a rule names: one spec, or a tuple of them."""
    if spec is None:
        return []
    if isinstance(spec, tuple):
        return [c for one in spec for c in _columns(model, one)]
    return [getattr(model, spec) if isinstance(spec, str) else spec(model)]


@dataclass(frozen=True)
class Visibility:
    """Who sees the records of one kind.

    - `owner`: the person whose work it is (a column name, or a function of the model giving an
      SQL expression, e.g. the author of the activity a row belongs to), or a tuple of them (an
      action's owner and its creator). Each owner, their tutor and admins see it. None: nobody
      owns it, so `everyone` must say who sees it.
    - `site`: tutors of that site see it too (a column or expression, or a tuple of them: a work
      order belongs to its equipment's site and to its intervention's).
    - `team`: members of that team see it too.
    - `unowned_visible`: a row with no owner (every owner NULL) is seen by everyone logged in (a
      work order nobody has taken yet is the queue apprentices pick from).
    - `everyone`: shared records (master data, boards' public data): every logged-in user.
    - `seen_by_roles`: roles that see every record of the kind (tutors answer every idea).
    - `extra`: a function (model, actor) → SQL condition for who else sees a row when the options
      above cannot say it (a meeting is seen by the people of its board, reached through the board).
    - `label`: how a message names one record (« Ordre de travail »)."""

    owner: str | Expression | tuple | None = "author_id"
    site: str | Expression | tuple | None = None
    team: str | Expression | None = None
    unowned_visible: bool = False
    everyone: bool = False
    seen_by_roles: tuple[str, ...] = ()
    extra: Callable[[type, User], Any] | None = None
    label: str = "Enregistrement"

    def condition(self, model: type, actor: User):
        if self.everyone or actor.role == "admin" or actor.role in self.seen_by_roles:
            return true()
        owners = _columns(model, self.owner)
        allowed = []
        for owner in owners:
            allowed.append(owner == actor.id)
            if actor.role == "tutor":
                allowed.append(owner.in_(select(User.id).where(User.tutor_id == actor.id)))
        if owners and self.unowned_visible:
            allowed.append(and_(*(owner.is_(None) for owner in owners)))
        if actor.role == "tutor" and actor.site_id is not None:
            allowed += [site == actor.site_id for site in _columns(model, self.site)]
        if actor.team_id is not None:
            allowed += [team == actor.team_id for team in _columns(model, self.team)]
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


def may_open(db: Session, actor: User | None, record) -> bool:
    """Whether `actor` may open this loaded record's page: pages show a link only then."""
    if actor is None or record is None:
        return False
    return can_see(db, type(record), actor, record.id)


def can_see(db: Session, model: type, actor: User, ident) -> bool:
    """Whether `visible` would answer the record (to show or hide a link)."""
    query = select(model.id).where(model.id == ident, visible_filter(model, actor))
    return db.scalar(query) is not None
