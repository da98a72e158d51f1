"""Scale of the QSE registers (issue: QSE module): 10,000 non-conformities, 500 audits (with 2,500 findings)
and 2,000 risks on SQLite; each register page, filtered and paginated, must answer in under 200 ms.

Prints, per page, the server time through the app (median and p95 over 30 requests, as an admin who sees
everything and as a tutor who sees his apprentices' records), and for the NC register the ratio against
one hand-written SQL query returning the same page.

    .venv/bin/python benchmarks/qse_scale.py
"""
from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from modules.qse.models import Audit, Finding, NonConformity, Risk  # noqa: E402
from shopfloor import create_app  # noqa: E402
from shopfloor.auth.services import UserInput, create_user  # noqa: E402
from shopfloor import clock
from shopfloor.evidence.models import Activity  # noqa: E402
from shopfloor.models import metadata  # noqa: E402
from shopfloor.referential.services import load_referential  # noqa: E402

N_NC, N_AUDITS, N_RISKS, FINDINGS_PER_AUDIT = 10_000, 500, 2_000, 5
REPEAT = 30


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def build(app) -> None:
    sessions = app.extensions["shopfloor_sessions"]
    metadata.create_all(sessions.engine)
    db = sessions.open(write=True)
    load_referential(db)
    create_user(db, UserInput("admin", "Ada Admin", "admin", "clef-direction-2026"))
    create_user(db, UserInput("tuteur", "Théo Tuteur", "tutor", "clef-formateur-2026"))
    authors = [create_user(db, UserInput(f"appr{n}", f"Apprenti {n}", "apprentice", "clef-atelier-2026",
                                         tutor="tuteur" if n < 3 else None, certifications=("QSE",))).id
               for n in range(10)]
    db.commit()
    rng, now = random.Random(3), clock.now()
    activities, ncs, audits, findings, risks = [], [], [], [], []
    next_id = 1
    for n in range(N_NC):
        at = now - timedelta(minutes=rng.randint(1, 3 * 365 * 24 * 60))
        activities.append({"id": next_id, "type": "qse_nonconformity", "author_id": rng.choice(authors),
                           "performed_at": at, "title": f"NC {n} – {rng.choice(['Rayures', 'Cote', 'Étiquette'])}",
                           "description": "Défaut constaté", "created_at": at, "updated_at": at})
        status = rng.choices(["closed", "open", "contained"], [8, 1, 1])[0]
        ncs.append({"id": next_id, "source": rng.choice(["reception", "production", "audit", "customer", "supplier",
                                                         "internal"]),
                    "severity": rng.choices(["minor", "major", "critical"], [7, 2, 1])[0], "requirement": "customer",
                    "place": "Ligne 1", "status": status, "detected_at": at, "immediate_action": "",
                    "effectiveness": "", "cost": rng.randint(0, 900),
                    "closed_at": at + timedelta(days=20) if status == "closed" else None})
        next_id += 1
    for n in range(N_AUDITS):
        day = (now - timedelta(days=rng.randint(1, 5 * 365))).date()
        at = now - timedelta(days=(now.date() - day).days)
        activities.append({"id": next_id, "type": "qse_audit", "author_id": rng.choice(authors), "performed_at": at,
                           "title": f"Audit {n}", "description": "", "created_at": at, "updated_at": at})
        audits.append({"id": next_id, "process": rng.choice(["Réception", "Stockage", "Maintenance", "Expédition"]),
                       "scope": "", "criteria": "ISO 9001:2015", "standards": ["iso9001"], "audit_type": "process",
                       "auditors": "", "auditees": "", "audit_date": day, "duration_hours": 2,
                       "status": "done", "conclusions": "RAS"})
        findings += [{"audit_id": next_id, "clause": rng.choice(["7.1", "8.4", "8.5", "9.2"]),
                      "kind": rng.choice(["conform", "minor", "observation", "opportunity"]), "evidence": "Vu",
                      "created_at": at, "closed_at": at if rng.random() < .8 else None}
                     for _ in range(FINDINGS_PER_AUDIT)]
        next_id += 1
    for n in range(N_RISKS):
        at = now - timedelta(days=rng.randint(1, 700))
        p, g = rng.randint(1, 4), rng.randint(1, 4)
        activities.append({"id": next_id, "type": "qse_risk_evaluation", "author_id": rng.choice(authors),
                           "performed_at": at, "title": f"Risque {n}", "description": "Risque", "created_at": at,
                           "updated_at": at})
        risks.append({"id": next_id, "category": rng.choice(["quality", "ohs", "environment"]), "kind": "risk",
                      "process": rng.choice(["Logistique", "Maintenance", "Production", "Achats"]), "work_unit": "",
                      "hazard": "", "likelihood": p, "severity": g, "score": p * g, "existing_measures": "",
                      "treatment": ""})
        next_id += 1
    db.execute(insert(Activity.__table__), activities)
    db.execute(insert(NonConformity.__table__), ncs)
    db.execute(insert(Audit.__table__), audits)
    db.execute(insert(Finding.__table__), findings)
    db.execute(insert(Risk.__table__), risks)
    db.commit()
    db.execute(text("ANALYZE"))
    db.commit()
    db.close()


