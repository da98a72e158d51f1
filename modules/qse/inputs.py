"""What the QSE pages and API accept, parsed in the handlers: raw form or JSON values (and list filters)
become typed values, each error naming its field, before a service is called. A parser given `now` also
refuses a date in the future where the field asks for it. Services check the rules that need the database
or the record's state (a user or text that must exist, an audit still in progress, a closed NC)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from modules.qse.models import (
    AUDIT_TYPES, DIRECTIONS, EVENT_KINDS, FINDING_KINDS, FREQUENCIES, NC_REQUIREMENTS, NC_SEVERITIES, NC_SOURCES,
    NC_STATUSES, OBJECTIVE_STATUSES, PESTEL, POLICY_AXES, REG_COMPLIANCE, REG_DOMAINS, RISK_CATEGORIES, RISK_KINDS, SWOT, VISUALS)
from modules.qse.standards import clause_titles, standards
from shopfloor import clock
from shopfloor import validation as v
from shopfloor.errors import ValidationError


# -- risks -------------------------------------------------------------------------------

@dataclass(frozen=True)
class RiskInput:
    likelihood: int
    severity: int
    description: str
    title: str
    process: str
    category: str
    kind: str
    work_unit: str = ""
    hazard: str = ""
    existing_measures: str = ""
    treatment: str = ""
    residual_likelihood: int | None = None
    residual_severity: int | None = None
    review_on: date | None = None


def _rating(data: dict, field: str, required: bool = True) -> int | None:
    return v.integer(data, field, required=required, minimum=1, maximum=4)


def risk(data: dict) -> RiskInput:
    """A risk or an opportunity: likelihood × severity on 1..4, its process, DUERP details."""
    likelihood, severity = _rating(data, "likelihood"), _rating(data, "severity")
    description = v.text(data, "description", max_length=3000)
    title = v.text(data, "title", required=False, max_length=200, default=description[:120])
    process = v.text(data, "process", max_length=120)
    category = v.choice(data, "category", tuple(RISK_CATEGORIES), default="quality")
    kind = v.choice(data, "kind", tuple(RISK_KINDS), default="risk")
    texts = {name: v.text(data, name, required=False, max_length=limit)
             for name, limit in (("work_unit", 120), ("hazard", 200), ("existing_measures", 3000), ("treatment", 3000))}
    residual = _rating(data, "residual_likelihood", required=False), _rating(data, "residual_severity", required=False)
    if (residual[0] is None) != (residual[1] is None):
        raise ValidationError("Le risque résiduel se cote en probabilité ET gravité.", "residual_severity")
    return RiskInput(likelihood, severity, description, title, process, category, kind, **texts,
                     residual_likelihood=residual[0], residual_severity=residual[1],
                     review_on=v.date_field(data, "review_on", required=False))


# -- regulatory watch ---------------------------------------------------------------------

REGULATORY_FIELDS = ("reference", "title", "domain", "source", "published_on", "applicability", "requirements",
                     "compliance", "action_planned", "next_review")


@dataclass(frozen=True)
class RegulatoryTextInput:
    reference: str
    title: str
    domain: str
    source: str
    published_on: date | None
    applicability: str
    requirements: str
    action_planned: str
    compliance: str
    next_review: date | None


def regulatory_text(data: dict) -> RegulatoryTextInput:
    """A text of the regulatory watch: reference, title, domain, compliance and the next review."""
    return RegulatoryTextInput(
        reference=v.text(data, "reference", max_length=120), title=v.text(data, "title", max_length=300),
        domain=v.choice(data, "domain", tuple(REG_DOMAINS)),
        source=v.text(data, "source", required=False, max_length=120),
        published_on=v.date_field(data, "published_on", required=False),
        **{name: v.text(data, name, required=False, max_length=5000)
           for name in ("applicability", "requirements", "action_planned")},
        compliance=v.choice(data, "compliance", tuple(REG_COMPLIANCE), default="to_assess"),
        next_review=v.date_field(data, "next_review", required=False))


# -- objectives and indicators -------------------------------------------------------------

def objective_status(data: dict) -> str:
    return v.choice(data, "status", tuple(OBJECTIVE_STATUSES))


@dataclass(frozen=True)
class NewObjective:
    title: str
    axis: str
    target: str
    deadline: date
    description: str
    owner: str            # a username; the service finds the active user
    policy_commitment: str
    means: str


def objective(data: dict, now: datetime) -> NewObjective:
    """A SMART objective: specific (title), measurable (target), achievable (means), relevant (policy axis and
    commitment), time-bound (deadline, not in the past)."""
    title = v.text(data, "title", max_length=200)
    axis = v.choice(data, "axis", tuple(POLICY_AXES))
    target = v.text(data, "target", max_length=300)
    deadline = v.date_field(data, "deadline")
    if deadline < clock.paris_day(now):
        raise ValidationError("L'échéance d'un objectif ne peut pas être passée.", "deadline")
    return NewObjective(title=title, axis=axis, target=target, deadline=deadline,
                        description=v.text(data, "description", required=False, max_length=3000),
                        owner=username(data, "owner"),
                        policy_commitment=v.text(data, "policy_commitment", required=False, max_length=300),
                        means=v.text(data, "means", required=False, max_length=3000))


def username(data: dict, field: str) -> str:
    return v.text(data, field, max_length=80).lower()


@dataclass(frozen=True)
class IndicatorInput:
    objective_id: int | None
    name: str
    definition: str
    purpose: str
    formula: str
    unit: str
    frequency: str
    target: Decimal
    direction: str
    visual: str
    owner: str            # a username


def indicator(data: dict) -> IndicatorInput:
    """An indicator: what it measures, how often, its target and direction, its owner and objective."""
    objective_id = v.identifier(data, "objective_id", required=False)
    name = v.text(data, "name", max_length=200)
    texts = {field: v.text(data, field, required=False, max_length=limit)
             for field, limit in (("definition", 3000), ("purpose", 3000), ("formula", 500), ("unit", 30))}
    return IndicatorInput(objective_id=objective_id, name=name, **texts,
                          frequency=v.choice(data, "frequency", tuple(FREQUENCIES), default="monthly"),
                          target=v.decimal(data, "target"), direction=v.choice(data, "direction", tuple(DIRECTIONS)),
                          visual=v.choice(data, "visual", tuple(VISUALS), default="line"),
                          owner=username(data, "owner"))


@dataclass(frozen=True)
class MeasurementInput:
    measured_on: date
    value: Decimal
    comment: str = ""


def measurement(data: dict) -> MeasurementInput:
    """One measure of an indicator: its day and value."""
    return MeasurementInput(v.date_field(data, "measured_on"), v.decimal(data, "value"),
                            v.text(data, "comment", required=False, max_length=1000))


@dataclass(frozen=True)
class FollowupInput:
    period_start: date
    period_end: date
    analysis: str
    title: str = ""       # "": the service names it after the indicator and the period
    decision: str = ""


def followup(data: dict) -> FollowupInput:
    """A review of an indicator over a period (start ≤ end), with its analysis and decision."""
    start, end = v.date_field(data, "period_start"), v.date_field(data, "period_end")
    if end < start:
        raise ValidationError("La fin de la période précède son début.", "period_end")
    return FollowupInput(start, end, v.text(data, "analysis", max_length=5000),
                         v.text(data, "title", required=False, max_length=200),
                         v.text(data, "decision", required=False, max_length=5000))


# -- safety events -------------------------------------------------------------------------

@dataclass(frozen=True)
class NewEvent:
    kind: str
    at: datetime
    description: str
    place: str
    lost_days: int


def event(data: dict, now: datetime) -> NewEvent:
    """A safety event, declared after the fact: its moment is not in the future."""
    at = v.datetime_field(data, "at")
    if at > now:
        raise ValidationError("Un événement se déclare après coup : la date ne peut pas être dans le futur.", "at")
    return NewEvent(kind=v.choice(data, "kind", tuple(EVENT_KINDS)), at=at,
                    description=v.text(data, "description", max_length=3000),
                    place=v.text(data, "place", required=False, max_length=200),
                    lost_days=v.integer(data, "lost_days", required=False, minimum=0, maximum=3650) or 0)


# -- non-conformities ------------------------------------------------------------------------

MAX_QUANTITY = Decimal(1_000_000_000)  # QTY = Numeric(14, 3): three decimals
MAX_COST = Decimal(1_000_000_000)  # MONEY = Numeric(14, 2): two decimals


@dataclass(frozen=True)
class LotReference:
    sku: str          # "" when only the lot number is given
    number: str
    label: str        # how the request named it, for the error when it is not found


@dataclass(frozen=True)
class NewNonConformity:
    title: str
    detected_at: datetime
    source: str
    severity: str
    requirement: str
    description: str
    place: str
    quantity: Decimal | None
    cost: Decimal
    lots: tuple[LotReference, ...] = ()


def nonconformity(data: dict, now: datetime, draft: dict | None = None) -> NewNonConformity:
    """A non-conformity; `draft` holds what a reception or a finding already says, the request's filled
    values win over it."""
    if draft is not None:
        data = {**draft, **{k: val for k, val in data.items() if val not in (None, "")}}
    title = v.text(data, "title")
    detected = v.datetime_field(data, "detected_at", required=False, default=now)
    if detected > now:
        raise ValidationError("La date de détection ne peut pas être dans le futur.", "detected_at")
    quantity = v.decimal(data, "quantity", required=False, minimum=Decimal(0), maximum=MAX_QUANTITY, max_places=3)
    cost = v.decimal(data, "cost", required=False, minimum=Decimal(0), maximum=MAX_COST, max_places=2)
    return NewNonConformity(
        title=title, detected_at=detected, source=v.choice(data, "source", tuple(NC_SOURCES)),
        severity=v.choice(data, "severity", tuple(NC_SEVERITIES)),
        requirement=v.choice(data, "requirement", tuple(NC_REQUIREMENTS), default="customer"),
        description=v.text(data, "description", max_length=5000),
        place=v.text(data, "place", required=False, max_length=200), quantity=quantity,
        cost=cost or Decimal(0), lots=lot_references(data.get("lots")))


def lot_references(values) -> tuple[LotReference, ...]:
    """Lots named as "LOT-NUMBER" or "SKU:LOT-NUMBER" (or {"sku", "lot"})."""
    if values is None:
        return ()
    if not isinstance(values, list):
        raise ValidationError("Le champ « lots » doit être une liste de numéros de lot.", "lots")
    return tuple(_lot_reference(raw) for raw in values)


def _lot_reference(raw) -> LotReference:
    if isinstance(raw, dict):
        sku, number = str(raw.get("sku") or "").strip(), str(raw.get("lot") or "").strip()
    elif isinstance(raw, str):
        sku, _, number = raw.strip().rpartition(":")
        sku, number = sku.strip(), number.strip()
    else:
        raise ValidationError("Chaque lot est un numéro de lot (texte).", "lots")
    if not number:
        raise ValidationError("Un numéro de lot est vide.", "lots")
    return LotReference(sku.upper(), number, raw if isinstance(raw, str) else number)


def immediate_action(data: dict) -> str:
    return v.text(data, "immediate_action", required=False, max_length=2000)


def nc_cost(data: dict) -> Decimal:
    return v.decimal(data, "cost", minimum=Decimal(0), maximum=MAX_COST, max_places=2)


@dataclass(frozen=True)
class Effectiveness:
    effectiveness: str
    effective: bool


def effectiveness(data: dict) -> Effectiveness:
    """The effectiveness check of a non-conformity: what was seen, and whether it worked (required)."""
    note = v.text(data, "effectiveness", max_length=3000)
    if data.get("effective") in (None, ""):
        raise ValidationError("Le champ « effective » (efficace : oui / non) est obligatoire.", "effective")
    return Effectiveness(note, v.boolean(data, "effective"))


# -- audits ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CompanyQuestion:
    clause: str
    question: str


@dataclass(frozen=True)
class NewAudit:
    standards: tuple[str, ...]
    audit_date: date
    duration_hours: Decimal
    process: str
    title: str
    scope: str
    criteria: str
    audit_type: str
    auditors: str               # "": the actor
    auditees: str
    clauses: frozenset[str] | None       # None: every sub-clause of the standards
    questions: tuple[CompanyQuestion, ...]
    programme_entry: int | None


def audit(data: dict, now: datetime) -> NewAudit:
    """An audit of a process against standards, done today or before, with its chosen clauses and the
    company's own questions."""
    keys = _standards(data)
    today = clock.paris_day(now)
    audit_date = v.date_field(data, "audit_date", required=False, default=today)
    if audit_date > today:
        raise ValidationError("Un audit se saisit le jour où il est réalisé, pas avant.", "audit_date")
    duration = v.decimal(data, "duration_hours", required=False, positive=True, maximum=Decimal(200),
                         max_places=1) or Decimal(2)
    process = v.text(data, "process", max_length=120)
    return NewAudit(
        standards=keys, audit_date=audit_date, duration_hours=duration, process=process,
        title=v.text(data, "title", required=False, max_length=200, default=f"Audit interne – {process}"),
        scope=v.text(data, "scope", required=False, max_length=2000),
        criteria=v.text(data, "criteria", required=False, max_length=2000,
                        default=", ".join(standards()[k]["label"] for k in keys)),
        audit_type=v.choice(data, "audit_type", tuple(AUDIT_TYPES), default="process"),
        auditors=v.text(data, "auditors", required=False, max_length=300),
        auditees=v.text(data, "auditees", required=False, max_length=300),
        clauses=_chosen_clauses(keys, data.get("clauses")), questions=_company_questions(data.get("questions")),
        programme_entry=v.identifier(data, "programme_entry", required=False))


