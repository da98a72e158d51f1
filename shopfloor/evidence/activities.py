"""The one constructor of a new activity, whatever its module."""
from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from shopfloor.auth.models import User
from shopfloor.evidence.models import Activity

A = TypeVar("A", bound=Activity)


def new_activity(cls: type[A], actor: User, now: datetime, *, performed_at: datetime | None = None,
                 site_id: int | None = None, team_id: int | None = None, **fields) -> A:
    """A new activity of kind `cls`, not yet added to the session: written by `actor`, performed
    at `performed_at` (default `now`), on the actor's site and team unless others are given.

    The competences it evidences by default are those of its ActivityType (shopfloor.registry):
    they are proposed when the author links the activity, never linked without them."""
    return cls(author=actor, performed_at=performed_at or now,
               site_id=site_id if site_id is not None else actor.site_id,
               team_id=team_id if team_id is not None else actor.team_id, **fields)
