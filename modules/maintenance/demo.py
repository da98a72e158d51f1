"""Demo data: the training workshop's machines, plans of the four kinds, a year of daily readings,
a history of work orders and a few open breakdowns (Emma, team Maintenance)."""
from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from modules.improvement import services as improvement
from modules.maintenance import analysis as an
from modules.maintenance import inputs
from modules.maintenance import readings as rd
from modules.maintenance import schedule
from modules.maintenance.equipment import create_equipment, create_plan
from modules.maintenance.inputs import NewAnalysis, NewProgress
from modules.maintenance.models import Equipment, Plan, Reading, WorkOrder
from shopfloor import clock
from shopfloor.auth.models import Team, User

DAY = timedelta(days=1)

MACHINES = [
    # code, name, technologies, criticality, energies, maker, model
    ("TOUR-01", "Tour conventionnel", ["mecanique", "electrique"], "B", ["electrique", "mecanique"], "Cazeneuve", "HB 575"),
    ("FRAI-01", "Fraiseuse à commande numérique", ["mecanique", "electrique", "automatisme"], "A",
     ["electrique", "pneumatique"], "Haas", "VF-2"),
    ("CMP-01", "Compresseur à vis 11 kW", ["pneumatique", "electrique"], "A", ["electrique", "pneumatique", "thermique"],
     "Atlas Copco", "GA 11"),
    ("CONV-01", "Convoyeur à bande ligne 1", ["mecanique", "electrique"], "B", ["electrique", "gravite"], "Interroll", "BM 8400"),
    ("PRES-01", "Presse hydraulique 20 t", ["hydraulique", "electrique"], "A", ["electrique", "hydraulique", "gravite"],
     "Schuler", "HPX 20"),
    ("BANC-01", "Banc pneumatique didactique", ["pneumatique", "automatisme"], "C", ["pneumatique", "electrique"],
     "Festo", "MPS 500"),
    ("PERC-01", "Perceuse à colonne", ["mecanique", "electrique"], "C", ["electrique"], "Optimum", "B 34H"),
    ("ROBOT-01", "Robot de palettisation", ["automatisme", "electrique", "pneumatique"], "A",
     ["electrique", "pneumatique", "gravite"], "Fanuc", "M-410iC"),
    ("POMPE-01", "Pompe de relevage", ["hydraulique", "electrique"], "B", ["electrique", "hydraulique"], "Grundfos", "SEG 40"),
    ("CLIM-01", "Centrale de traitement d'air", ["electrique", "mecanique"], "C", ["electrique", "thermique"], "Ciat", "Floway"),
    ("CHAR-01", "Chariot élévateur électrique", ["electrique", "hydraulique"], "B", ["electrique", "hydraulique", "gravite"],
     "Linde", "E20"),
    ("SOUD-01", "Poste à souder MIG", ["electrique"], "C", ["electrique", "thermique"], "Lincoln", "Powertec 305"),
]


def load(db: Session, now: datetime) -> None:
    tutor = db.scalar(select(User).where(User.username == "tuteur"))
    emma = db.scalar(select(User).where(User.username == "emma"))
    team = db.scalar(select(Team).where(Team.name == "Maintenance"))
    if tutor is None or team is None or db.scalar(select(Equipment.id).limit(1)) is not None:
        return  # loaded once: a second `shopfloor demo` adds nothing
    for code, name, techs, crit, energies, maker, model in MACHINES:
        create_equipment(db, tutor, inputs.new_equipment({
            "code": code, "name": name, "technologies": techs, "criticality": crit, "energies": energies,
            "maker": maker, "model": model, "team_id": team.id, "meters": ["hours"],
            "reference_values": _reference(code)}))
    _plans(db, tutor, now)
    _readings(db, now)
    _usage_due(db)
    _history(db, emma, tutor, now)
    db.flush()
    schedule.run(db, now)
    if emma is not None:
        _analysis(db, emma, now)


def _reference(code: str) -> dict:
    return {"CMP-01": {"temperature": 72.0, "pressure": 7.5}, "FRAI-01": {"vibration": 1.8},
            "PRES-01": {"pressure": 180.0}}.get(code, {})


