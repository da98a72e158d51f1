"""The evidence workflow through the services: states, who may do what, and the freeze."""
import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from shopfloor.errors import Conflict, Forbidden, ValidationError
from shopfloor.evidence import queries, services
from shopfloor.evidence.models import Activity, Evidence, EvidenceEvent
from shopfloor.referential.models import Competence


def photo_bytes(fmt="JPEG", size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, fmt)
    return out.getvalue()


@pytest.fixture
def activity(db, people, now):
    act = services.create_activity(db, people.apprentice, title="Réception Hydrauliq",
                                   performed_at=now - timedelta(days=1), description="12 lignes", now=now)
    db.commit()
    return act


def criteria_of(db, code, n=2):
    comp = db.scalar(select(Competence).where(Competence.code == code))
    return [c.id for c in comp.criteria[:n]]


def submitted(db, people, activity, now, code="LOG-1"):
    ev = services.link_competence(db, people.apprentice, activity, code, "J'ai contrôlé les quantités.", now)
    services.submit(db, people.apprentice, ev, now)
    db.commit()
    return ev


def test_full_cycle_records_every_state_change(db, people, activity, now):
    ev = services.link_competence(db, people.apprentice, activity, "LOG-1", "", now)
    assert ev.state == "draft"
    with pytest.raises(ValidationError) as err:
        services.submit(db, people.apprentice, ev, now)
    assert err.value.field == "statement"
    services.update_statement(db, people.apprentice, ev, "J'ai contrôlé la livraison ligne à ligne.")
    services.submit(db, people.apprentice, ev, now)
    services.review(db, people.tutor, ev, "return", "Précise les écarts.", [], now + timedelta(hours=1))
    assert ev.state == "returned"
    services.update_statement(db, people.apprentice, ev, "J'ai contrôlé et noté deux écarts de quantité.")
    services.submit(db, people.apprentice, ev, now + timedelta(hours=2))
    services.review(db, people.tutor, ev, "validate", "Bien.", criteria_of(db, "LOG-1"), now + timedelta(hours=3))
    db.commit()
    events = db.scalars(select(EvidenceEvent).where(EvidenceEvent.evidence_id == ev.id).order_by(EvidenceEvent.id))
    assert [(e.from_state, e.to_state) for e in events] == [
        (None, "draft"), ("draft", "submitted"), ("submitted", "returned"), ("returned", "submitted"),
        ("submitted", "validated")]
    assert len(ev.last_review.criteria) == 2


def test_return_needs_a_comment_and_validate_needs_a_criterion(db, people, activity, now):
    ev = submitted(db, people, activity, now)
    with pytest.raises(ValidationError) as err:
        services.review(db, people.tutor, ev, "return", "  ", [], now)
    assert err.value.field == "comment"
    with pytest.raises(ValidationError) as err:
        services.review(db, people.tutor, ev, "validate", "ok", [], now)
    assert err.value.field == "criteria"
    with pytest.raises(ValidationError, match="n'appartiennent pas"):
        services.review(db, people.tutor, ev, "validate", "ok", criteria_of(db, "QSE-1"), now)


def test_only_the_apprentices_own_tutor_reviews(db, people, activity, now):
    ev = submitted(db, people, activity, now)
    for actor in (people.other_tutor, people.admin, people.apprentice, people.other_apprentice):
        with pytest.raises(Forbidden):
            services.review(db, actor, ev, "validate", "", criteria_of(db, "LOG-1"), now)
    assert ev.state == "submitted"


def test_apprentice_links_only_competences_of_their_certifications(db, people, activity, now):
    with pytest.raises(ValidationError, match="ne préparez pas") as err:
        services.link_competence(db, people.apprentice, activity, "QSE-1", "x", now)
    assert err.value.field == "competence"
    with pytest.raises(ValidationError, match="inconnue"):
        services.link_competence(db, people.apprentice, activity, "LOG-99", "x", now)
    services.link_competence(db, people.apprentice, activity, "log-2", "x", now)
    with pytest.raises(Conflict):
        services.link_competence(db, people.apprentice, activity, "LOG-2", "x", now)


def test_nobody_links_or_submits_someone_elses_work(db, people, activity, now):
    with pytest.raises(Forbidden):
        services.link_competence(db, people.other_apprentice, activity, "LOG-1", "x", now)
    ev = services.link_competence(db, people.apprentice, activity, "LOG-1", "Ce que j'ai fait.", now)
    with pytest.raises(Forbidden):
        services.submit(db, people.other_apprentice, ev, now)
    with pytest.raises(Forbidden):
        services.submit(db, people.tutor, ev, now)


