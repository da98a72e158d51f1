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

from shopfloor import bounds
from shopfloor.db import Sessions
from shopfloor.evidence import cancellation, freeze


def install(sessions: Sessions) -> None:
    for factory in (sessions.reader, sessions.writer):
        bounds.install(factory)           # the order they ran in when they listened on Session
        cancellation.install(factory)
        freeze.install(factory)
