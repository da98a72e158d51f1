"""Decision tools: a weighted multi-criteria matrix and, per lever, cost, gain, ROI and payback time."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from modules.improvement.models import DecisionStudy
from shopfloor import access
from shopfloor.auth.models import User
from shopfloor.errors import Forbidden, ValidationError
from shopfloor.evidence.activities import new_activity
from shopfloor.evidence.services import ensure_editable
from shopfloor.validation import text

MAX_SCORE = 10


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


def clean_matrix(criteria, options) -> tuple[list[dict], list[dict]]:
    if not isinstance(criteria, list) or not criteria or len(criteria) > 20:
        raise ValidationError("Donnez de 1 à 20 critères {name, weight}.", "criteria")
    clean_criteria = []
    for index, criterion in enumerate(criteria, start=1):
        if not isinstance(criterion, dict):
            raise ValidationError(f"Critère {index} : objet {{name, weight}} attendu.", "criteria")
        name = text(criterion, "name", max_length=120) if criterion.get("name") else None
        if not name:
            raise ValidationError(f"Critère {index} : le nom est obligatoire.", "criteria")
        weight = _number(criterion.get("weight"), "weight", minimum=0)
        if weight <= 0:
            raise ValidationError(f"Critère « {name} » : le poids doit être strictement positif.", "weight")
        clean_criteria.append({"name": name, "weight": weight})
    if not isinstance(options, list) or len(options) < 2 or len(options) > 20:
        raise ValidationError("Comparez de 2 à 20 options (leviers).", "options")
    clean_options = []
    for index, option in enumerate(options, start=1):
        if not isinstance(option, dict) or not str(option.get("name") or "").strip():
            raise ValidationError(f"Option {index} : le nom est obligatoire.", "options")
        scores = option.get("scores")
        if not isinstance(scores, list) or len(scores) != len(clean_criteria):
            raise ValidationError(f"Option « {option['name']} » : une note par critère "
                                  f"({len(clean_criteria)}) est attendue.", "scores")
        clean_options.append({
            "name": str(option["name"]).strip()[:120],
            "scores": [_number(s, "scores", minimum=0, maximum=MAX_SCORE) for s in scores],
            "cost": _number(option.get("cost"), "cost", required=False),
            "gain": _number(option.get("gain"), "gain", required=False)})
    return clean_criteria, clean_options


def create_decision(db: Session, actor: User, *, title: str, question: str, criteria, options, now: datetime,
                    chosen: str = "") -> DecisionStudy:
    clean_criteria, clean_options = clean_matrix(criteria, options)
    study = new_activity(DecisionStudy, actor, now, title=text({"title": title}, "title"),
                         question=text({"question": question}, "question", required=False, max_length=2000),
                         criteria=clean_criteria, options=clean_options, chosen=_chosen(chosen, clean_options))
    db.add(study)
    db.flush()
    return study


def _chosen(chosen: str, options: list[dict]) -> str:
    chosen = (chosen or "").strip()
    if chosen and chosen not in {o["name"] for o in options}:
        raise ValidationError(f"Le choix retenu « {chosen} » n'est pas une des options.", "chosen")
    return chosen


def update_decision(db: Session, actor: User, study: DecisionStudy, *, criteria, options, question: str,
                    chosen: str = "") -> DecisionStudy:
    if actor.id != study.author_id:
        raise Forbidden("Seul l'auteur de l'étude peut la modifier.", "decision_id")
    ensure_editable(study)
    study.criteria, study.options = clean_matrix(criteria, options)
    study.question = text({"question": question}, "question", required=False, max_length=2000)
    study.chosen = _chosen(chosen, study.options)
    db.flush()
    return study


def list_decisions(db: Session, actor: User, limit: int = 100) -> list[DecisionStudy]:
    return list(db.scalars(select(DecisionStudy).where(access.visible_filter(DecisionStudy, actor))
                           .order_by(DecisionStudy.performed_at.desc()).limit(limit)))