def test_validated_activity_is_frozen_for_every_path(db, people, activity, now, tmp_path):
    ev = submitted(db, people, activity, now)
    services.review(db, people.tutor, ev, "validate", "ok", criteria_of(db, "LOG-1"), now)
    db.commit()
    with pytest.raises(Conflict, match="figée"):
        services.update_activity(db, people.apprentice, activity, now, title="Autre titre")
    with pytest.raises(Conflict, match="figée"):
        services.delete_activity(db, people.apprentice, activity)
    with pytest.raises(Conflict, match="figée"):
        services.add_attachment(db, people.apprentice, activity, "p.jpg", photo_bytes(), tmp_path, 10**7)
    # a module's service that forgot the guard is stopped at flush
    activity.title = "Changed behind the guard's back"
    with pytest.raises(Conflict, match="figée"):
        db.flush()
    db.rollback()
    assert db.get(Activity, activity.id).title == "Réception Hydrauliq"
    # another competence can still be linked: the work itself does not change
    services.link_competence(db, people.apprentice, activity, "LOG-2", "Aussi le rangement.", now)
    db.commit()


def test_attachments_are_checked_by_content(db, people, activity, tmp_path):
    with pytest.raises(ValidationError, match="Type de fichier refusé"):
        services.add_attachment(db, people.apprentice, activity, "photo.jpg", b"MZ\x90\x00 not an image", tmp_path, 10**7)
    with pytest.raises(ValidationError, match="trop volumineux"):
        services.add_attachment(db, people.apprentice, activity, "big.jpg", photo_bytes(), tmp_path, 100)
    att = services.add_attachment(db, people.apprentice, activity, "IMG_0001.PNG", photo_bytes("PNG"), tmp_path, 10**7)
    pdf = services.add_attachment(db, people.apprentice, activity, "bl.pdf", b"%PDF-1.4\n%%EOF\n", tmp_path, 10**7)
    assert att.content_type == "image/png" and pdf.content_type == "application/pdf"
    assert (tmp_path / att.stored_name).exists() and (tmp_path / f"thumb_{att.stored_name}.jpg").exists()
    with pytest.raises(Forbidden):
        services.add_attachment(db, people.other_apprentice, activity, "x.png", photo_bytes("PNG"), tmp_path, 10**7)


def test_review_queue_is_the_tutors_submitted_evidence_oldest_first(db, people, now):
    acts = [services.create_activity(db, people.apprentice, title=f"A{i}", performed_at=now - timedelta(days=5),
                                     now=now) for i in range(3)]
    for i, act in enumerate(reversed(acts)):
        ev = services.link_competence(db, people.apprentice, act, "LOG-1", "Texte assez long.", now)
        services.submit(db, people.apprentice, ev, now - timedelta(hours=i))
    other = services.create_activity(db, people.other_apprentice, title="B", performed_at=now, now=now)
    ev = services.link_competence(db, people.other_apprentice, other, "LOG-1", "Texte assez long.", now)
    services.submit(db, people.other_apprentice, ev, now - timedelta(days=3))
    db.commit()
    queue = queries.review_queue(db, people.tutor)
    assert [e.activity.title for e in queue] == ["A0", "A1", "A2"]
    assert [e.activity.title for e in queries.review_queue(db, people.other_tutor)] == ["B"]


def test_coverage_counts_states_and_covered(db, people, activity, now):
    ev = submitted(db, people, activity, now)
    services.review(db, people.tutor, ev, "validate", "ok", criteria_of(db, "LOG-1"), now)
    services.link_competence(db, people.apprentice, activity, "LOG-2", "draft", now)
    db.commit()
    coverage = {c.certification.code: c for c in queries.coverage(db, people.apprentice)}
    assert set(coverage) == {"LOG", "MAINT"}
    comps = {c.competence.code: c for c in coverage["LOG"].competences}
    assert comps["LOG-1"].counts == {"draft": 0, "submitted": 0, "validated": 1, "returned": 0}
    assert comps["LOG-1"].covered and not comps["LOG-2"].covered and comps["LOG-2"].counts["draft"] == 1
    assert coverage["LOG"].covered_count == 1 and coverage["MAINT"].covered_count == 0


def test_company_opinion_keeps_its_history(db, people, now):
    comp = db.scalar(select(Competence).where(Competence.code == "LOG-3"))
    services.record_opinion(db, people.tutor, people.apprentice, comp, "beginner", "Débute", now.date() - timedelta(days=30), now)
    services.record_opinion(db, people.tutor, people.apprentice, comp, "acquired", "Autonome", now.date(), now)
    db.commit()
    assert queries.latest_opinions(db, people.apprentice.id)[comp.id].level == "acquired"
    with pytest.raises(Forbidden):
        services.record_opinion(db, people.other_tutor, people.apprentice, comp, "acquired", "", now.date(), now)
    with pytest.raises(ValidationError) as err:
        services.record_opinion(db, people.tutor, people.apprentice, comp, "expert", "", now.date(), now)
    assert err.value.field == "level"


def test_withdraw_only_before_validation(db, people, activity, now):
    ev = services.link_competence(db, people.apprentice, activity, "LOG-1", "Texte assez long.", now)
    services.withdraw(db, people.apprentice, ev)
    ev = submitted(db, people, activity, now)
    with pytest.raises(Conflict):
        services.withdraw(db, people.apprentice, ev)
    assert db.scalar(select(func.count()).select_from(Evidence)) == 1