def _standards(data: dict) -> tuple[str, ...]:
    keys = data.get("standards") or ["iso9001"]
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(keys, list) or any(not isinstance(k, str) or k not in standards() for k in keys):
        raise ValidationError(f"Le champ « standards » doit lister : {', '.join(standards())}.", "standards")
    return tuple(dict.fromkeys(keys))


def _chosen_clauses(keys: tuple[str, ...], clauses) -> frozenset[str] | None:
    if clauses in (None, "", []):
        return None
    if not (isinstance(clauses, list) and all(isinstance(c, str) for c in clauses)):
        raise ValidationError("Le champ « clauses » doit lister des numéros d'article (ex. « 8.4 »).", "clauses")
    chosen = frozenset(c.strip() for c in clauses)
    unknown = chosen - {c for key in keys for c in clause_titles([key])}
    if unknown:
        raise ValidationError(f"Article(s) inconnu(s) des référentiels choisis : {', '.join(sorted(unknown))}.",
                              "clauses")
    return chosen


def _company_questions(questions) -> tuple[CompanyQuestion, ...]:
    """Lines of text, or texts and {clause, question}; blank ones are skipped."""
    if isinstance(questions, str):
        questions = [line for line in questions.splitlines() if line.strip()]
    rows = []
    for item in questions or []:
        if not isinstance(item, (str, dict)):
            raise ValidationError("Chaque question de l'entreprise est un texte ou {clause, question}.", "questions")
        text = item if isinstance(item, str) else str(item.get("question") or "")
        clause = "" if isinstance(item, str) else str(item.get("clause") or "")
        if text.strip():
            rows.append(CompanyQuestion(clause.strip()[:10], text.strip()[:2000]))
    return tuple(rows)


