"""Demo AIC boards: three team boards and the workshop board above them, a year of daily entries,
meetings with problems, actions and escalations, and one workshop screen (its link is printed)."""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from dashboards import indicators as ind
from dashboards import meetings, screens
from dashboards.inputs import NewScreen
from dashboards.models import Board, BoardRow, DailyValue, IndicatorDefinition
from shopfloor.auth.models import Team, User
from shopfloor import clock
from shopfloor.registry import registry_of

WORKSHOP = "Atelier école – tableau de niveau 2"
# (key, label, letter, unit, higher_is_better, typical value, spread)
MANUAL = {
    "equipe.erreurs_preparation": ("Erreurs de préparation", "Q", "erreurs", False, 1.0, 1.2),
    "equipe.lignes_preparees_heure": ("Lignes préparées par heure", "P", "lignes/h", True, 42.0, 5.0),
    "equipe.heures_arret_machines": ("Heures d'arrêt machines", "P", "h", False, 1.5, 1.3),
    "equipe.cout_pieces_detachees": ("Coût des pièces détachées", "C", "€", False, 310.0, 140.0),
    "equipe.reclamations_clients": ("Réclamations clients", "Q", "récl.", False, 0.3, 0.6),
    "equipe.tri_dechets": ("Déchets correctement triés", "C", "%", True, 93.0, 4.0),
    "equipe.taux_rebut_atelier": ("Taux de rebut atelier", "Q", "%", False, 1.8, 0.7),
    "equipe.heures_supplementaires": ("Heures supplémentaires", "C", "h", False, 6.0, 3.0),
}
# board name → team, [(letter, indicator, target, threshold)] (module rows kept only when installed)
BOARDS = {
    "Logistique – AIC équipe": ("Logistique", [
        ("S", ind.SAFETY_KEY, 0, 1), ("Q", "equipe.erreurs_preparation", 1, 3),
        ("Q", "stock.nonconforming_receptions", 2, 5), ("C", "stock.inventory_accuracy", 98, 95),
        ("D", "stock.stockouts", 0, 2), ("D", "stock.line_supply_on_time", 95, 90),
        ("D", "improvement.late_actions", 0, 2), ("P", "equipe.lignes_preparees_heure", 40, 35),
        ("M", ind.MOOD_KEY, 4, 3), ("M", "improvement.ideas_submitted", 1, 0)]),
    "Maintenance – AIC équipe": ("Maintenance", [
        ("S", ind.SAFETY_KEY, 0, 1), ("Q", "maintenance.open_breakdowns", 0, 2),
        ("C", "equipe.cout_pieces_detachees", 300, 450), ("D", "maintenance.preventive_compliance", 95, 85),
        ("D", "improvement.late_actions", 0, 2), ("P", "maintenance.availability", 95, 90),
        ("P", "equipe.heures_arret_machines", 1, 3), ("M", ind.MOOD_KEY, 4, 3)]),
    "Qualité – QSE – AIC équipe": ("Qualité – QSE", [
        ("S", ind.SAFETY_KEY, 0, 1), ("S", "qse.days_without_accident", 30, 7),
        ("Q", "equipe.reclamations_clients", 0, 1), ("Q", "qse.open_nonconformities", 3, 6),
        ("C", "equipe.tri_dechets", 95, 90), ("D", "improvement.late_actions", 0, 2),
        ("M", ind.MOOD_KEY, 4, 3)]),
    WORKSHOP: (None, [
        ("S", ind.SAFETY_KEY, 0, 1), ("Q", "equipe.taux_rebut_atelier", 2, 3),
        ("C", "equipe.heures_supplementaires", 8, 12), ("D", "improvement.late_actions", 2, 5),
        ("D", "stock.stockouts", 0, 3), ("M", ind.MOOD_KEY, 4, 3)]),
}
# board, days ago, apprentice, led, [(title, letter, category, treatment, owner, due in days)]
MEETINGS = [   # due: days after the meeting (a past due date that is not done makes a late action)
    ("Logistique – AIC équipe", 8, "lucas", True, [
        ("Retard fournisseur Hydrauliq SA sur les vérins", "D", "Retard fournisseur", "problem", None, None),
        ("Rupture de colle MS polymère en bord de ligne 2", "D", "Rupture composant", "none", None, None)]),
    ("Logistique – AIC équipe", 3, "lucas", False, [
        ("Écart d'inventaire sur les joints toriques 20 mm", "Q", "Écart d'inventaire", "action", "tuteur", 1),
        ("Chariot élévateur n°2 : frein de parking faible", "S", "Matériel", "action", "emma", 5)]),
    ("Logistique – AIC équipe", 1, "lucas", True, [
        ("Rupture de colle MS polymère en bord de ligne 2", "D", "Rupture composant", "action", "lucas", 2),
        ("Palette filmée instable à la réception", "S", "Manutention", "none", None, None)]),
    ("Maintenance – AIC équipe", 9, "emma", True, [
        ("Fuite d'huile récurrente sur la presse 2", "Q", "Panne machine", "action", "emma", 4),
        ("Gamme préventive du compresseur incomplète", "D", "Méthode", "action", "emma", 12)]),
    ("Qualité – QSE – AIC équipe", 6, "nathan", True, [
        ("Réclamation client : rayures sur carter", "Q", "Réclamation client", "problem", None, None),
        ("Bac de rétention peinture saturé", "S", "Environnement", "action", "nathan", 2)]),
]
ESCALATIONS = [
    ("Retard fournisseur Hydrauliq SA sur les vérins", "Relance achats et fournisseur de secours à valider par "
     "le responsable d'atelier.", None),
    ("Fuite d'huile récurrente sur la presse 2", "Budget pour le remplacement du groupe hydraulique.",
     "Devis validé, intervention planifiée la semaine prochaine."),
    ("Bac de rétention peinture saturé", "Enlèvement des déchets dangereux à commander.", None),
]


