"""KPIs on a hand-computed history: MTBF, MTTR, availability, preventive compliance; Pareto; indicators."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from modules.maintenance import indicators
from modules.maintenance.models import WorkOrder
from shopfloor.clock import PARIS

H = timedelta(hours=1)
START = datetime(2026, 11, 1, 0, 0, tzinfo=PARIS).astimezone(timezone.utc)   # period: 10 Paris days = 240 h
END = START + timedelta(days=10)


@pytest.fixture
def history(db, shop):
    eq = shop.lathe

    def add(**fields):
        db.add(WorkOrder(equipment_id=eq.id, title="historique", **fields))

    add(kind="curative", status="closed", downtime_start=START + 24 * H, downtime_end=START + 28 * H,
        diagnosis={"failure_cause": "LUB"})                                     # 4 h
    add(kind="palliative", status="closed", downtime_start=START + 100 * H, downtime_end=START + 106 * H,
        diagnosis={"failure_cause": "LUB"})                                     # 6 h
    add(kind="curative", status="closed", downtime_start=START - 2 * H, downtime_end=START + 2 * H,
        diagnosis={"failure_cause": "MON"})                                     # 2 h inside the period
    add(kind="curative", status="requested", symptom="Bruit", requested_at=START + 50 * H)   # did not stop it
    add(kind="preventive", status="closed", due=START + 48 * H, finished_at=START + 50 * H)  # on time (same day)
    add(kind="preventive", status="done", due=START + 72 * H, finished_at=START + 120 * H)   # late
    add(kind="curative", status="closed", downtime_start=END + H, downtime_end=END + 3 * H)  # after the period
    db.commit()
    return eq


def test_kpis_on_a_hand_computed_history(client, people, history):
    response = client.get("/api/v1/maintenance/kpis?equipment=TOUR-01&from=2026-11-01&to=2026-11-10",
                          headers=people.headers(people.apprentice))
    kpis = response.json
    period = 240.0
    downtime = 4 + 6 + 2
    assert kpis["failures"] == 3
    assert kpis["downtime_hours"] == pytest.approx(downtime)
    assert kpis["mtbf_hours"] == pytest.approx((period - downtime) / 3)     # 76 h
    assert kpis["mttr_hours"] == pytest.approx(downtime / 3)                # 4 h
    assert kpis["availability"] == pytest.approx(100 * (period - downtime) / period, abs=1e-3)   # 95 %
    assert kpis["pm_compliance"] == pytest.approx(50.0) and kpis["pm_due"] == 2
    assert kpis["backlog"] == 1


def test_kpis_reject_a_reversed_period(client, people, history):
    response = client.get("/api/v1/maintenance/kpis?from=2026-11-10&to=2026-11-01",
                          headers=people.headers(people.apprentice))
    assert response.status_code == 422 and response.json["error"]["field"] == "to"
    assert client.get("/api/v1/maintenance/kpis?from=hier", headers=people.headers(people.tutor)).status_code == 422


def test_pareto_sources_and_indicators(db, history):
    from shopfloor.origins import pareto_sources
    by_cause = pareto_sources(db)["maintenance_failures_by_cause"].compute(db, date(2026, 11, 1), date(2026, 11, 10), None)
    assert by_cause == [("Défaut de lubrification", 2)]  # the one starting before the period is not counted
    by_eq = pareto_sources(db)["maintenance_failures_by_equipment"].compute(db, date(2026, 11, 1), date(2026, 11, 10), None)
    assert by_eq == [("TOUR-01 Tour conventionnel", 2)]
    assert indicators.open_breakdowns(db, date(2026, 11, 5), None) == 1.0
    day = (START + 100 * H).astimezone(PARIS).date()    # 6 h of downtime that Paris day
    assert indicators.availability(db, day, None) == pytest.approx(round(100 * 18 / 24, 1))


def test_kpi_page_renders(client, history):
    from tests.conftest import login
    login(client, "appr", "clef-atelier-2026")
    page = client.get("/maintenance/kpis?equipment=TOUR-01&from=2026-11-01&to=2026-11-10")
    assert page.status_code == 200 and "95.0 %" in page.text and "pareto-cause" in page.text
    bad = client.get("/maintenance/kpis?equipment=NOPE")
    assert bad.status_code == 404
