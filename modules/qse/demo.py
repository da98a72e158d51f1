"""Demo data: a year of non-conformities, two audits with findings and the audit programme, a DUERP extract,
twenty regulatory texts and a year of safety events — authored by Nathan (QSE) and his colleagues."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from modules.improvement import services as improvement
from modules.qse import analyses, audits, events, inputs, nonconformities as ncs, objectives, regulatory, risks
from modules.qse.models import NonConformity, ProgrammeEntry, QseIndicator
from shopfloor import clock
from shopfloor.auth.models import User
from shopfloor.registry import registry_of

MARKER = "Rayures sur capots de vérins D32 – retour client Hydrauliq"

NC_TEMPLATES = [
    ("Rayures sur capots de vérins", "customer", "Capots rayés à la livraison chez le client", "Expédition", 180),
    ("Cote Ø32 hors tolérance sur tige", "production", "Diamètre mesuré 31,92 mm pour 32 -0,05", "Ligne 1", 240),
    ("Étiquette lot illisible", "reception", "Étiquette fournisseur délavée, lot non traçable", "Quai 1", 35),
    ("Joint monté à l'envers", "production", "Joint à lèvre inversé au poste 3", "Ligne 1", 60),
    ("Flexibles écrasés à la livraison", "supplier", "Palette percée par le chariot du transporteur", "Quai 1", 120),
    ("Colle périmée en bord de ligne", "internal", "Pot entamé au-delà de sa date limite", "Ligne 2", 45),
    ("Couple de serrage non tracé", "audit", "Fiche de suivi sans valeur de couple", "Ligne 1", 0),
    ("Peinture : épaisseur insuffisante", "production", "Mesure 38 µm pour 60 µm requis", "Cabine peinture", 310),
    ("Certificat matière manquant", "supplier", "Certificat 3.1 absent du colis", "Réception", 20),
    ("Mauvaise référence expédiée", "customer", "Vérin D40 livré au lieu de D32", "Expédition", 420),
]
REGULATORY = [
    ("Code du travail L4121-1", "Obligations générales de l'employeur en matière de santé et sécurité", "S", "Légifrance"),
    ("Code du travail R4121-1", "Document unique d'évaluation des risques professionnels (DUERP)", "S", "Légifrance"),
    ("Code du travail R4323-22", "Vérifications générales périodiques des appareils de levage", "S", "Légifrance"),
    ("Code du travail R4323-55", "Conduite des équipements de travail mobiles automoteurs (CACES)", "S", "Légifrance"),
    ("Code du travail R4412-1", "Prévention du risque chimique", "S", "Légifrance"),
    ("Code du travail R4431-1", "Prévention des risques dus au bruit", "S", "Légifrance"),
    ("Code du travail R4541-1", "Manutention manuelle des charges", "S", "Légifrance"),
    ("Code du travail R4544-1", "Opérations sur les installations électriques (habilitation)", "S", "Légifrance"),
    ("Code du travail R4227-28", "Moyens de lutte contre l'incendie", "S", "Légifrance"),
    ("Arrêté du 1er mars 2004", "Vérification des appareils et accessoires de levage", "S", "JORF"),
    ("ICPE rubrique 2940", "Application de peintures et vernis (régime déclaration)", "E", "Légifrance / AIDA"),
    ("ICPE rubrique 2560", "Travail mécanique des métaux et alliages", "E", "Légifrance / AIDA"),
    ("ICPE rubrique 1510", "Entrepôts couverts (stockage de matières combustibles)", "E", "Légifrance / AIDA"),
    ("Code de l'environnement R541-8", "Classification des déchets (liste européenne)", "E", "Légifrance"),
    ("Code de l'environnement D543-281", "Tri 5 flux des déchets (papier, métal, plastique, verre, bois)", "E",
     "Légifrance"),
    ("Règlement (CE) n° 1907/2006 REACH", "Enregistrement, évaluation et autorisation des substances chimiques", "E",
     "EUR-Lex"),
    ("Règlement (CE) n° 1272/2008 CLP", "Classification, étiquetage et emballage des substances", "S", "EUR-Lex"),
    ("Directive 2006/42/CE Machines", "Exigences essentielles de sécurité des machines", "S", "EUR-Lex"),
    ("Règlement (UE) 2023/1230 Machines", "Nouveau règlement machines (applicable le 20 janvier 2027)", "S", "EUR-Lex"),
    ("NF EN ISO 9001:2015", "Systèmes de management de la qualité – Exigences", "Q", "AFNOR"),
]
DUERP = [
    ("Logistique", "Quai de réception", "Chariot élévateur", "Heurt d'un piéton par un chariot", 3, 4,
     "Allées piétonnes marquées, CACES 3", 2, 4),
    ("Logistique", "Stockage", "Charges en hauteur", "Chute de charge lors du gerbage", 2, 4,
     "Palettier contrôlé, filmage", 1, 4),
    ("Logistique", "Préparation", "Manutention", "Troubles musculo-squelettiques (cartons > 15 kg)", 3, 2,
     "Table élévatrice, formation gestes et postures", 2, 2),
    ("Maintenance", "Atelier maintenance", "Énergie pneumatique", "Écrasement lors du démontage d'un vérin", 2, 4,
     "Consignation pneumatique, purge", 1, 4),
    ("Maintenance", "Atelier maintenance", "Électricité", "Électrisation sur armoire de presse", 1, 4,
     "Habilitation BR, VAT", 1, 4),
    ("Production", "Cabine peinture", "Agents chimiques", "Inhalation de solvants", 3, 3,
     "Cabine ventilée, masque A2P3", 2, 3),
    ("Production", "Ligne 1", "Bruit", "Exposition > 85 dB(A) au poste de sertissage", 4, 2,
     "Bouchons moulés, capotage", 2, 2),
    ("Production", "Collage", "Agents chimiques", "Contact cutané avec colle époxy (sensibilisant)", 2, 3,
     "Gants nitrile, FDS au poste", 1, 3),
]


def _users(db: Session) -> dict[str, User]:
    names = ("nathan", "lucas", "emma", "sarah", "ines", "tuteur")
    return {u.username: u for u in db.scalars(select(User).where(User.username.in_(names)))}


def load(db: Session, now: datetime) -> None:
    people = _users(db)
    if "nathan" not in people or db.scalar(select(NonConformity.id).where(NonConformity.title == MARKER)):
        return
    rng = random.Random(7)
    _nonconformities(db, people, now, rng)
    _audits(db, people, now)
    _risks(db, people, now)
    _regulatory(db, people, now)
    _events(db, people, now, rng)
    _objectives(db, people, now)
    _context_and_planning(db, people, now)
    db.flush()


def _nonconformities(db: Session, people, now: datetime, rng: random.Random) -> None:
    nathan = people["nathan"]
    for index in range(48):   # a year: about one a week, the oldest closed
        title, source, description, place, cost = NC_TEMPLATES[index % len(NC_TEMPLATES)]
        detected = now - timedelta(days=365 - index * 7.4, hours=rng.randint(0, 8))
        nc = ncs.create_nonconformity(db, nathan, inputs.nonconformity({
            "title": f"{title} ({detected:%d/%m})", "source": source, "severity": "minor", "description": description,
            "place": place, "quantity": rng.randint(1, 40), "cost": cost + rng.randint(0, 60),
            "requirement": "customer" if source == "customer" else "standard", "detected_at": detected.isoformat()},
            now), now)
        if index < 40:
            checked = detected + timedelta(days=21)
            ncs.record_effectiveness(db, nathan, nc, inputs.Effectiveness("Aucune récidive sur les 3 semaines suivantes",
                                                                          True), checked)
            ncs.close(db, nathan, nc, checked)
    major = ncs.create_nonconformity(db, nathan, inputs.nonconformity({
        "title": MARKER, "source": "customer", "severity": "major", "requirement": "customer",
        "description": "12 vérins D32 livrés avec des rayures profondes sur le capot ; réclamation client n° RC-2611.",
        "place": "Expédition", "quantity": 12, "cost": "860", "detected_at": (now - timedelta(days=9)).isoformat()},
        now), now)
    if not registry_of(db).has("improvement"):   # the 8D of the customer claim lives in that module
        return
    sheet = improvement.create_problem(db, nathan,
                                       improvement.NewProblem(title="8D – rayures capots D32", method="8D",
                                                              what="Rayures profondes sur capots, 12 pièces, lot client du 11/11"),
                                       now=now - timedelta(days=8), origin=("qse_nonconformity", major.id))
    improvement.add_problem_action(db, nathan, sheet,
                                   improvement.NewAction(title="Intercalaires mousse entre vérins au conditionnement",
                                                         deliverable="Standard de conditionnement mis à jour",
                                                         due=clock.paris_day(now) + timedelta(days=10)),
                                   owner=people["lucas"], now=now)


def _audits(db: Session, people, now: datetime) -> None:
    nathan, today = people["nathan"], clock.paris_day(now)
    year = today.year
    plan = [(2, "Réception et stockage", "iso9001"), (4, "Maintenance", "iso45001"), (5, "Production ligne 1", "iso9001"),
            (6, "Peinture", "iso14001"), (9, "Expédition", "iso9001"), (10, "Atelier maintenance – sécurité", "iso45001"),
            (11, "Achats", "iso9001"), (12, "Gestion des déchets", "iso14001")]
    entries = {process: ProgrammeEntry(year=year, month=month, process=process, standard=standard)
               for month, process, standard in plan}
    db.add_all(entries.values())
    db.flush()
    reception = audits.create_audit(db, nathan, inputs.audit({
        "process": "Réception et stockage", "audit_type": "process", "standards": ["iso9001"],
        "clauses": ["7.1", "7.5", "8.4", "8.5", "8.7"], "auditors": "Nathan Roux", "auditees": "Lucas Bernard",
        "scope": "Quai de réception, zones de stockage A et B, quarantaine", "audit_date":
        (today - timedelta(days=40)).isoformat(), "programme_entry": entries["Réception et stockage"].id,
        "questions": ["Les fiches de données de sécurité des colles sont-elles accessibles au poste ?"]}, now), now)
    for clause, kind, evidence in [
            ("8.4", "minor", "Pas d'évaluation annuelle du fournisseur Colles Durand (dernière : 2024)."),
            ("8.7", "strong_point", "Zone de quarantaine identifiée, stock bloqué dans le système."),
            ("7.5", "observation", "Bons de livraison classés sans date de réception."),
            ("8.5", "opportunity", "Marquer au sol les emplacements des palettes en attente de rangement.")]:
        finding = inputs.finding({"clause": clause, "kind": kind, "evidence": evidence}, audits.known_clauses(reception),
                                 reception.standards)
        audits.add_finding(db, nathan, reception, finding, now)
    audits.finish(db, nathan, reception, "Processus maîtrisé ; l'évaluation des fournisseurs est à instaurer.")
    finding = reception.findings[0]
    ncs.create_nonconformity(db, nathan, inputs.nonconformity({}, now, audits.finding_draft(db, nathan, reception, finding)),
                             now, finding=finding)
    safety = audits.create_audit(db, nathan, inputs.audit({
        "process": "Atelier maintenance – sécurité", "audit_type": "system", "standards": ["iso45001"],
        "clauses": ["5.4", "6.1.2", "8.1.2", "8.2"], "auditors": "Nathan Roux, Théo Tuteur",
        "auditees": "Emma Lefèvre", "scope": "Atelier maintenance, consignations",
        "audit_date": (today - timedelta(days=12)).isoformat(),
        "programme_entry": entries["Atelier maintenance – sécurité"].id}, now), now)
    for clause, kind, evidence in [
            ("8.1.2", "major", "Consignation pneumatique non réalisée lors du démontage observé d'un vérin."),
            ("6.1.2", "conform", "DUERP à jour (révision de septembre), unités de travail définies."),
            ("8.2", "observation", "Extincteur CO2 de l'armoire électrique masqué par un chariot.")]:
        finding = inputs.finding({"clause": clause, "kind": kind, "evidence": evidence}, audits.known_clauses(safety),
                                 safety.standards)
        audits.add_finding(db, nathan, safety, finding, now)


def _risks(db: Session, people, now: datetime) -> None:
    nathan, review = people["nathan"], clock.paris_day(now) + timedelta(days=180)
    for process, unit, hazard, description, p, g, measures, rp, rg in DUERP:
        risks.create_risk(db, nathan, inputs.risk({"category": "ohs", "process": process, "work_unit": unit, "hazard": hazard,
                                       "description": description, "likelihood": p, "severity": g,
                                       "existing_measures": measures, "residual_likelihood": rp,
                                       "residual_severity": rg, "review_on": review.isoformat()}), now)
    for category, kind, process, description, p, g in [
            ("quality", "risk", "Achats", "Dépendance à un fournisseur unique de joints", 2, 3),
            ("quality", "opportunity", "Production", "Contrôle automatique des cotes en fin de ligne", 3, 2),
            ("environment", "risk", "Peinture", "Déversement de solvant lors du dépotage", 2, 3),
            ("environment", "risk", "Logistique", "Emballages non triés en mélange", 3, 1)]:
        risks.create_risk(db, nathan, inputs.risk({"category": category, "kind": kind, "process": process,
                                       "description": description, "likelihood": p, "severity": g}), now)


def _regulatory(db: Session, people, now: datetime) -> None:
    tutor, today = people.get("tuteur") or people["nathan"], clock.paris_day(now)
    for index, (reference, title, domain, source) in enumerate(REGULATORY):
        text = regulatory.save_text(db, tutor, inputs.regulatory_text({
            "reference": reference, "title": title, "domain": domain, "source": source,
            "applicability": "Applicable au site (atelier école)", "requirements": title,
            "compliance": ("compliant", "compliant", "partial", "to_assess")[index % 4],
            "action_planned": "Mettre à jour la procédure et former les équipes" if index % 4 == 2 else "",
            "next_review": (today + timedelta(days=index * 20 - 30)).isoformat()}))
        text.owner_id = people["nathan"].id


def _events(db: Session, people, now: datetime, rng: random.Random) -> None:
    reporters = [people[name] for name in ("lucas", "emma", "nathan") if name in people]
    rows = [("accident", 230, "Entorse de la cheville en descendant du quai", 6),
            ("accident", 41, "Coupure à la main au déballage (cutter)", 2)]
    rows += [("near_miss", day, text, 0) for day, text in [
        (300, "Palette mal filmée, colis tombé à côté d'un cariste"), (250, "Chariot sans avertisseur sonore"),
        (200, "Flaque d'huile sous la presse 2"), (160, "Porte coupe-feu calée ouverte"),
        (120, "Câble au sol en travers de l'allée"), (75, "Bidon de solvant sans étiquette CLP"),
        (30, "Piéton hors allée dans la zone de gerbage"), (12, "Élingue effilochée repérée avant levage"),
        (4, "Étagère surchargée en zone B")]]
    rows += [("first_aid", day, text, 0) for day, text in [(180, "Pansement : écharde de palette"),
                                                          (22, "Rinçage oculaire : projection de liquide de refroidissement")]]
    for index, (kind, days_ago, description, lost) in enumerate(rows):
        reporter = reporters[index % len(reporters)]
        events.create_event(db, reporter, inputs.event({
            "kind": kind, "description": description, "lost_days": lost,
            "at": (now - timedelta(days=days_ago, hours=rng.randint(1, 6))).isoformat()}, now), now)




# (objective, axis, target, deadline in days, indicator, unit, target value, direction, visual, twelve monthly values)
OBJECTIVES = [
    ("Réduire les réclamations clients", "Q", "Au plus 2 réclamations par mois", 220, "Réclamations clients",
     "récl.", 2, "lower", "bar", [4, 3, 3, 2, 2, 1, 3, 2, 1, 2, 1, 3]),
    ("Zéro accident avec arrêt", "S", "Taux de fréquence inférieur à 5", 400, "Taux de fréquence des accidents",
     "TF", 5, "lower", "line", [9.1, 8.4, 7.0, 6.2, 5.5, 4.8, 4.8, 4.1, 3.9, 4.4, 3.6, 5.8]),
    ("Mieux trier les déchets", "E", "85 % des déchets valorisés", 300, "Taux de valorisation des déchets",
     "%", 85, "higher", "line", [71, 73, 76, 78, 80, 79, 83, 86, 82, 87, 84, 88]),
]


def _month_ends(today, count: int) -> list:
    """The last days of the `count` months before today's month, oldest first."""
    ends, day = [], today.replace(day=1)
    for _ in range(count):
        day = day - timedelta(days=1)
        ends.append(day)
        day = day.replace(day=1)
    return list(reversed(ends))


