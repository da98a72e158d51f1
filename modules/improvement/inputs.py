"""Raw input → the typed values the improvement services take (issue 13: input is parsed in handlers).

A page's form or an API body is a dict of strings and JSON values; each function here reads one
request's fields with shopfloor.validation, every error naming its field. Services keep the rules
that need the database or the record's state (who may change it, the freeze, a step limit)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from modules.improvement.models import (
    ACTION_KINDS, CATEGORIES_5M, IDEA_STATUSES, METHODS, PDCA_STAGES, STANDARD_KINDS)
from modules.improvement.pareto import clean_items
from shopfloor import validation as v
from shopfloor.errors import ValidationError

MAX_SCORE = 10
# The problem sheet's free texts: QQOQCCP, then its team, data, root cause, standardisation, effectiveness.
SHEET_TEXTS = ("qui", "quoi", "ou", "quand", "comment", "combien", "pourquoi", "team_members", "data_note",
               "root_cause", "standardisation", "effectiveness")


# -- action effectiveness --------------------------------------------------------------------

EFFECTIVENESS_NUMBERS = ("before", "target", "after")


@dataclass(frozen=True)
class Effectiveness:
    """An action's effectiveness check as sent: the numbers named change (None clears one), the others stay."""
    indicator: str = ""                       # "": the one already recorded
    numbers: dict[str, float | None] = field(default_factory=dict)
    checked_on: date | None = None            # None: the day the value after is recorded


def effectiveness(data) -> Effectiveness:
    if not isinstance(data, dict):
        raise ValidationError("« effectiveness » doit être un objet {indicator, before, target, after}.",
                              "effectiveness")
    indicator = v.text(data, "indicator", max_length=200, required=False)
    numbers = {}
    for key in EFFECTIVENESS_NUMBERS:
        if key in data:
            number = v.decimal(data, key, required=False)
            numbers[key] = float(number) if number is not None else None
    checked_on = v.parse_date(data["checked_on"], "checked_on") if data.get("checked_on") else None
    return Effectiveness(indicator, numbers, checked_on)


# -- actions ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class NewAction:
    """An action as typed by a person or a client: the service adds its owner, origin, plan and team."""
    title: str
    deliverable: str
    due: date
    pdca: str = "do"
    kind: str = "corrective"
    planned_start: date | None = None     # None: the day it is created


def new_action(data) -> NewAction:
    return NewAction(title=v.text(data, "title", max_length=200),
                     deliverable=v.text(data, "deliverable", max_length=500),
                     due=v.date_field(data, "due"),
                     pdca=v.choice(data, "pdca", PDCA_STAGES, default="do"),
                     kind=v.choice(data, "kind", ACTION_KINDS, default="corrective"),
                     planned_start=v.date_field(data, "planned_start", required=False))


# -- action plans -----------------------------------------------------------------------------

@dataclass(frozen=True)
class NewPlan:
    title: str
    objective: str
    scope: str


def plan(data) -> NewPlan:
    return NewPlan(title=v.text(data, "title"), objective=v.text(data, "objective", max_length=2000),
                   scope=v.text(data, "scope", required=False, max_length=2000))


# -- ideas -------------------------------------------------------------------------------

@dataclass(frozen=True)
class NewIdea:
    title: str
    description: str


@dataclass(frozen=True)
class IdeaAnswer:
    status: str
    answer: str


def idea(data) -> NewIdea:
    return NewIdea(title=v.text(data, "title"), description=v.text(data, "description", required=False, max_length=5000))


def idea_answer(data) -> IdeaAnswer:
    status, answer = data.get("status", ""), data.get("answer", "")
    if status not in IDEA_STATUSES:
        raise ValidationError(f"Statut attendu : {', '.join(IDEA_STATUSES)}.", "status")
    if status == "rejected" and not (answer or "").strip():
        raise ValidationError("Expliquez pourquoi l'idée n'est pas retenue.", "answer")
    return IdeaAnswer(status=status, answer=(answer or "").strip()[:2000])


# -- decision studies ----------------------------------------------------------------------

@dataclass(frozen=True)
class DecisionMatrix:
    criteria: list[dict]
    options: list[dict]
    question: str
    chosen: str


@dataclass(frozen=True)
class NewDecision:
    title: str
    matrix: DecisionMatrix


