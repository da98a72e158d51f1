"""Scale of the evidence spine (issue: activities and evidence).

Builds a cohort of 30 apprentices with 300 pieces of evidence each (9,000) and 3,000
photos on a fresh SQLite database, then prints the server time of the tutor's review
queue and coverage heatmap (median of 20 requests through the app), each beside the
same read done by one hand-written SQL query, and the time to build a DOCX report of
300 pieces of evidence with 100 photos.

    .venv/bin/python benchmarks/evidence_scale.py [--keep DIR]
"""
from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from PIL import Image
from sqlalchemy import insert, select, text

from shopfloor import create_app
from shopfloor.auth.models import User
from shopfloor.auth.services import UserInput, create_user
from shopfloor.evidence.models import Activity, Attachment, Evidence, EvidenceEvent
from shopfloor.migrate import upgrade
from shopfloor.referential.models import Certification, Competence
from shopfloor.referential.services import load_referential

APPRENTICES, EVIDENCE_EACH, PHOTOS = 30, 300, 3000
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def build(app) -> None:
    db = app.extensions["shopfloor_sessions"].open(write=True)
    load_referential(db)
    create_user(db, UserInput("tutor", "Tutor", "tutor", "clef-formateur-2026"))
    certs = list(db.scalars(select(Certification).order_by(Certification.code)))
    db.commit()
    upload = Path(app.instance_path) / "uploads"
    upload.mkdir(parents=True, exist_ok=True)
    photo_names = []
    for i in range(100):  # 100 distinct real photos, shared by the 3,000 attachments
        name = f"{uuid.uuid4().hex}.jpg"
        Image.new("RGB", (2400, 1600), (i * 2 % 255, 90, 160)).save(upload / name, "JPEG", quality=85)
        photo_names.append(name)
    rng = random.Random(7)
    activity_id = evidence_id = 0
    for a in range(APPRENTICES):
        cert = certs[a % len(certs)]
        user = create_user(db, UserInput(f"appr{a:02d}", f"Apprenti {a:02d}", "apprentice", "clef-atelier-2026",
                                         tutor="tutor", certifications=(cert.code,)))
        db.flush()
        comps = [c.id for c in cert.competences]
        activities, evidence, events = [], [], []
        for i in range(EVIDENCE_EACH):
            activity_id += 1
            evidence_id += 1
            when = NOW - timedelta(days=rng.randint(1, 700), minutes=i)
            state = rng.choice(("draft", "submitted", "submitted", "validated", "validated", "returned"))
            activities.append({"id": activity_id, "type": "generic", "author_id": user.id, "performed_at": when,
                               "title": f"Activité {i} de {user.username}", "description": "Travail en atelier.",
                               "created_at": when, "updated_at": when})
            evidence.append({"id": evidence_id, "activity_id": activity_id, "competence_id": comps[i % len(comps)],
                             "apprentice_id": user.id, "statement": "J'ai réalisé le travail décrit.",
                             "state": state, "created_at": when,
                             "submitted_at": when + timedelta(hours=1) if state != "draft" else None})
            events.append({"evidence_id": evidence_id, "from_state": None, "to_state": state, "actor_id": user.id,
                           "at": when, "comment": ""})
        db.execute(insert(Activity.__table__), activities)
        db.execute(insert(Evidence.__table__), evidence)
        db.execute(insert(EvidenceEvent.__table__), events)
    attachments = [{"activity_id": 1 + (i * 3) % activity_id if i >= 100 else 1 + i, "filename": f"photo{i}.jpg",
                    "content_type": "image/jpeg", "size": 1, "sha256": "0" * 64,
                    "stored_name": photo_names[i % 100] if i < 100 else f"{uuid.uuid4().hex}.jpg",
                    "uploaded_by_id": 2, "created_at": NOW} for i in range(PHOTOS)]
    db.execute(insert(Attachment.__table__), attachments)
    db.execute(text("UPDATE core_evidence SET state = 'validated' WHERE activity_id <= 100"))
    db.commit()
    db.close()


def median_ms(fn, runs: int = 20) -> float:
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", help="build the dataset in this folder and keep it")
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="shopfloor-bench-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade(url)
    app = create_app({"INSTANCE_PATH": str(folder), "DATABASE_URL": url, "WTF_CSRF_ENABLED": False})
    start = time.perf_counter()
    build(app)
    print(f"dataset: {APPRENTICES} apprentices × {EVIDENCE_EACH} evidence = {APPRENTICES * EVIDENCE_EACH}, "
          f"{PHOTOS} photos; built in {time.perf_counter() - start:.1f} s")

    client = app.test_client()
    client.post("/login", data={"username": "tutor", "password": "clef-formateur-2026"})
    engine = app.extensions["shopfloor_sessions"].engine

    def plain(sql):
        def run():
            with engine.connect() as conn:
                conn.execute(text(sql)).all()
        return run

    def page(url):
        def run():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
        return run

    rows = [
        ("review queue page (/review)", page("/review"), plain(
            "SELECT e.id, e.submitted_at, a.title, u.full_name, c.code FROM core_evidence e "
            "JOIN core_user u ON u.id = e.apprentice_id JOIN core_activity a ON a.id = e.activity_id "
            "JOIN ref_competence c ON c.id = e.competence_id WHERE u.tutor_id = 1 AND e.state = 'submitted' "
            "ORDER BY e.submitted_at, e.id LIMIT 200")),
        ("coverage heatmap page (/coverage?certification=LOG)", page("/coverage?certification=LOG"), plain(
            "SELECT e.apprentice_id, e.competence_id, e.state, count(*) FROM core_evidence e "
            "JOIN core_user u ON u.id = e.apprentice_id WHERE u.tutor_id = 1 "
            "GROUP BY e.apprentice_id, e.competence_id, e.state")),
        ("apprentice coverage page (/apprentices/appr00)", page("/apprentices/appr00"), plain(
            "SELECT competence_id, state, count(*) FROM core_evidence WHERE apprentice_id = 2 "
            "GROUP BY competence_id, state")),
    ]
    print(f"{'read':55} {'app ms':>8} {'SQL ms':>8} {'ratio':>6}")
    for label, app_fn, sql_fn in rows:
        app_ms, sql_ms = median_ms(app_fn), median_ms(sql_fn)
        print(f"{label:55} {app_ms:8.1f} {sql_ms:8.1f} {app_ms / sql_ms:6.1f}")

    with app.app_context():
        db = app.extensions["shopfloor_sessions"].open(write=False)
        user = db.scalar(select(User).where(User.username == "appr00"))
        cert = user.certifications[0]
        db.execute(text("UPDATE core_evidence SET state = 'validated' WHERE apprentice_id = :id"), {"id": user.id})
        from shopfloor.evidence import exports
        from shopfloor.evidence.report import report_data
        data = report_data(db, user, cert, now=NOW, include_submitted=False, activity_labels={"generic": "Activité libre"},
                           upload_dir=Path(app.instance_path) / "uploads")
        photos = sum(len(e.photos) for c in data.competences for e in c.evidence)
        start = time.perf_counter()
        docx = exports.build(data, "docx", lambda p: "")
        seconds = time.perf_counter() - start
        db.rollback()
        db.close()
    print(f"DOCX report: {data.evidence_count} evidence, {photos} photos: {seconds:.2f} s, "
          f"{len(docx.content) / 1e6:.1f} MB")


if __name__ == "__main__":
    sys.exit(main())