def _objectives(db: Session, people, now: datetime) -> None:
    nathan, today = people["nathan"], clock.paris_day(now)
    months = _month_ends(today, 12)
    for title, axis, target, days, name, unit, goal, direction, visual, values in OBJECTIVES:
        objective = objectives.create_objective(db, nathan, inputs.objective({
            "title": title, "axis": axis, "target": target, "owner": nathan.username,
            "deadline": (today + timedelta(days=days)).isoformat(),
            "policy_commitment": {"Q": "Satisfaire nos clients", "S": "Préserver la santé de chacun",
                                  "E": "Réduire notre empreinte"}[axis],
            "means": "Plan d'actions QSE, points 5 minutes hebdomadaires"}, now - timedelta(days=370)),
            now - timedelta(days=370))
        indicator = objectives.save_indicator(db, nathan, inputs.indicator({
            "name": name, "unit": unit, "target": goal, "direction": direction, "visual": visual,
            "owner": nathan.username,
            "frequency": "monthly", "objective_id": objective.id, "definition": f"{name}, calculé chaque fin de mois",
            "purpose": f"Suivre l'objectif « {title} »", "formula": "Relevé mensuel du tableau de bord QSE"}))
        for day, value in zip(months, values):
            objectives.add_measurement(db, nathan, indicator, inputs.measurement({"measured_on": day.isoformat(), "value": value}), now)
    first, end = objectives.month_bounds(months[-1])
    claims = objectives.get_indicator(db, db.scalar(select(QseIndicator.id).where(
        QseIndicator.name == "Réclamations clients")))
    objectives.create_followup(db, nathan, claims, inputs.followup({
        "period_start": first.isoformat(), "period_end": end.isoformat(),
        "analysis": "3 réclamations, dont 2 pour des capots rayés au transport : cause emballage.",
        "decision": "Intercalaires mousse au conditionnement (action 8D)."}), _after(end, now - timedelta(days=3), now))