def _number(value, field: str, *, minimum: float = 0, maximum: float | None = None, required: bool = True):
    if value is None or value == "":
        if required:
            raise ValidationError(f"Le champ « {field} » est obligatoire.", field)
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(str(value).replace(",", "."))
    except (TypeError, ValueError):
        raise ValidationError(f"Le champ « {field} » doit être un nombre.", field) from None
    if number != number or number < minimum or (maximum is not None and number > maximum):
        limit = f"entre {minimum:g} et {maximum:g}" if maximum is not None else f"au moins {minimum:g}"
        raise ValidationError(f"Le champ « {field} » doit valoir {limit}.", field)
    return number


def _criteria(criteria) -> list[dict]:
    if not isinstance(criteria, list) or not criteria or len(criteria) > 20:
        raise ValidationError("Donnez de 1 à 20 critères {name, weight}.", "criteria")
    clean = []
    for index, criterion in enumerate(criteria, start=1):
        if not isinstance(criterion, dict):
            raise ValidationError(f"Critère {index} : objet {{name, weight}} attendu.", "criteria")
        name = v.text(criterion, "name", max_length=120) if criterion.get("name") else None
        if not name:
            raise ValidationError(f"Critère {index} : le nom est obligatoire.", "criteria")
        weight = _number(criterion.get("weight"), "weight", minimum=0)
        if weight <= 0:
            raise ValidationError(f"Critère « {name} » : le poids doit être strictement positif.", "weight")
        clean.append({"name": name, "weight": weight})
    return clean


def _options(options, criteria_count: int) -> list[dict]:
    if not isinstance(options, list) or len(options) < 2 or len(options) > 20:
        raise ValidationError("Comparez de 2 à 20 options (leviers).", "options")
    clean = []
    for index, option in enumerate(options, start=1):
        if not isinstance(option, dict) or not str(option.get("name") or "").strip():
            raise ValidationError(f"Option {index} : le nom est obligatoire.", "options")
        scores = option.get("scores")
        if not isinstance(scores, list) or len(scores) != criteria_count:
            raise ValidationError(f"Option « {option['name']} » : une note par critère "
                                  f"({criteria_count}) est attendue.", "scores")
        clean.append({
            "name": str(option["name"]).strip()[:120],
            "scores": [_number(s, "scores", minimum=0, maximum=MAX_SCORE) for s in scores],
            "cost": _number(option.get("cost"), "cost", required=False),
            "gain": _number(option.get("gain"), "gain", required=False)})
    return clean


def clean_matrix(criteria, options) -> tuple[list[dict], list[dict]]:
    clean_criteria = _criteria(criteria)
    return clean_criteria, _options(options, len(clean_criteria))


def _chosen(chosen, options: list[dict]) -> str:
    chosen = (chosen or "").strip()
    if chosen and chosen not in {o["name"] for o in options}:
        raise ValidationError(f"Le choix retenu « {chosen} » n'est pas une des options.", "chosen")
    return chosen


def _matrix(matrix: tuple[list[dict], list[dict]], question: str, chosen) -> DecisionMatrix:
    criteria, options = matrix
    return DecisionMatrix(criteria=criteria, options=options, question=question, chosen=_chosen(chosen, options))


def decision_matrix(data, criteria, options) -> DecisionMatrix:
    """A study's new matrix from the page (criteria and options read from its grid), question and choice."""
    matrix = clean_matrix(criteria, options)
    return _matrix(matrix, v.text(data, "question", required=False, max_length=2000), data.get("chosen", ""))


def decision_form(data, criteria, options) -> NewDecision:
    """A new study from the page: the matrix, then the title, the question and the choice."""
    matrix = clean_matrix(criteria, options)
    title = v.text(data, "title")
    return NewDecision(title=title, matrix=_matrix(matrix, v.text(data, "question", required=False, max_length=2000),
                                                   data.get("chosen", "")))


def decision(data) -> NewDecision:
    """A new study from the API body: the title, the question and the choice, then the matrix."""
    title = v.text(data, "title")
    question = v.text(data, "question", required=False, max_length=2000)
    chosen = v.text(data, "chosen", required=False)
    return NewDecision(title=title, matrix=_matrix(clean_matrix(data.get("criteria"), data.get("options")),
                                                   question, chosen))


# -- standards -----------------------------------------------------------------------------

