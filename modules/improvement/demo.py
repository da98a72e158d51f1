"""Demo data: a QRQC after a line stoppage, an 8D on a supplier defect, a 5S plan, a decision matrix,
a validated standard and a few ideas — with actions owned by the demo users, some of them late."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from modules.improvement import inputs, services
from modules.improvement.jobs import mark_late_actions
from modules.improvement.models import ProblemSheet
from shopfloor import clock
from shopfloor.auth.models import User

QRQC_TITLE = "Arrêt de la ligne d'assemblage vérins – bourrage convoyeur poste 3"


def _users(db: Session) -> dict[str, User]:
    names = ("ines", "sarah", "lucas", "emma", "nathan", "tuteur")
    return {u.username: u for u in db.scalars(select(User).where(User.username.in_(names)))}


def load(db: Session, now: datetime) -> None:
    people = _users(db)
    if "ines" not in people or db.scalar(select(ProblemSheet.id).where(ProblemSheet.title == QRQC_TITLE)):
        return
    _qrqc(db, people, now)
    _eight_d(db, people, now)
    _plan(db, people, now)
    _decision(db, people, now)
    _standard(db, people, now)
    _ideas(db, people, now)
    mark_late_actions(db, now)


def _causes(db, author, sheet, causes, when, voters=("Karim (chef d'équipe)", "Julie (opératrice)", "Marc")):
    created = []
    for family, label, votes in causes:
        cause = services.add_cause(db, author, sheet, inputs.NewCause(family, label))
        for voter in voters[:votes]:
            services.vote(db, author, sheet, cause, when, voter)
        created.append(cause)
    return created


def _qrqc(db: Session, p: dict, now: datetime) -> None:
    ines = p["ines"]
    start = now - timedelta(days=12)
    sheet = services.create_problem(db, ines, inputs.NewProblem(
        title=QRQC_TITLE, method="QRQC",
        what="La ligne vérins s'arrête sur bourrage du convoyeur à l'entrée du poste 3 (sertissage).",
        pareto=inputs.pareto({"label": "Arrêts de la ligne vérins par cause (4 semaines)", "items": [
            ["Bourrage convoyeur poste 3", 14], ["Capteur de présence", 6], ["Manque de pièces", 4],
            ["Réglage presse", 3], ["Autres", 2]]})), now=start)
    services.update_problem(db, ines, sheet, inputs.sheet_changes({
        "qui": "Équipe de jour, ligne vérins (Karim, Julie, Inès)", "ou": "Convoyeur d'entrée du poste 3",
        "quand": "Depuis le changement de série du 2 novembre, surtout en début de poste",
        "comment": "Les corps de vérin se mettent en travers dans le guide et bloquent le convoyeur",
        "combien": "14 arrêts en 4 semaines, 6 h 20 d'arrêt cumulé, 180 vérins en retard",
        "pourquoi": "Retards de livraison client et heures supplémentaires le samedi",
        "data_note": "Relevé des arrêts sur le cahier de ligne et la supervision, semaines 44 à 47."}))
    causes = _causes(db, ines, sheet, [
        ("materiel", "Guide du convoyeur usé", 3), ("methodes", "Pas de réglage du guide au changement de série", 2),
        ("matiere", "Corps de vérin avec bavure", 1), ("main_oeuvre", "Opérateurs intérimaires non formés", 1),
        ("milieu", "Poussière d'usinage sur la bande", 0)], start + timedelta(hours=2))
    services.choose_cause(db, ines, sheet, causes[0].id)
    for answer in ("Le guide a un jeu de 4 mm au lieu de 1 mm",
                   "Les patins en PEHD sont usés jusqu'au métal",
                   "Aucune inspection des patins n'est prévue",
                   "La gamme de maintenance préventive du convoyeur ne cite pas les guides"):
        services.add_why(db, ines, sheet, answer)
    later = now - timedelta(days=11)
    containment = services.add_problem_action(db, ines, sheet, inputs.NewAction(
        title="Caler le guide et contrôler chaque début de poste", kind="containment",
        deliverable="Guide calé, contrôle noté sur le cahier de ligne", due=clock.paris_day(later)),
        owner=p["ines"], now=later)
    services.update_action(db, ines, containment, later, status="done")
    replace = services.add_problem_action(db, ines, sheet, inputs.NewAction(
        title="Remplacer les patins PEHD du guide", deliverable="Patins neufs montés, jeu < 1 mm",
        due=clock.paris_day(now - timedelta(days=4))), owner=p["emma"], now=later)
    services.update_action(db, ines, replace, now - timedelta(days=8), status="in_progress")
    services.add_problem_action(db, ines, sheet, inputs.NewAction(
        title="Ajouter l'inspection des guides à la gamme préventive", kind="standardisation",
        deliverable="Gamme préventive convoyeur v3 validée", due=clock.paris_day(now - timedelta(days=2))),
        owner=p["ines"], now=later)
    services.add_problem_action(db, ines, sheet, inputs.NewAction(
        title="Former les intérimaires au réglage du guide", deliverable="Feuille d'émargement",
        due=clock.paris_day(now + timedelta(days=6))), owner=p["lucas"], now=now - timedelta(days=1))


def _eight_d(db: Session, p: dict, now: datetime) -> None:
    author = p.get("sarah") or p["ines"]
    start = now - timedelta(days=25)
    sheet = services.create_problem(db, author, inputs.NewProblem(
        title="8D – fuites d'étanchéité sur joints fournisseur Hydrauliq SA", method="8D",
        what="Fuites au test d'étanchéité sur les vérins montés avec le lot de joints J-2291 de Hydrauliq SA.",
        pareto=inputs.pareto({"label": "Rebuts au test d'étanchéité par défaut (lot J-2291)", "items": [
            ["Joint déformé", 23], ["Rayure de tige", 5], ["Mauvais serrage", 3], ["Autres", 1]]})), now=start)
    services.update_problem(db, author, sheet, inputs.sheet_changes({
        "team_members": "Sarah (pilote), Nathan (qualité), Lucas (réception), acheteur, Hydrauliq SA",
        "qui": "Test final d'étanchéité", "ou": "Poste de test, ligne vérins",
        "quand": "Depuis la réception du lot J-2291", "comment": "Fuite > 2 bar/min au test",
        "combien": "32 vérins rebutés sur 410 (7,8 %)", "pourquoi": "Coût de rebut et risque client"}))
    causes = _causes(db, author, sheet, [
        ("matiere", "Joints hors tolérance de dureté", 3), ("methodes", "Contrôle réception par échantillon trop faible", 2),
        ("milieu", "Stockage des joints près du four", 1), ("materiel", "Outil de montage des joints abîmé", 1),
        ("main_oeuvre", "Graissage des joints oublié", 0)], start + timedelta(hours=3))
    services.choose_cause(db, author, sheet, causes[0].id)
    for answer in ("La dureté mesurée est 62 Shore au lieu de 70 ± 5",
                   "Le fournisseur a changé de mélange sans prévenir",
                   "Le cahier des charges n'impose pas de notifier un changement de matière"):
        services.add_why(db, author, sheet, answer)
    when = now - timedelta(days=24)
    sort = services.add_problem_action(db, author, sheet, inputs.NewAction(
        title="Trier le stock de joints J-2291", kind="containment", deliverable="Stock trié, lot bloqué en quarantaine",
        due=clock.paris_day(now - timedelta(days=22))), owner=p.get("lucas", author), now=when)
    services.update_action(db, author, sort, now - timedelta(days=22), status="done")
    services.add_problem_action(db, author, sheet, inputs.NewAction(
        title="Obtenir le 8D du fournisseur et son plan d'actions", deliverable="8D Hydrauliq SA signé",
        due=clock.paris_day(now - timedelta(days=5))), owner=author, now=when)
    spec = services.add_problem_action(db, author, sheet, inputs.NewAction(
        title="Ajouter la notification de changement au cahier des charges",
        deliverable="Cahier des charges joints rév. D", due=clock.paris_day(now - timedelta(days=10))),
        owner=p.get("nathan", author), now=when)
    services.update_action(db, author, spec, now - timedelta(days=9), status="done")
    services.update_action(db, author, spec, now - timedelta(days=2), effectiveness=inputs.Effectiveness(
        "Taux de rebut au test d'étanchéité (%)", {"before": 7.8, "target": 1, "after": 0.6}))


def _plan(db: Session, p: dict, now: datetime) -> None:
    ines = p["ines"]
    start = now - timedelta(days=20)
    plan = services.create_plan(db, ines, title="Plan 5S du magasin outillage",
                                objective="Trouver tout outil en moins de 30 secondes et tenir l'audit 5S à 80 %.",
                                scope="Magasin outillage de l'atelier école, équipe Amélioration continue", now=start)
    rows = [("Trier les outils inutilisés (étiquettes rouges)", "Zone de tri vidée", p["ines"], -18, -15, "done"),
            ("Peindre le marquage au sol", "Allées et emplacements tracés", p.get("emma", ines), -15, -6, "done"),
            ("Étiqueter les armoires et les tiroirs", "Étiquettes posées", p.get("lucas", ines), -10, -3, "in_progress"),
            ("Mettre en place l'audit 5S mensuel", "Grille d'audit et planning affichés", ines, -5, 8, "todo"),
            ("Former l'équipe au standard 5S", "Feuille d'émargement", ines, -3, 12, "todo")]
    for title, deliverable, owner, begin, due, status in rows:
        created = now + timedelta(days=begin)
        action = services.create_action(db, ines, inputs.NewAction(
            title=title, deliverable=deliverable, due=clock.paris_day(now + timedelta(days=due)),
            planned_start=clock.paris_day(created), pdca="do"), owner=owner, now=created, plan_id=plan.id)
        if status != "todo":
            services.update_action(db, ines, action, created + timedelta(days=1), status="in_progress")
        if status == "done":
            services.update_action(db, ines, action, now + timedelta(days=due - 1), status="done")
    first = services.plan_follow_up(db, plan, clock.paris_day(now)).actions[0]
    services.update_action(db, ines, first, now - timedelta(days=1), effectiveness=inputs.Effectiveness(
        "Temps pour trouver un outil (s)", {"before": 140, "target": 30, "after": 35}))


def _decision(db: Session, p: dict, now: datetime) -> None:
    services.create_decision(db, p["ines"], now - timedelta(days=9), inputs.decision(dict(
        title="Choix du levier contre les arrêts convoyeur",
        question="Quel levier engager en premier pour supprimer les bourrages du poste 3 ?",
        criteria=[{"name": "Efficacité attendue", "weight": 5}, {"name": "Coût", "weight": 3},
                  {"name": "Délai de mise en œuvre", "weight": 2}],
        options=[{"name": "Patins PEHD neufs + réglage", "scores": [4, 4, 5], "cost": 800, "gain": 9600},
                 {"name": "Guide réglable sans outil", "scores": [5, 2, 2], "cost": 4500, "gain": 12000},
                 {"name": "Nouveau convoyeur", "scores": [5, 0, 1], "cost": 38000, "gain": 15000}],
        chosen="Patins PEHD neufs + réglage")))


def _standard(db: Session, p: dict, now: datetime) -> None:
    ines = p["ines"]
    standard = services.create_standard(db, ines, now - timedelta(days=5), inputs.standard(dict(
        title="Réglage du guide du convoyeur au changement de série",
        kind="opl", workstations=["Ligne vérins – poste 3", "Ligne vérins – poste 4"],
        safety="Convoyeur consigné (arrêt + cadenas) avant toute intervention.")))
    for text, key in (("Consigner le convoyeur", "Cadenas personnel posé"),
                      ("Poser la cale étalon de la série entre les deux guides", "Cale de la couleur de la série"),
                      ("Serrer les deux molettes du guide", "Jeu < 1 mm, la cale glisse sans forcer"),
                      ("Retirer la cale, déconsigner et faire passer 3 pièces", "Aucune pièce en travers")):
        services.add_step(db, ines, standard, inputs.step({"text": text, "key_point": key}))
    if "tuteur" in p:
        services.validate_standard(db, p["tuteur"], standard, now - timedelta(days=3))


def _ideas(db: Session, p: dict, now: datetime) -> None:
    for username, title, description, days in (
            ("lucas", "Chariot de kitting pour le poste 3", "Préparer les kits de pièces par série pour éviter les manques.", 6),
            ("emma", "Graisseur automatique sur le convoyeur", "Supprime le graissage manuel hebdomadaire.", 4),
            ("ines", "Tableau d'arrêts visible en bout de ligne", "Noter chaque arrêt de plus de 5 min au feutre.", 2)):
        if username in p:
            services.submit_idea(db, p[username], now - timedelta(days=days),
                                 inputs.idea({"title": title, "description": description}))