def question(data: dict) -> CompanyQuestion:
    return CompanyQuestion(v.text(data, "clause", required=False, max_length=10),
                           v.text(data, "question", max_length=2000))


@dataclass(frozen=True)
class NewFinding:
    clause: str
    kind: str
    evidence: str


def finding(data: dict, known_clauses: set[str], standard_keys) -> NewFinding:
    """A finding on one of the audit's clauses (`known_clauses`: its standards' and its own questions')."""
    clause = v.text(data, "clause", max_length=10)
    if clause not in known_clauses:
        raise ValidationError(f"L'article « {clause} » n'existe pas dans les référentiels de l'audit "
                              f"({', '.join(standard_keys)}).", "clause")
    return NewFinding(clause, v.choice(data, "kind", tuple(FINDING_KINDS)), v.text(data, "evidence", max_length=5000))


def audit_conclusions(data: dict) -> str:
    return v.text(data, "conclusions", max_length=5000)


@dataclass(frozen=True)
class NewProgrammeEntry:
    year: int
    month: int
    process: str
    standard: str


def programme_entry(data: dict) -> NewProgrammeEntry:
    return NewProgrammeEntry(year=v.integer(data, "year", minimum=2000, maximum=2100),
                             month=v.integer(data, "month", minimum=1, maximum=12),
                             process=v.text(data, "process", max_length=120),
                             standard=v.choice(data, "standard", tuple(standards()), default="iso9001"))