PAGES = [
    ("NC : non clôturées, majeures, page 2", "/qse/nonconformities?status=active&severity=major&page=2"),
    ("NC : source client, page 10", "/qse/nonconformities?source=customer&page=10"),
    ("NC : recherche « Rayures », page 5", "/qse/nonconformities?q=Rayures&page=5"),
    ("NC : tout, dernière page", "/qse/nonconformities?page=200"),
    ("NC (API) : ouvertes", "/api/v1/qse/nonconformities?status=open&page=3"),
    ("Audits : terminés, processus Stockage", "/qse/audits?status=done&process=Stockage&page=2"),
    ("Risques : SST, cotation >= 6 (+ carte)", "/qse/risks?category=ohs&min_score=6&page=2"),
    ("Risques : tout (+ carte)", "/qse/risks?page=10"),
    ("Accueil QSE (indicateurs)", "/qse/"),
]

HAND_SQL = text("""
SELECT a.id, a.title, n.source, n.severity, n.detected_at, n.status, u.full_name
FROM qse_nonconformity n JOIN core_activity a ON a.id = n.id JOIN core_user u ON u.id = a.author_id
WHERE n.status != 'closed' AND n.severity = 'major'
ORDER BY n.detected_at DESC, n.id DESC LIMIT 50 OFFSET 50""")
HAND_COUNT = text("SELECT count(*) FROM qse_nonconformity n WHERE n.status != 'closed' AND n.severity = 'major'")


def timed(call) -> list[float]:
    call()  # warm-up
    out = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    folder = tempfile.mkdtemp(prefix="qse-bench-")
    app = create_app({"DATABASE_URL": f"sqlite:///{folder}/bench.db", "SECRET_KEY": "bench", "INSTANCE_PATH": folder,
                      "WTF_CSRF_ENABLED": False})
    start = time.perf_counter()
    build(app)
    print(f"built {N_NC} NC, {N_AUDITS} audits ({N_AUDITS * FINDINGS_PER_AUDIT} findings), {N_RISKS} risks "
          f"in {time.perf_counter() - start:.1f} s")
    worst = 0.0
    for username, password in (("admin", "clef-direction-2026"), ("tuteur", "clef-formateur-2026")):
        client = app.test_client()
        client.post("/login", data={"username": username, "password": password})
        token = None
        print(f"\n-- as {username} --")
        for label, url in PAGES:
            headers = {}
            if url.startswith("/api/"):
                if token is None:
                    with app.app_context():
                        from shopfloor.auth.models import User
                        from shopfloor.auth.services import create_token
                        from shopfloor.db import session
                        from sqlalchemy import select
                        db = session()
                        token = create_token(db, db.scalar(select(User).where(User.username == username)))
                        db.commit()
                headers = {"Authorization": f"Bearer {token}"}

            def call(url=url, headers=headers):
                answer = client.get(url, headers=headers)
                assert answer.status_code == 200, (url, answer.status_code)
            times = timed(call)
            worst = max(worst, pct(times, .95))
            print(f"{label:45s} median {statistics.median(times):6.1f} ms   p95 {pct(times, .95):6.1f} ms")
    engine = app.extensions["shopfloor_sessions"].engine
    with engine.connect() as conn:
        sql = timed(lambda: (conn.execute(HAND_SQL).all(), conn.execute(HAND_COUNT).scalar()))
    client = app.test_client()
    client.post("/login", data={"username": "admin", "password": "clef-direction-2026"})
    page = timed(lambda: client.get(PAGES[0][1]))
    print(f"\nhand-written SQL (same NC page + count): median {statistics.median(sql):.2f} ms; "
          f"page / SQL ratio {statistics.median(page) / statistics.median(sql):.1f}×")
    print(f"worst p95: {worst:.1f} ms — target < 200 ms: {'OK' if worst < 200 else 'MISSED'}")


if __name__ == "__main__":
    main()