@dataclass(frozen=True)
class NewStandard:
    title: str
    kind: str
    workstations: list[str]
    safety: str
    description: str = ""


@dataclass(frozen=True)
class NewStep:
    text: str
    key_point: str


def workstations(value) -> list[str]:
    if isinstance(value, str):
        value = [part for line in value.splitlines() for part in line.split(",")]
    if not isinstance(value, list):
        raise ValidationError("« workstations » : une liste de postes.", "workstations")
    stations = list(dict.fromkeys(str(each).strip()[:80] for each in value if str(each).strip()))
    if not stations:
        raise ValidationError("Indiquez au moins un poste de travail où le standard s'applique.", "workstations")
    return stations[:50]


def standard(data) -> NewStandard:
    kind = data.get("kind", "")
    if kind not in STANDARD_KINDS:
        raise ValidationError(f"Type attendu : {', '.join(STANDARD_KINDS)}.", "kind")
    return NewStandard(title=v.text(data, "title"), kind=kind, workstations=workstations(data.get("workstations", "")),
                       safety=v.text(data, "safety", required=False, max_length=2000),
                       description=v.text(data, "description", required=False, max_length=5000))


def step(data) -> NewStep:
    return NewStep(text=v.text(data, "text", max_length=1000),
                   key_point=v.text(data, "key_point", required=False, max_length=500))


# -- problem sheets ---------------------------------------------------------------------------

@dataclass(frozen=True)
class NewProblem:
    title: str
    method: str
    what: str = ""
    pareto: dict | None = None


def new_problem(data) -> NewProblem:
    return NewProblem(title=v.text(data, "title"), method=v.choice(data, "method", METHODS),
                      what=v.text(data, "what", required=False, max_length=5000), pareto=pareto(data.get("pareto")))


def pareto(value) -> dict | None:
    """The Pareto a sheet was opened from (or given later): {label, start, end, source, items}."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValidationError("« pareto » doit être un objet {label, items}.", "pareto")
    items = clean_items(value.get("items"), "pareto")
    return {"label": str(value.get("label") or "Saisie manuelle")[:200], "start": str(value.get("start") or "")[:10],
            "end": str(value.get("end") or "")[:10], "source": str(value.get("source") or "")[:60], "items": items}


def sheet_changes(changes: dict) -> dict:
    """The fields a sheet's edit sends, typed (only those sent: an absent field stays as it is)."""
    unknown = set(changes) - set(SHEET_TEXTS) - {"title", "method", "pareto", "effective", "chosen_cause_id"}
    if unknown:
        raise ValidationError(f"Champ inconnu : {', '.join(sorted(unknown))}.", sorted(unknown)[0])
    typed = {key: v.text(changes, key, required=False, max_length=5000) for key in SHEET_TEXTS if key in changes}
    if "title" in changes:
        typed["title"] = v.text(changes, "title")
    if "method" in changes:
        if changes["method"] not in METHODS:
            raise ValidationError(f"Méthode attendue : {', '.join(METHODS)}.", "method")
        typed["method"] = changes["method"]
    if "pareto" in changes:
        typed["pareto"] = pareto(changes["pareto"])
    if "effective" in changes:
        if changes["effective"] not in (True, False, None):
            raise ValidationError("« effective » vaut true, false ou null.", "effective")
        typed["effective"] = changes["effective"]
    if "chosen_cause_id" in changes:
        typed["chosen_cause_id"] = changes["chosen_cause_id"]
    return typed


# -- problem sheets: Ishikawa, bâtonnage, 5 pourquoi ------------------------------------------

@dataclass(frozen=True)
class NewCause:
    category: str
    text: str


@dataclass(frozen=True)
class NewWhy:
    answer: str
    question: str


def cause(data) -> NewCause:
    category = data.get("category", "")
    if category not in CATEGORIES_5M:
        raise ValidationError(f"Famille 5M attendue : {', '.join(CATEGORIES_5M)}.", "category")
    return NewCause(category=category, text=v.text(data, "text", max_length=300))


def voter(data) -> str:
    """A colleague named on the shared tablet (empty: the actor votes)."""
    return v.text(data, "voter", required=False, max_length=120)


def why(data) -> NewWhy:
    return NewWhy(answer=v.text(data, "answer", max_length=300),
                  question=v.text(data, "question", required=False, max_length=300))