# -- context analysis, regulatory reviews, planning -------------------------------------------

MAX_LINES = 30
MAX_PARTIES = 40
MAX_TASKS = 100


@dataclass(frozen=True)
class ContextInput:
    swot: dict[str, list[str]]
    pestel: dict[str, list[str]]
    parties: list[dict]
    scope: str
    title: str            # "": the service's default
    description: str


def context(data: dict) -> ContextInput:
    """A context analysis: SWOT, PESTEL and interested parties, at least one line among them."""
    swot = {key: _lines(data, key) for key in SWOT}
    pestel = {key: _lines(data, key) for key in PESTEL}
    parties = _parties(data)
    if not any(swot.values()) and not any(pestel.values()) and not parties:
        raise ValidationError("Une analyse de contexte contient au moins une ligne SWOT, PESTEL ou une partie "
                              "intéressée.", "strengths")
    scope = v.text(data, "scope", required=False, max_length=300)
    return ContextInput(swot, pestel, parties, scope, *_title_and_description(data))


def _title_and_description(data: dict) -> tuple[str, str]:
    return (v.text(data, "title", required=False, max_length=200),
            v.text(data, "description", required=False, max_length=3000))


def _lines(data: dict, field: str) -> list[str]:
    """A list of short texts: a JSON list, or one line per item (a form's textarea)."""
    value = data.get(field) or []
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list) or not all(isinstance(line, str) for line in value):
        raise ValidationError(f"Le champ « {field} » doit être une liste de textes.", field)
    lines = [line.strip() for line in value if line.strip()]
    if len(lines) > MAX_LINES or any(len(line) > 300 for line in lines):
        raise ValidationError(f"Le champ « {field} » : au plus {MAX_LINES} lignes de 300 caractères.", field)
    return lines


