"""The write guards of the app's sessions, installed by create_app on its session factories.

Every session the app opens (requests, jobs, the CLI, the tests' sessions: all come from
`shopfloor.db.Sessions.reader` / `.writer`) checks each flush:
- shopfloor.bounds: every value fits its column;
- shopfloor.evidence.cancellation: nothing changes a cancelled activity or a row it owns;
- shopfloor.evidence.freeze: nothing changes a frozen activity or a row it owns (and ORM bulk
  UPDATE/DELETE on those tables must exclude frozen rows).

Nothing listens on the global Session class: a session made outside an app has no guard, and
importing these modules registers nothing. `shopfloor.db.side_transaction` opens a plain
Session on purpose: it writes audit lines, login failure counts and a token's last use, never an
activity or a row an activity owns, and its values are bounded where they are built (usernames
and addresses cut to their columns)."""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from shopfloor import bounds
from shopfloor.db import Sessions
from shopfloor.evidence import cancellation, freeze


def _refuse_changes_to_cancelled_or_frozen(db: Session, _context, _instances) -> None:
    """One walk of the flush's rows to the activities they change, read by both guards."""
    touched = freeze.activities_touched(db)
    if touched:
        cancellation.refuse_cancelled(db, touched)
        freeze.refuse_frozen(db, touched)


def install(sessions: Sessions) -> None:
    """Once per new Sessions, whose factories have no listener yet. (No `event.contains` check:
    SQLAlchemy keys it by id(), which a new factory may reuse from a collected one.)"""
    for factory in (sessions.reader, sessions.writer):
        bounds.install(factory)           # first: a value that does not fit is refused before any lock
        event.listen(factory, "before_flush", _refuse_changes_to_cancelled_or_frozen)
        freeze.install(factory)           # bulk UPDATE/DELETE