def _plans(db: Session, tutor: User, now: datetime) -> None:
    start = now - 200 * DAY
    plans = [
        {"equipment": "CMP-01", "kind": "calendar", "interval_months": 1, "title": "Visite mensuelle du compresseur",
         "start": (now - 2 * DAY).isoformat(), "duration_min": 45, "authorisation": "BR",
         "tools": "Manomètre, clé dynamométrique", "consumables": "Chiffons, joint de purge",
         "operations": [{"label": "Pression de service", "expected": 7.5, "tolerance": 0.3, "unit": "bar"},
                        {"label": "Température de refoulement", "expected": 75, "tolerance": 10, "unit": "°C"},
                        {"label": "Purger le réservoir et le séparateur"},
                        {"label": "Contrôler le niveau d'huile"}]},
        {"equipment": "TOUR-01", "kind": "calendar", "interval_weeks": 1, "title": "Graissage hebdomadaire du tour",
         "start": (now - DAY).isoformat(), "anchor": "completion",
         "operations": [{"label": "Graisser les glissières"}, {"label": "Niveau d'huile de la boîte"}]},
        {"equipment": "PRES-01", "kind": "calendar", "interval_days": 90, "title": "Contrôle réglementaire presse",
         "start": (now + 10 * DAY).isoformat(), "lead_days": 14, "authorisation": "B1V",
         "operations": [{"label": "Pression hydraulique", "expected": 180, "tolerance": 10, "unit": "bar"},
                        {"label": "Essai de l'arrêt d'urgence"}, {"label": "Barrage immatériel"}]},
        {"equipment": "CONV-01", "kind": "usage", "interval_hours": 500, "title": "Tension et alignement de la bande",
         "operations": [{"label": "Tension de bande", "expected": 1.5, "tolerance": 0.3, "unit": "%"}]},
        {"equipment": "CHAR-01", "kind": "usage", "interval_hours": 250, "title": "Entretien 250 h du chariot",
         "operations": [{"label": "Niveau d'électrolyte"}, {"label": "Chaînes de mât"}]},
        {"equipment": "FRAI-01", "kind": "condition", "parameter": "vibration", "threshold": 4.5,
         "title": "Broche : vibrations au-delà de 4,5 mm/s", "start": start.isoformat(), "running_check": True,
         "operations": [{"label": "Mesure vibratoire broche", "expected": 2.0, "tolerance": 2.5, "unit": "mm/s"}]},
        {"equipment": "CMP-01", "kind": "predictive", "parameter": "temperature", "threshold": 95, "lead_days": 7,
         "window_days": 30, "title": "Échangeur du compresseur : encrassement prévu", "start": start.isoformat(),
         "operations": [{"label": "Nettoyer l'échangeur air/huile"},
                        {"label": "Température après nettoyage", "expected": 75, "tolerance": 8, "unit": "°C"}]},
    ]
    for data in plans:
        create_plan(db, tutor, inputs.new_plan(data, now))


def _readings(db: Session, now: datetime) -> None:
    """A year of daily readings: hour meters, compressor temperature drifting up, spindle vibration."""
    ids = dict(db.execute(select(Equipment.code, Equipment.id)).all())
    rng = random.Random(6)
    rows = []
    for day in range(365, 0, -1):
        at = (now - day * DAY).replace(hour=7, minute=0, second=0, microsecond=0)
        elapsed = 365 - day
        for code in ("CONV-01", "CHAR-01", "TOUR-01"):
            rows.append({"equipment_id": ids[code], "parameter": "hours", "value": 1200 + elapsed * 7.5, "at": at,
                         "source": "sensor"})
        # fouling since the last cleaning 60 days ago: +0.3 °C a day
        since_clean = elapsed % 100 if elapsed < 300 else elapsed - 300
        rows.append({"equipment_id": ids["CMP-01"], "parameter": "temperature",
                     "value": round(72 + 0.3 * since_clean + rng.uniform(-1, 1), 1), "at": at, "source": "sensor"})
        rows.append({"equipment_id": ids["CMP-01"], "parameter": "pressure",
                     "value": round(7.5 + 0.1 * math.sin(elapsed) + rng.uniform(-0.1, 0.1), 2), "at": at,
                     "source": "sensor"})
        rows.append({"equipment_id": ids["FRAI-01"], "parameter": "vibration",
                     "value": round(1.8 + rng.uniform(-0.3, 0.4) + (2.9 if day in (3, 2) else 0), 2), "at": at,
                     "source": "sensor"})
    db.execute(insert(Reading), rows)


def _usage_due(db: Session) -> None:
    """The forklift passed its 250 h service a few hours ago: the next pass generates its WO."""
    db.flush()
    plan = db.scalar(select(Plan).join(Equipment).where(Equipment.code == "CHAR-01", Plan.kind == "usage"))
    latest = db.scalar(select(Reading.value).where(Reading.equipment_id == plan.equipment_id,
                                                   Reading.parameter == "hours").order_by(Reading.at.desc()).limit(1))
    plan.next_meter = latest - 4