def _parties(data: dict) -> list[dict]:
    value = data.get("parties") or []
    if not isinstance(value, list) or len(value) > MAX_PARTIES:
        raise ValidationError(f"Le champ « parties » doit être une liste d'au plus {MAX_PARTIES} parties.", "parties")
    parties = []
    for index, row in enumerate(value):
        if not isinstance(row, dict):
            raise ValidationError(f"Partie intéressée n° {index + 1} : objet attendu.", "parties")
        if not str(row.get("party") or "").strip() and not str(row.get("needs") or "").strip():
            continue   # an empty line of the form
        try:
            parties.append({"party": v.text(row, "party", max_length=200), "needs": v.text(row, "needs", max_length=1000),
                            "priority": v.integer(row, "priority", minimum=1, maximum=3)})
        except ValidationError as exc:
            raise ValidationError(f"Partie intéressée n° {index + 1} : {exc.message}", "parties") from None
    return sorted(parties, key=lambda p: p["priority"])


@dataclass(frozen=True)
class ReviewItemInput:
    text_id: int
    compliance: str
    action: str
    findings: str


@dataclass(frozen=True)
class RegulatoryReviewInput:
    items: tuple[ReviewItemInput, ...]
    title: str            # "": the service's default
    description: str
    conclusions: str


def regulatory_review(data: dict) -> RegulatoryReviewInput:
    """items: [{"text_id", "compliance", "findings", "action"}], each text once."""
    items = data.get("items")
    if not isinstance(items, list) or not items:
        raise ValidationError("Choisissez au moins un texte du registre à revoir.", "items")
    ids = [v.identifier(item if isinstance(item, dict) else {}, "text_id") for item in items]
    if len(set(ids)) != len(ids):
        raise ValidationError("Un même texte est revu deux fois.", "items")
    conclusions = v.text(data, "conclusions", required=False, max_length=5000)
    title, description = _title_and_description(data)
    reviewed = tuple(ReviewItemInput(text_id, v.choice(item, "compliance", REVIEWED_COMPLIANCE),
                                     v.text(item, "action", required=False, max_length=2000),
                                     v.text(item, "findings", required=False, max_length=3000))
                     for text_id, item in zip(ids, items))
    return RegulatoryReviewInput(reviewed, title, description, conclusions)


