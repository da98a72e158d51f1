"""A small workshop for the maintenance tests: one lathe to lock out, services called with a fixed clock."""
from __future__ import annotations

from datetime import timedelta

import pytest

from modules.maintenance import equipment as eq_services
from modules.maintenance import inputs
from modules.maintenance import workorders as wos
from modules.maintenance.inputs import Finish, Lockout
from modules.maintenance.models import Reading


class Workshop:
    def __init__(self, db, people, now):
        self.db, self.people, self.now = db, people, now
        self.lathe = eq_services.create_equipment(db, people.tutor, inputs.new_equipment({
            "code": "TOUR-01", "name": "Tour conventionnel", "technologies": ["mecanique", "electrique"],
            "criticality": "A", "energies": ["electrique"], "meters": ["hours"]}))
        db.commit()

    def plan(self, **data):
        plan = eq_services.create_plan(self.db, self.people.tutor,
                                       inputs.new_plan({"equipment": "TOUR-01", **data}, self.now))
        self.db.commit()
        return plan

    def reading(self, parameter, value, at):
        self.db.add(Reading(equipment_id=self.lathe.id, parameter=parameter, value=value, at=at))
        self.db.commit()

    def do(self, wo, at, report="Fait.", values=None):
        """The apprentice locks out, starts, fills the routine and finishes the WO at `at`."""
        actor = self.people.apprentice
        wos.record_lockout(self.db, actor, wo, Lockout(steps=tuple(("electrique", s, "") for s in
                                                                   ("separate", "lock", "tag", "purge", "verify"))), at)
        wos.start(self.db, actor, wo, at)
        wos.record_results(self.db, actor, wo, inputs.results(values or {str(r.position): "ok" for r in wo.results}),
                           at)
        wos.finish(self.db, actor, wo, Finish(report=report, lockout_removed=True), at + timedelta(minutes=30))
        self.db.commit()


@pytest.fixture
def shop(db, people, now):
    return Workshop(db, people, now)


@pytest.fixture
def app_context(app):
    """Services that link a record outside a request (shopfloor.urls.link: an action's origin) need
    the app, as jobs and the CLI have it; never around client calls (a request reuses the context)."""
    with app.app_context():
        yield
