"""Every session factory an app builds gets the flush guards, however many apps the process built before.

SQLAlchemy's `event.contains` keys its registry by the target's id(): once an earlier factory is
collected, a new one may reuse its id and look as if it were already guarded. The guards were then
silently left out of that app's sessions (seen with one app per test process, each test binding it
to its own database)."""
import gc

import pytest

from shopfloor import guards
from shopfloor.db import Sessions
from shopfloor.errors import DomainError
from shopfloor.evidence.models import Activity


def test_every_new_session_factory_refuses_a_value_its_column_cannot_hold(app, people, now):
    engine, registry = app.extensions["shopfloor_sessions"].engine, app.extensions["shopfloor_registry"]
    for attempt in range(20):
        sessions = Sessions(engine, registry)
        guards.install(sessions)
        for factory in (sessions.reader, sessions.writer):
            with factory() as db:
                db.add(Activity(title="x" * 201, author_id=people.apprentice.id, performed_at=now, created_at=now))
                with pytest.raises(DomainError):
                    db.flush()
        del sessions, factory, db
        gc.collect(0)   # frees the factories (young objects), so the next ones may be given their ids
