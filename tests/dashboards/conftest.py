"""Arrangements shared by the AIC board tests: a site with two teams, the apprentice in Logistique."""
from __future__ import annotations

from datetime import date

import pytest

from dashboards import inputs, services
from shopfloor.auth.models import Site, Team

TODAY = date(2026, 11, 20)   # the Paris day of tests.conftest.NOW


class Org:
    def __init__(self, db, people):
        self.db = db
        self.site = Site(name="Usine test")
        self.logistics = Team(site=self.site, name="Logistique")
        self.maintenance = Team(site=self.site, name="Maintenance")
        db.add_all([self.site, self.logistics, self.maintenance])
        db.flush()
        people.apprentice.team, people.apprentice.site = self.logistics, self.site
        people.other_apprentice.team, people.other_apprentice.site = self.maintenance, self.site
        db.commit()

    def board(self, actor, name="Logistique AIC", level=1, team="Logistique", rows=None, parent_id=None):
        rows = rows or [{"letter": "S", "indicator": "aic.safety", "target": 0, "threshold": 1},
                        {"letter": "M", "indicator": "aic.mood", "target": 4, "threshold": 3}]
        spec = inputs.new_board({"name": name, "level": level, "team": team, "rows": rows, "parent": parent_id})
        board = services.create_board(self.db, actor, spec, TODAY)
        self.db.commit()
        return board


@pytest.fixture
def org(db, people) -> Org:
    return Org(db, people)


@pytest.fixture(autouse=True)
def _boards_at_now(frozen_clock):
    """The boards' pages and API read the clock: frozen at tests.conftest.NOW (TODAY in Paris)."""