def load(db: Session, now: datetime) -> list[str]:
    if db.scalar(select(Board.id).where(Board.name == WORKSHOP)) is not None:
        return ["écran AIC : déjà créé (révoquez-le et créez-en un autre dans Écrans pour obtenir un lien)"]
    today = clock.paris_day(now)
    catalog = _define_manual(db)
    boards = _boards(db, today, catalog)
    _history(db, boards, today)
    _meetings(db, boards, now)
    admin = db.scalar(select(User).where(User.username == "admin"))
    screen, token = screens.create_screen(db, admin, NewScreen(
        name="Écran allée centrale", board_ids=[boards[WORKSHOP].id, boards["Logistique – AIC équipe"].id]))
    return [f"écran AIC « {screen.name} » : /screen/{token}"]


def _define_manual(db: Session) -> dict:
    author = db.scalar(select(User).where(User.username == "tuteur"))
    for key, (label, letter, unit, higher, _, _) in MANUAL.items():
        db.add(IndicatorDefinition(key=key, label=label, letter=letter, unit=unit, higher_is_better=higher,
                                   created_by_id=author.id))
    db.flush()
    return ind.catalog(db)


def _boards(db: Session, today, catalog) -> dict[str, Board]:
    teams = {t.name: t for t in db.scalars(select(Team))}
    boards = {}
    for name in [WORKSHOP] + [n for n in BOARDS if n != WORKSHOP]:
        team_name, rows = BOARDS[name]
        team = teams.get(team_name) if team_name else None
        board = Board(name=name, level=1 if team_name else 2, team=team, created_on=today - timedelta(days=365),
                      site_id=team.site_id if team else next(iter(teams.values())).site_id,
                      parent=boards.get(WORKSHOP),
                      rows=[BoardRow(letter=letter, indicator_key=key, target=target, threshold=threshold, position=i)
                            for i, (letter, key, target, threshold) in enumerate(r for r in rows if r[1] in catalog)])
        db.add(board)
        boards[name] = board
    db.flush()
    return boards


def _safety(rng: random.Random, days_ago: int) -> int:
    draw = rng.random()
    if days_ago < 25:      # no accident this month: the cross is green with two near-misses
        return 1 if days_ago in (6, 17) else 0
    return 2 if draw < 0.006 else 1 if draw < 0.04 else 0


def _history(db: Session, boards: dict[str, Board], today) -> None:
    """A year of entries typed by the teams, inserted in bulk; today is left to type on the Logistique board."""
    rng = random.Random(2026)
    rows = []
    for name, board in boards.items():
        for row in board.rows:
            if row.indicator_key not in ind.MANUAL_KEYS and row.indicator_key not in MANUAL:
                continue
            for days_ago in range(365, -1, -1):
                day = today - timedelta(days=days_ago)
                if day.weekday() >= 5 or (days_ago == 0 and name.startswith("Logistique")):
                    continue    # teams meet on working days
                rows.append({"board_id": board.id, "indicator_key": row.indicator_key, "day": day,
                             "value": _value(rng, row.indicator_key, days_ago), "source": "manual", "comment": ""})
    db.execute(insert(DailyValue), rows)


def _value(rng: random.Random, key: str, days_ago: int) -> float:
    if key == ind.SAFETY_KEY:
        return float(_safety(rng, days_ago))
    if key == ind.MOOD_KEY:
        return float(min(5, max(1, round(rng.gauss(3.9, 0.7)))))
    _, _, unit, _, typical, spread = MANUAL[key]
    value = max(0.0, rng.gauss(typical, spread))
    return round(value) if unit in ("erreurs", "récl.") else round(value, 1)


def _meetings(db: Session, boards: dict[str, Board], now: datetime) -> None:
    users = {u.username: u for u in db.scalars(select(User))}
    has_improvement = registry_of(db).has("improvement")
    problems = {}
    for board_name, days_ago, author, led, raised in MEETINGS:
        board = boards[board_name]
        day = clock.paris_day(now) - timedelta(days=days_ago)
        when = datetime.combine(day, time(8, 30), tzinfo=clock.PARIS)
        meeting = meetings.create_meeting(
            db, users[author], board, performed_at=when, now=now, led=led, duration_minutes=10,
            participants=[users[author].full_name, "Claire Martin (tutrice)", "Opérateurs de l'équipe"],
            reviewed=[r.indicator_key for r in board.rows])
        for title, letter, category, treatment, owner, due in raised:
            if not has_improvement and treatment != "none":
                treatment = "none"
            problems[title] = meetings.add_problem(
                db, users[author], meeting, title=title, letter=letter, category=category, treatment=treatment,
                now=when + timedelta(minutes=10), owner=users.get(owner),
                due=day + timedelta(days=due) if due is not None else None, method="QRQC")
    for title, reason, answer in ESCALATIONS:
        problem = problems[title]
        raised_at = datetime.combine(problem.raised_on, time(9, 0), tzinfo=clock.PARIS)
        escalation = meetings.escalate(db, users["tuteur"], problem, reason=reason, now=raised_at)
        if answer:
            meetings.answer_escalation(db, users["admin"], escalation, answer=answer, now=raised_at + timedelta(hours=5))