def _after(day, wanted: datetime, now: datetime) -> datetime:
    """`wanted`, or a morning after `day` when `wanted` falls on or before it, never after `now`: a review of a
    period is held once the period is over (on the 1st of a month, last month ended a few hours ago)."""
    return min(now, max(wanted, clock.paris_midnight(day + timedelta(days=1)) + timedelta(hours=9)))


def _context_and_planning(db: Session, people, now: datetime) -> None:
    nathan, today = people["nathan"], clock.paris_day(now)
    analyses.save_context(db, nathan, inputs.context({
        "title": "Contexte de l'atelier vérins", "scope": "Atelier vérins hydrauliques – site école",
        "strengths": ["Équipe polyvalente et formée", "Certification ISO 9001 depuis 2019", "Atelier récent"],
        "weaknesses": ["Fournisseur unique de joints", "Traçabilité papier en réception"],
        "opportunities": ["Nouveau marché machines agricoles", "Aides régionales à la décarbonation"],
        "threats": ["Hausse du prix de l'acier", "Concurrent low-cost sur les vérins standard"],
        "political": ["Plan France 2030 (industrie)"], "economic": ["Inflation des matières premières"],
        "social": ["Difficulté à recruter des soudeurs"], "technological": ["Capteurs connectés sur les vérins"],
        "environmental": ["Tri 5 flux obligatoire"], "legal": ["Règlement machines (UE) 2023/1230 en 2027"],
        "parties": [{"party": "Clients", "needs": "Vérins conformes livrés à l'heure", "priority": 1},
                    {"party": "Salariés et apprentis", "needs": "Sécurité, formation, reconnaissance", "priority": 1},
                    {"party": "Fournisseurs", "needs": "Prévisions de commandes fiables", "priority": 2},
                    {"party": "DREAL / inspection du travail", "needs": "Conformité ICPE et code du travail",
                     "priority": 2},
                    {"party": "Riverains", "needs": "Pas de nuisances sonores la nuit", "priority": 3}]}),
        now - timedelta(days=60))
    year = today.year + 1
    analyses.save_planning(db, nathan, inputs.planning({"title": f"Planning QSE {year}", "horizon": str(year),
                                                       "tasks": [
        {"name": "Mise à jour du DUERP", "start": f"{year}-01-05", "end": f"{year}-01-30", "responsible": "Nathan"},
        {"name": "Audit interne réception", "start": f"{year}-02-09", "end": f"{year}-02-13", "responsible": "Nathan"},
        {"name": "Revue de la veille réglementaire", "start": f"{year}-03-02", "end": f"{year}-03-20",
         "responsible": "Nathan"},
        {"name": "Revue de direction", "start": f"{year}-03-26", "milestone": True, "responsible": "Direction"},
        {"name": "Campagne tri des déchets", "start": f"{year}-04-01", "end": f"{year}-06-30", "responsible": "Emma"},
        {"name": "Exercice d'évacuation", "start": f"{year}-05-12", "milestone": True, "responsible": "Nathan"},
        {"name": "Audit de certification ISO 9001", "start": f"{year}-10-05", "end": f"{year}-10-07",
         "responsible": "Organisme certificateur"}]}), now - timedelta(days=10))
