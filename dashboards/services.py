"""Boards, their rows and daily values: the write side of the AIC boards (boards, entries, the
snapshots the nightly job keeps). What pages, API and screens show is read in dashboards.read."""
from __future__ import annotations

import re
from calendar import monthrange
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dashboards import indicators as ind
from dashboards.inputs import NewBoard, NewEntry, NewRow
from dashboards.models import LETTERS, Board, BoardRow, DailyValue, IndicatorDefinition, Problem
from shopfloor import access, clock
from shopfloor.auth.models import Team, User
from shopfloor.errors import Forbidden, ValidationError

BACKFILL_DAYS = 62        # past days a read computes when no snapshot is kept; older gaps stay empty
JOB_DAYS = 7              # the nightly job fills the last week (catches up after a stop)


def month_end(day: date) -> date:
    return day.replace(day=monthrange(day.year, day.month)[1])


# -- Boards -------------------------------------------------------------------------

def get_board(db: Session, board_id: int) -> Board:
    """Boards are shared: every logged-in user reads them (writing on one is `can_enter`)."""
    return access.get(db, Board, board_id, field="board_id")


def list_boards(db: Session) -> list[Board]:
    return list(db.scalars(select(Board).order_by(Board.level.desc(), Board.name)))


def find_team(db: Session, team: int | str | None) -> Team | None:
    """The team inputs.team names: by id (an int) or by name (a str)."""
    if team is None:
        return None
    if isinstance(team, int):
        found = db.get(Team, team)
    else:
        found = db.scalar(select(Team).where(Team.name == team))
    if found is None:
        raise ValidationError(f"Équipe inconnue : {team}.", "team")
    return found


def _rows(rows: tuple[NewRow, ...], catalog: dict[str, ind.IndicatorInfo]) -> list[BoardRow]:
    built, seen = [], set()
    for index, row in enumerate(rows):
        field = f"rows[{index}]"
        if row.indicator not in catalog:
            raise ValidationError(f"Indicateur inconnu : {row.indicator!r}. Indicateurs disponibles : "
                                  f"{', '.join(sorted(catalog))}.", f"{field}.indicator")
        if row.indicator in seen:
            raise ValidationError(f"L'indicateur {row.indicator} figure deux fois sur le tableau.",
                                  f"{field}.indicator")
        seen.add(row.indicator)
        info, target, threshold = catalog[row.indicator], row.target, row.threshold
        if info.higher_is_better and threshold > target:
            raise ValidationError(f"{info.label} : plus c'est haut, mieux c'est ; le seuil d'alerte ({threshold:g}) "
                                  f"doit être inférieur ou égal à l'objectif ({target:g}).", f"{field}.threshold")
        if not info.higher_is_better and threshold < target:
            raise ValidationError(f"{info.label} : plus c'est bas, mieux c'est ; le seuil d'alerte ({threshold:g}) "
                                  f"doit être supérieur ou égal à l'objectif ({target:g}).", f"{field}.threshold")
        built.append(BoardRow(letter=row.letter, indicator_key=row.indicator, target=target, threshold=threshold,
                              position=index))
    return built


def create_board(db: Session, actor: User, spec: NewBoard, today: date) -> Board:
    """A board for a team (level 1), a workshop (2) or a site (3); its parent is the next level's
    board, where escalated problems go."""
    name, level, parent_id = spec.name, spec.level, spec.parent_id
    if db.scalar(select(Board.id).where(Board.name == name)) is not None:
        raise ValidationError(f"Un tableau s'appelle déjà « {name} ».", "name")
    team_row = find_team(db, spec.team)
    if level == 1 and team_row is None:
        raise ValidationError("Un tableau d'équipe (niveau 1) doit indiquer son équipe (« team »).", "team")
    parent = None
    if parent_id is not None:
        parent = db.get(Board, parent_id)
        if parent is None or parent.level != level + 1:
            raise ValidationError(f"Le tableau parent doit être un tableau de niveau {level + 1}.", "parent")
    board = Board(name=name, level=level, team=team_row, parent=parent, created_on=today,
                  site_id=team_row.site_id if team_row else (parent.site_id if parent else actor.site_id),
                  rows=_rows(spec.rows, ind.catalog(db)))
    db.add(board)
    db.flush()
    return board


