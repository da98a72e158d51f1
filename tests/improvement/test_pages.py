"""The pages with the demo data: every view renders, forms re-render their errors, and who sees what."""
import pytest
from sqlalchemy import select

from modules.improvement.models import Action, ActionPlan, DecisionStudy, ProblemSheet, Standard
from shopfloor.demo import load_demo
from shopfloor.notifications.models import Notification
from modules.improvement.demo import QRQC_TITLE
from tests.conftest import NOW, DatabaseTemplate, filled_with_app, fresh, login

EIGHT_D = "8D – fuites d'étanchéité sur joints fournisseur Hydrauliq SA"


def _load_demo_twice(app, db):
    load_demo(app, db, NOW)
    load_demo(app, db, NOW)   # a second run adds nothing


DATABASE_TEMPLATE = DatabaseTemplate("improvement_demo", lambda url: filled_with_app(url, _load_demo_twice))


@pytest.fixture
def demo(app, db):
    """The demo, loaded twice into this module's template (once per process and backend)."""
    return db


def test_demo_content(demo):
    sheets = list(demo.scalars(select(ProblemSheet).where(ProblemSheet.title.in_((QRQC_TITLE, EIGHT_D)))
                               .order_by(ProblemSheet.id)))
    assert [s.method for s in sheets] == ["QRQC", "8D"]   # and only once, though the demo ran twice
    assert all(s.causes and s.whys for s in sheets)
    today = NOW.date()
    late = [a for a in demo.scalars(select(Action)) if a.is_late(today)]
    assert len(late) >= 3 and {a.owner.username for a in late} >= {"ines", "emma"}
    assert demo.scalar(select(Notification).where(Notification.key.like("improvement.action_late.%")))


def test_pages_render_for_the_author(client, demo):
    login(client, "ines", "demo-apprenti")
    sheet = demo.scalar(select(ProblemSheet).where(ProblemSheet.title == QRQC_TITLE))
    plan = demo.scalar(select(ActionPlan))
    study = demo.scalar(select(DecisionStudy))
    standard = demo.scalar(select(Standard))
    action = demo.scalar(select(Action).where(Action.origin_id == sheet.id))
    for url in ("/improvement/", "/improvement/actions", "/improvement/actions?status=late&scope=visible",
                "/improvement/actions/new", f"/improvement/actions/{action.id}", "/improvement/plans",
                f"/improvement/plans/{plan.id}", "/improvement/problems", f"/improvement/problems/{sheet.id}",
                f"/improvement/problems/{sheet.id}/a3", "/improvement/decisions", f"/improvement/decisions/{study.id}",
                "/improvement/standards", f"/improvement/standards/{standard.id}",
                f"/improvement/standards/{standard.id}/print", "/improvement/ideas", "/notifications",
                "/improvement/pareto?source=improvement.causes_by_family&start=2026-01-01&end=2026-11-20"):
        response = client.get(url)
        assert response.status_code == 200, url
    a3 = client.get(f"/improvement/problems/{sheet.id}/a3").get_data(as_text=True)
    assert "<svg" in a3 and "Main-d&#39;œuvre" in a3 and "Guide du convoyeur usé" in a3 and "a3-pareto" in a3
    gantt = client.get(f"/improvement/plans/{plan.id}").get_data(as_text=True)
    assert 'id="gantt"' in gantt and "plotly.min.js" in gantt
    assert 'class="count"' in client.get("/improvement/").get_data(as_text=True)  # the demo has late actions


def test_pareto_to_a_new_sheet(client, demo):
    login(client, "ines", "demo-apprenti")
    page = client.get("/improvement/pareto?mode=manual&label=Arrêts&values=Bourrage%3B14%0ACapteur%3B6").get_data(as_text=True)
    assert "Ouvrir une fiche problème" in page and "Bourrage" in page and "Capteur" in page
    form = client.get('/improvement/problems/new?pareto={"label":"Arrêts","items":[["Bourrage",14],["Capteur",6]]}')
    assert form.status_code == 200 and "Analyse : Arrêts" in form.get_data(as_text=True)
    created = client.post("/improvement/problems/new", data={
        "title": "Arrêts ligne 2", "method": "A3", "pareto": '{"label":"Arrêts","items":[["Bourrage",14],["Capteur",6]]}'})
    assert created.status_code == 302
    fresh(demo)
    sheet = demo.scalar(select(ProblemSheet).where(ProblemSheet.title == "Arrêts ligne 2"))
    assert sheet.pareto["items"] == [["Bourrage", 14.0], ["Capteur", 6.0]]


def test_forms_rerender_errors_without_writing(client, demo):
    login(client, "ines", "demo-apprenti")
    sheet = demo.scalar(select(ProblemSheet).where(ProblemSheet.title == QRQC_TITLE))
    r = client.post(f"/improvement/problems/{sheet.id}/causes", data={"category": "matiere", "text": ""})
    assert r.status_code == 422 and "text" in r.get_data(as_text=True)
    r = client.post(f"/improvement/problems/{sheet.id}/close")
    assert r.status_code == 409 and "Clôture impossible" in r.get_data(as_text=True)
    r = client.post("/improvement/actions/new", data={"title": "x", "deliverable": "y", "owner": "ines", "due": "2020-01-01"})
    assert r.status_code == 422
    r = client.post("/improvement/decisions/new", data={"title": "t", "c0_name": "Coût", "c0_weight": "-1",
                                                        "o0_name": "A", "o0_s0": "1", "o1_name": "B", "o1_s0": "2"})
    assert r.status_code == 422
    fresh(demo)
    assert demo.scalar(select(DecisionStudy).where(DecisionStudy.title == "t")) is None


def test_others_cannot_see_or_change(client, demo):
    sheet = demo.scalar(select(ProblemSheet).where(ProblemSheet.title == QRQC_TITLE))
    standard = demo.scalar(select(Standard))
    login(client, "nathan", "demo-apprenti")            # another team, another apprentice
    assert client.get(f"/improvement/problems/{sheet.id}").status_code == 404   # like a missing one, not 403
    assert client.post(f"/improvement/problems/{sheet.id}/causes", data={"category": "matiere", "text": "x"}).status_code == 404
    assert client.post(f"/improvement/standards/{standard.id}/validate").status_code == 403
    login(client, "tuteur", "demo-formation")               # the tutor of the author sees it
    assert client.get(f"/improvement/problems/{sheet.id}").status_code == 200
