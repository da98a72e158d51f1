"""The evidence page of a module's record links back to the record (issue 18, small things), for whoever may
open it; a plain activity has no such link."""
from tests.conftest import fresh, login


def test_the_evidence_page_of_a_reception_links_back_to_it(client, db, people, store):
    reception = store.receive("VIS-M8", 50, location="B-02-01-1")
    db.commit()
    login(client, "appr", "clef-atelier-2026")
    page = client.get(f"/activities/{reception.id}").get_data(as_text=True)
    assert 'id="source-record"' in page and f'href="/stock/receptions/{reception.id}"' in page
    login(client, "tutor", "clef-formateur-2026")   # the apprentice's tutor reviews it: the same link
    assert f'href="/stock/receptions/{reception.id}"' in client.get(f"/activities/{reception.id}").get_data(as_text=True)


def test_a_plain_activity_has_no_source_link(client, db, people, now):
    login(client, "appr", "clef-atelier-2026")
    answer = client.post("/activities/new", data={"title": "Lecture du plan", "performed_at": "2026-11-19T10:00"})
    assert answer.status_code == 302
    fresh(db)
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Lecture du plan" in page and 'id="source-record"' not in page