REVIEWED_COMPLIANCE = tuple(k for k in REG_COMPLIANCE if k != "to_assess")


@dataclass(frozen=True)
class TaskInput:
    name: str
    start: date
    end: date
    milestone: bool
    responsible: str


@dataclass(frozen=True)
class PlanningInput:
    tasks: tuple[TaskInput, ...]
    horizon: str
    title: str            # "": the service's default
    description: str


def planning(data: dict) -> PlanningInput:
    """A QSE planning: 1 to MAX_TASKS activities or milestones (a form's blank rows are dropped)."""
    rows = data.get("tasks")
    if not isinstance(rows, list):
        raise ValidationError("Le champ « tasks » doit être une liste d'activités.", "tasks")
    rows = [row for row in rows if not isinstance(row, dict) or any(str(val).strip() for val in row.values())]
    if not rows or len(rows) > MAX_TASKS:
        raise ValidationError(f"Un planning compte de 1 à {MAX_TASKS} activités ou jalons.", "tasks")
    tasks = tuple(_task(row if isinstance(row, dict) else {}, index) for index, row in enumerate(rows))
    horizon = v.text(data, "horizon", required=False, max_length=120)
    return PlanningInput(tasks, horizon, *_title_and_description(data))


def _task(row: dict, index: int) -> TaskInput:
    try:
        name = v.text(row, "name", max_length=200)
        start = v.date_field(row, "start")
        milestone = v.boolean(row, "milestone")
        end = start if milestone else v.date_field(row, "end")
    except ValidationError as exc:
        raise ValidationError(f"Ligne {index + 1} du planning : {exc.message}", exc.field) from None
    if end < start:
        raise ValidationError(f"Ligne {index + 1} du planning : la fin précède le début.", "end")
    if (end - start) > timedelta(days=3 * 366):
        raise ValidationError(f"Ligne {index + 1} du planning : plus de trois ans.", "end")
    return TaskInput(name, start, end, milestone, v.text(row, "responsible", required=False, max_length=120))


# -- the filters of the lists (query strings) --------------------------------------------------

def _filter(args, field: str, choices) -> str:
    """One filter of a list: "" (no filter) or one of `choices`."""
    value = args.get(field, "")
    return v.choice({field: value}, field, tuple(choices)) if value else ""


def nc_filters(args) -> dict[str, str]:
    """The non-conformity register's filters; status "active" is every NC not closed."""
    status = args.get("status", "")
    return {"status": status if status == "active" else _filter(args, "status", NC_STATUSES),
            "severity": _filter(args, "severity", NC_SEVERITIES), "source": _filter(args, "source", NC_SOURCES),
            "q": args.get("q", "")}


def audit_filters(args) -> dict[str, str]:
    return {"status": _filter(args, "status", ("in_progress", "done")), "process": args.get("process", "")}


def event_kind(args) -> str:
    return _filter(args, "kind", EVENT_KINDS)


def regulatory_filters(args) -> dict[str, str]:
    return {"domain": _filter(args, "domain", REG_DOMAINS), "compliance": _filter(args, "compliance", REG_COMPLIANCE),
            "q": args.get("q", "")}


def risk_category(args) -> str:
    return _filter(args, "category", RISK_CATEGORIES)


@dataclass(frozen=True)
class ReceptionReference:
    number: int | None    # a reception number, or
    delivery_note: str    # the delivery note a scanner reads on the BL
    label: str            # as typed, for the error when it is not found


def reception_reference(reference) -> ReceptionReference:
    value = str(reference or "").strip()
    if not value:
        raise ValidationError("Indiquez le n° de réception ou le bon de livraison.", "reception")
    if value.isdigit():
        return ReceptionReference(v.identifier({"reception": value}, "reception"), "", value)
    return ReceptionReference(None, value.upper(), value)