def define_indicator(db: Session, actor: User, *, label: str, letter: str, unit: str, higher_is_better: bool,
                     team_id: int | None = None) -> IndicatorDefinition:
    """A manual indicator a team enters each day (its key is derived from the label)."""
    label = (label or "").strip()
    if not label or len(label) > 120:
        raise ValidationError("Le libellé est obligatoire (120 caractères au plus).", "label")
    if letter not in LETTERS:
        raise ValidationError("La lettre doit valoir S, Q, C, D, P ou M.", "letter")
    if len(unit or "") > 20:
        raise ValidationError("L'unité dépasse 20 caractères.", "unit")
    slug = re.sub(r"[^a-z0-9]+", "_", label.lower().encode("ascii", "ignore").decode()).strip("_")[:60] or "indicateur"
    key = f"equipe.{slug}"
    if key in ind.catalog(db):
        raise ValidationError(f"Un indicateur {key} existe déjà.", "label")
    definition = IndicatorDefinition(key=key, label=label, letter=letter, unit=(unit or "").strip(),
                                     higher_is_better=higher_is_better, team_id=team_id, created_by_id=actor.id)
    db.add(definition)
    db.flush()
    return definition


# -- Entries ------------------------------------------------------------------------

def can_enter(actor: User, board: Board) -> bool:
    """Tutors and admins feed any board; an apprentice feeds their own team's board."""
    return actor.role in ("admin", "tutor") or (board.team_id is not None and actor.team_id == board.team_id)


# Units of a manual indicator that count things: its daily value is a whole number, never negative.
COUNT_UNITS = ("erreurs", "récl.", "réclamations", "défauts", "accidents", "incidents", "nb")


def _check_manual_value(key: str, value: float) -> None:
    if key == ind.SAFETY_KEY and value not in ind.SAFETY_LEVELS:
        raise ValidationError("Sécurité : 0 = aucun événement, 1 = presque-accident ou soins légers, "
                              "2 = accident.", "value")
    if key == ind.MOOD_KEY and not 1 <= value <= 5:
        raise ValidationError("Humeur : une note de 1 à 5.", "value")


def check_may_enter(actor: User, board: Board) -> None:
    """The board's team, a tutor or an admin enters its values (the handlers check it before parsing)."""
    if not can_enter(actor, board):
        raise Forbidden("Seule l'équipe du tableau, un tuteur ou un administrateur peut y saisir.", "board_id")


def record_entry(db: Session, actor: User, board: Board, spec: NewEntry, today: date) -> DailyValue:
    """Enter (or correct) a manual indicator's value for a day; one value per board, indicator and day."""
    check_may_enter(actor, board)
    indicator, day, number = spec.indicator, spec.day, spec.value
    row = next((r for r in board.rows if r.indicator_key == indicator), None)
    if row is None:
        raise ValidationError(f"L'indicateur {indicator!r} ne figure pas sur ce tableau.", "indicator")
    info = ind.catalog(db).get(indicator)
    if info is None:
        raise ValidationError(f"L'indicateur {indicator} n'est plus installé.", "indicator")
    if not info.manual:
        raise ValidationError(f"{info.label} est calculé par son module : il ne se saisit pas.", "indicator")
    if day > today:
        raise ValidationError("On ne saisit pas un indicateur pour un jour à venir.", "date")
    _check_manual_value(indicator, number)
    unit = (info.unit or "").strip().lower()
    if unit == "%" and not 0 <= number <= 100:
        raise ValidationError("Le champ « value » est un pourcentage : de 0 à 100.", "value")
    if unit in COUNT_UNITS and (number < 0 or not number.is_integer()):
        raise ValidationError(f"Le champ « value » compte des {info.unit} : un nombre entier positif ou nul.", "value")
    entry = db.scalar(select(DailyValue).where(DailyValue.board_id == board.id, DailyValue.indicator_key == indicator,
                                               DailyValue.day == day))
    if entry is None:
        entry = DailyValue(board_id=board.id, indicator_key=indicator, day=day)
        db.add(entry)
    entry.value, entry.comment, entry.source, entry.author_id = number, spec.comment, "manual", actor.id
    db.flush()
    return entry