def _history(db: Session, emma: User | None, tutor: User, now: datetime) -> None:
    ids = dict(db.execute(select(Equipment.code, Equipment.id)).all())
    failures = [  # code, days ago, hours down, kind, symptom, mode, cause
        ("CONV-01", 200, 3, "curative", "Bande déportée, arrêt sur défaut", "DER", "MON"),
        ("CMP-01", 150, 5, "curative", "Déclenchement thermique moteur", "ECH", "ENC"),
        ("PRES-01", 120, 8, "palliative", "Fuite sur vérin principal", "FUI", "FAT"),
        ("CONV-01", 90, 2, "curative", "Rouleau de renvoi bloqué", "BLO", "LUB"),
        ("ROBOT-01", 60, 4, "curative", "Ventouse ne tient plus la charge", "FUI", "FAT"),
        ("CONV-01", 30, 1.5, "curative", "Bande patine au démarrage", "USU", "LUB"),
        ("CMP-01", 20, 3, "curative", "Pression insuffisante", "FUI", "PIE"),
    ]
    for code, days, hours, kind, symptom, mode, cause in failures:
        begin = now - days * DAY
        db.add(WorkOrder(equipment_id=ids[code], kind=kind, trigger="request", status="closed", title=f"Panne : {symptom}",
                         symptom=symptom, requested_by=tutor, requested_at=begin, due=begin,
                         downtime_start=begin, downtime_end=begin + timedelta(hours=hours), downtime_reason="Panne",
                         started_at=begin + timedelta(minutes=20), finished_at=begin + timedelta(hours=hours),
                         closed_at=begin + timedelta(hours=hours + 20), closed_by=tutor,
                         report="Remise en état et essais concluants.", time_spent_min=int(hours * 60),
                         diagnosis={"symptom": symptom, "lost_function": "Production", "hypotheses": [],
                                    "root_cause": symptom, "failure_mode": mode, "failure_cause": cause,
                                    "consequences": {"production": f"{hours} h d'arrêt"}}))
    for code, symptom in (("BANC-01", "Distributeur 5/2 reste collé"), ("CONV-01", "Bruit anormal du motoréducteur"),
                          ("POMPE-01", "La pompe ne démarre plus")):
        db.add(WorkOrder(equipment_id=ids[code], kind="curative", trigger="request", status="requested",
                         title=f"Panne : {symptom}", symptom=symptom, requested_by=emma or tutor,
                         requested_at=now - 3 * timedelta(hours=1), due=now - timedelta(hours=3),
                         downtime_start=now - timedelta(hours=3) if code == "POMPE-01" else None,
                         downtime_reason="Panne" if code == "POMPE-01" else ""))


def _analysis(db: Session, emma: User, now: datetime) -> None:
    """Emma's analysis of the park over six months: proposal, and a progress action on the MTTR
    measured again over the last 30 days."""
    today = clock.paris_day(now)
    made = an.create_analysis(db, emma, NewAnalysis(
        first=today - 210 * DAY, last=today - 31 * DAY, equipment=None, conclusions="",
        title="Analyse des pannes du parc sur six mois"), now)
    top = made.pareto[0][0] if made.pareto else "lubrification"
    an.update_conclusions(db, emma, made, (
        f"La première cause de panne est « {top} ». Les arrêts longs viennent surtout des machines de "
        "criticité A sans pièce de rechange en stock. Le préventif est souvent fait en retard le vendredi."))
    an.propose(db, emma, made, improvement.NewAction(
        title="Stock de sécurité des pièces critiques",
        deliverable="Liste des pièces critiques par machine A avec seuil de réappro", due=today + 30 * DAY), now)
    before = made.kpis.get("mttr_hours")
    if before is None:
        return
    an.start_progress(db, emma, made, NewProgress(
        indicator="mttr_hours", target=round(0.75 * before, 2),
        action=improvement.NewAction(title="Graissage hebdomadaire ajouté à la gamme du lundi",
                                     deliverable="Gammes de graissage mises à jour et affichées",
                                     due=today + 14 * DAY)), now)
    ids = rd.team_equipment_ids(db, None)
    after = rd.compute_kpis(db, ids, now - 30 * DAY, now, now).mttr_hours
    if after is not None:
        an.record_after(db, emma, made, round(after, 2), now)
