"""The indicators a board can show: those the modules register, and the manual ones entered by teams.

Manual indicators (safety, mood, and the ones a team defines) are typed in each day on a board.
Their `compute` reads those entries for a team (or the whole site), so a workshop board can show
the worst safety event or the mean mood of its teams."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboards.models import Board, DailyValue, IndicatorDefinition
from shopfloor.registry import Indicator, registry_of

SAFETY_KEY, MOOD_KEY = "aic.safety", "aic.mood"
SAFETY_LEVELS = {0: "Aucun événement", 1: "Presque-accident ou soins légers", 2: "Accident"}
STATUSES = ("green", "orange", "red", "grey")
SYMBOLS = {"green": "✔", "orange": "▲", "red": "✖", "grey": "–"}
STATUS_LABELS = {"green": "Objectif atteint", "orange": "Sous surveillance", "red": "Hors seuil",
                 "grey": "Pas de donnée"}


def _manual_value(key: str, aggregate) -> Callable[[Session, date, int | None], float | None]:
    def compute(db: Session, day: date, team_id: int | None) -> float | None:
        query = (select(aggregate(DailyValue.value)).join(Board, Board.id == DailyValue.board_id)
                 .where(DailyValue.indicator_key == key, DailyValue.day == day, DailyValue.source == "manual"))
        if team_id is not None:
            query = query.where(Board.team_id == team_id)
        value = db.scalar(query)
        return float(value) if value is not None else None
    return compute


SAFETY = Indicator(SAFETY_KEY, "Sécurité : événement du jour", "S", "", False, _manual_value(SAFETY_KEY, func.max))
MOOD = Indicator(MOOD_KEY, "Humeur de l'équipe (1 à 5)", "M", "/5", True, _manual_value(MOOD_KEY, func.avg))
INDICATORS = [SAFETY, MOOD]
MANUAL_KEYS = {SAFETY_KEY, MOOD_KEY}


@dataclass(frozen=True)
class IndicatorInfo:
    key: str
    label: str
    letter: str
    unit: str
    higher_is_better: bool
    manual: bool
    compute: Callable[[Session, date, int | None], float | None] | None


def catalog(db: Session) -> dict[str, IndicatorInfo]:
    """Every indicator a board row may reference, by key."""
    infos = {k: IndicatorInfo(k, i.label, i.letter, i.unit, i.higher_is_better, k in MANUAL_KEYS, i.compute)
             for k, i in registry_of(db).indicators.items()}
    for d in db.scalars(select(IndicatorDefinition)):
        infos[d.key] = IndicatorInfo(d.key, d.label, d.letter, d.unit, d.higher_is_better, True,
                                     _manual_value(d.key, func.avg))
    return infos


def status(value: float | None, target: float | None, threshold: float | None, higher_is_better: bool) -> str:
    """green: target met; orange: between target and threshold (threshold included); red: beyond it;
    grey: no data."""
    if value is None or target is None or threshold is None:
        return "grey"
    if higher_is_better:
        return "green" if value >= target else "orange" if value >= threshold else "red"
    return "green" if value <= target else "orange" if value <= threshold else "red"


def worst(statuses) -> str:
    """The status of a letter on a day: its worst indicator (grey only when nothing has data)."""
    present = [s for s in statuses if s != "grey"]
    for candidate in ("red", "orange", "green"):
        if candidate in present:
            return candidate
    return "grey"