# -- Stored values and snapshots of computed indicators -------------------------------

def insert_ignore(db: Session, rows: list[dict]) -> None:
    """Insert daily values; a (board, indicator, day) already stored wins (running twice adds nothing)."""
    if not rows:
        return
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    db.execute(insert(DailyValue).on_conflict_do_nothing(index_elements=["board_id", "indicator_key", "day"]), rows)


def stored_values(db: Session, board_id: int, first: date, last: date) -> dict[tuple[str, date], float | None]:
    rows = db.execute(select(DailyValue.indicator_key, DailyValue.day, DailyValue.value)
                      .where(DailyValue.board_id == board_id, DailyValue.day.between(first, last)))
    return {(key, day): value for key, day, value in rows}


def compute(info: ind.IndicatorInfo, db: Session, day: date, board: Board) -> float | None:
    value = info.compute(db, day, board.team_id) if info.compute else None
    return float(value) if value is not None else None


def missing_snapshots(db: Session, board: Board, values: dict, first: date, last: date, today: date,
                      catalog: dict[str, ind.IndicatorInfo]) -> list[dict]:
    """Compute the past days of the module indicators not stored yet (within BACKFILL_DAYS) and add them
    to `values`; the rows a snapshot would keep are returned (today's value is never kept: it is live)."""
    start, end = max(first, today - timedelta(days=BACKFILL_DAYS)), min(last, today - timedelta(days=1))
    rows = []
    for row in board.rows:
        info = catalog.get(row.indicator_key)
        if info is None or info.manual:
            continue
        day = start
        while day <= end:
            if (row.indicator_key, day) not in values:
                value = compute(info, db, day, board)
                values[(row.indicator_key, day)] = value
                rows.append({"board_id": board.id, "indicator_key": row.indicator_key, "day": day, "value": value,
                             "source": "snapshot", "comment": ""})
            day += timedelta(days=1)
    return rows


def snapshot_job(db: Session, now: datetime, days: int = JOB_DAYS) -> str:
    """Nightly: keep the last `days` days of every module indicator on every board (safe twice). The
    only writer of snapshots: a read computes what is missing and keeps nothing."""
    today = clock.paris_day(now)
    catalog, count = ind.catalog(db), 0
    first = today - timedelta(days=days)
    for board in list_boards(db):
        values = stored_values(db, board.id, first, today)
        before = len(values)
        insert_ignore(db, missing_snapshots(db, board, values, first, today, today, catalog))
        count += len(values) - before
    db.flush()
    return f"{count} valeur(s) enregistrée(s)"


# -- Reads shared by pages, API and screens ----------------------------------------

def sorted_rows(board: Board) -> list[BoardRow]:
    return sorted(board.rows, key=lambda r: (LETTERS.index(r.letter), r.position))


def problem_pareto(db: Session, board_id: int, first: date, last: date) -> list[tuple[str, int]]:
    """Problems raised on the board over a period, by category, most frequent first."""
    rows = db.execute(select(Problem.category, func.count()).where(
        Problem.board_id == board_id, Problem.raised_on.between(first, last))
        .group_by(Problem.category).order_by(func.count().desc(), Problem.category))
    return [(category, count) for category, count in rows]
