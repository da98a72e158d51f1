"""Demo data: a training-centre site, a tutor, one apprentice per CQPM, evidence in every state."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.auth.models import Site, Team, User
from shopfloor.auth.services import UserInput, create_user
from shopfloor.evidence import services as evidence
from shopfloor.referential.models import Competence

SITE = "Pôle formation industrie – atelier école"
TEAMS = ("Logistique", "Maintenance", "Qualité – QSE", "Amélioration continue", "Industrialisation")
PASSWORDS = {"admin": "demo-direction", "tutor": "demo-formation", "apprentice": "demo-apprenti"}

APPRENTICES = [
    # username, full name, certification, team, [(title, description, competence, statement)] × 4 states
    ("ines", "Inès Moreau", "LEAN", "Amélioration continue", [
        ("Cartographie VSM de la ligne d'assemblage vérins",
         "Relevé terrain des temps de cycle, stocks intermédiaires et temps d'attente sur 5 postes.", "LEAN-1",
         "J'ai chronométré chaque poste sur trois cycles, compté les en-cours et dessiné la VSM actuelle avec "
         "l'équipe ; elle montre 2 jours d'en-cours devant le poste de sertissage."),
        ("Chantier 5S au magasin outillage", "Tri, rangement et marquage au sol du magasin outillage.", "LEAN-5",
         "J'ai animé trois séances de 5S avec l'équipe, défini les emplacements et l'audit de suivi mensuel."),
        ("Matrice de choix des leviers d'amélioration", "Comparaison de quatre leviers sur coût, gain et délai.",
         "LEAN-3", "J'ai pondéré les critères avec le responsable de production et classé les leviers."),
        ("Standard de poste sertissage", "Rédaction d'un mode opératoire illustré.", "LEAN-8",
         "Brouillon : il me reste à faire valider les photos par le chef d'équipe."),
    ]),
    ("lucas", "Lucas Bernard", "LOG", "Logistique", [
        ("Réception fournisseur Hydrauliq SA", "Réception de 12 lignes dont une palette endommagée.", "LOG-1",
         "J'ai contrôlé quantités et étiquettes contre le bon de livraison, mis la ligne endommagée en "
         "quarantaine et émis une réserve sur le bon du transporteur."),
        ("Inventaire tournant zone A", "Comptage à l'aveugle de 40 emplacements de la zone A.", "LOG-2",
         "J'ai compté les 40 emplacements, recompté les 3 écarts supérieurs au seuil et proposé les ajustements."),
        ("Approvisionnement bord de ligne", "Préparation FEFO des colles pour la ligne 2.", "LOG-4",
         "J'ai préparé les colles en FEFO et livré la ligne avant la prise de poste."),
        ("Analyse des ruptures du mois", "Pareto des ruptures par référence.", "LOG-6",
         "Brouillon de l'analyse des causes des ruptures."),
    ]),
    ("sarah", "Sarah Petit", "INDUS", "Industrialisation", [
        ("Analyse du procédé d'usinage du carter", "Relevé des temps et des rebuts sur la cellule d'usinage.",
         "INDUS-1", "J'ai relevé les temps de cycle et les causes de rebut sur deux semaines et identifié le "
         "réglage d'outil comme première cause."),
        ("Étude de faisabilité d'un montage rapide", "Chiffrage et gain attendu d'un montage SMED.", "INDUS-4",
         "J'ai chiffré trois solutions de montage et calculé leur temps de retour."),
        ("Essais de la nouvelle gamme", "Essais de la gamme modifiée sur 30 pièces.", "INDUS-5",
         "J'ai lancé les essais et mesuré les cotes critiques."),
        ("Plan d'actions amélioration rebuts", "Plan d'actions suite à l'analyse.", "INDUS-8",
         "Brouillon du plan d'actions."),
    ]),
    ("nathan", "Nathan Roux", "QSE", "Qualité – QSE", [
        ("Audit interne du processus achats", "Audit ISO 9001 §8.4 avec trois constats.", "QSE-8",
         "J'ai préparé la grille d'audit, mené les entretiens avec les acheteurs et rédigé le rapport avec "
         "deux observations et un point fort."),
        ("Évaluation des risques atelier peinture", "Mise à jour du document unique pour l'atelier peinture.",
         "QSE-2", "J'ai coté chaque risque en gravité et probabilité avec l'équipe et proposé des mesures."),
        ("Veille réglementaire ICPE", "Revue des textes applicables au stockage de peintures.", "QSE-3",
         "J'ai vérifié l'applicabilité de cinq textes et mis à jour le registre."),
        ("Tableau de bord des indicateurs QSE", "Construction du tableau de bord mensuel.", "QSE-6",
         "Brouillon du tableau de bord."),
    ]),
    ("emma", "Emma Girard", "MAINT", "Maintenance", [
        ("Visite préventive du compresseur", "Gamme trimestrielle : filtres, courroie, purge, mesures.", "MAINT-2",
         "J'ai consigné le compresseur, suivi la gamme, relevé les valeurs et remplacé le filtre d'aspiration."),
        ("Dépannage du vérin de la presse", "Fuite sur le vérin pneumatique de la presse 2.", "MAINT-4",
         "J'ai consigné l'énergie pneumatique, remplacé les joints du vérin et fait les essais de remise en "
         "service."),
        ("Diagnostic du convoyeur à l'arrêt", "Arrêt du convoyeur : recherche de la cause.", "MAINT-3",
         "J'ai testé trois hypothèses et trouvé le capteur de fin de course défaillant."),
        ("Analyse des pannes du tour", "Pareto des causes de pannes sur un an.", "MAINT-5",
         "Brouillon de l'analyse."),
    ]),
]


def load_demo(app: Flask, db: Session, now: datetime) -> list[str]:
    """Load the demo once (a second run adds nothing) and return the login lines to print."""
    site = db.scalar(select(Site).where(Site.name == SITE))
    if site is None:
        _load_core(db, now)
    module_lines: list[str] = []
    for module in app.extensions["shopfloor_registry"].modules:
        if module.demo is not None:
            module_lines += module.demo(db, now) or []  # a module may return lines to print (a screen link…)
    db.flush()
    lines = [f"administrateur : admin / {PASSWORDS['admin']}",
             f"tuteur         : tuteur / {PASSWORDS['tutor']}"]
    lines += [f"apprenti {cert:<6}: {username} / {PASSWORDS['apprentice']}"
              for username, _, cert, _, _ in APPRENTICES]
    return lines + module_lines


def _load_core(db: Session, now: datetime) -> None:
    site = Site(name=SITE, address="Atelier école")
    teams = {name: Team(site=site, name=name) for name in TEAMS}
    db.add(site)
    db.add_all(teams.values())
    create_user(db, UserInput("admin", "Camille Durand (responsable formation)", "admin", PASSWORDS["admin"]))
    tutor = create_user(db, UserInput("tuteur", "Claire Martin", "tutor", PASSWORDS["tutor"]))
    create_user(db, UserInput("tuteur2", "Marc Lefèvre", "tutor", PASSWORDS["tutor"]))
    tutor.site = site
    for index, (username, full_name, cert, team, works) in enumerate(APPRENTICES):
        apprentice = create_user(db, UserInput(username, full_name, "apprentice", PASSWORDS["apprentice"],
                                               tutor="tuteur", certifications=(cert,), cohort="Promotion 2026"))
        apprentice.site, apprentice.team = site, teams[team]
        db.flush()
        states = ("validated", "submitted", "returned", "draft")
        for order, (state, (title, description, code, statement)) in enumerate(zip(states, works)):
            # oldest work first: validated a month or so ago, drafts in the last days
            _demo_evidence(db, apprentice, tutor, state, title, description, code, statement,
                           now - timedelta(days=35 - 10 * order - index))


def _demo_evidence(db: Session, apprentice: User, tutor: User, state: str, title: str, description: str,
                   code: str, statement: str, when: datetime) -> None:
    activity = evidence.create_activity(db, apprentice, title=title, performed_at=when, description=description,
                                        now=when + timedelta(hours=1))
    ev = evidence.link_competence(db, apprentice, activity, code, statement, when + timedelta(hours=1))
    if state == "draft":
        return
    evidence.submit(db, apprentice, ev, when + timedelta(hours=2))
    if state == "validated":
        comp = db.scalar(select(Competence).where(Competence.code == code))
        evidence.review(db, tutor, ev, "validate", "Travail conforme, bien mené et bien expliqué.",
                        [c.id for c in comp.criteria[:2]], when + timedelta(days=1))
    elif state == "returned":
        evidence.review(db, tutor, ev, "return", "Précise les données relevées et ce que tu as fait toi-même.",
                        [], when + timedelta(days=1))
