"""Raw input → the typed values the dashboards' services take (issue 13: input is parsed in handlers).

A page's form, an API body or a query string is read here with shopfloor.validation, every error naming
its field; the services keep the rules that need the board, its indicators or the day."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dashboards.models import LETTERS, LEVELS
from shopfloor import clock
from shopfloor import validation as v
from shopfloor.errors import ValidationError


@dataclass(frozen=True)
class NewEntry:
    indicator: str
    day: date
    value: float
    comment: str = ""


@dataclass(frozen=True)
class NewRow:
    letter: str
    indicator: str
    target: float
    threshold: float


@dataclass(frozen=True)
class NewBoard:
    name: str
    level: int
    team: int | str | None
    rows: tuple[NewRow, ...]
    parent_id: int | None = None


def new_board(data: dict) -> NewBoard:
    """The API's board: « level » a JSON number, « rows » a list of {letter, indicator, target, threshold}."""
    name = data.get("name")
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise ValidationError("Le champ « name » est obligatoire.", "name")
    if len(name) > 120:
        raise ValidationError("Le champ « name » dépasse 120 caractères.", "name")
    level = data.get("level")
    if isinstance(level, bool) or level not in LEVELS:
        raise ValidationError("Le champ « level » doit valoir 1 (équipe), 2 (atelier) ou 3 (site).", "level")
    return NewBoard(name, level, team(data.get("team")), rows(data.get("rows")), parent(data.get("parent")))


def board_form(form, row_count: int) -> NewBoard:
    """The page's board: the numbered row fields that name an indicator."""
    listed = [{"letter": form.get(f"letter_{i}"), "indicator": key, "target": form.get(f"target_{i}"),
               "threshold": form.get(f"threshold_{i}")}
              for i in range(row_count) if (key := (form.get(f"indicator_{i}") or "").strip())]
    level = v.integer(form, "level", minimum=1, maximum=3)
    parent_id = v.identifier(form, "parent", required=False)
    return NewBoard(v.text(form, "name", max_length=120), level, team(form.get("team")), rows(listed), parent_id)


def rows(value) -> tuple[NewRow, ...]:
    if not isinstance(value, list) or not value:
        raise ValidationError("Le champ « rows » doit être une liste d'au moins un indicateur.", "rows")
    return tuple(_row(row, f"rows[{index}]") for index, row in enumerate(value))


def _row(row, field: str) -> NewRow:
    if not isinstance(row, dict):
        raise ValidationError(f"« {field} » doit être un objet {{letter, indicator, target, threshold}}.", field)
    letter = row.get("letter")
    if letter not in LETTERS:
        raise ValidationError(f"« {field}.letter » doit valoir S, Q, C, D, P ou M.", f"{field}.letter")
    key = row.get("indicator")
    if not isinstance(key, str):
        raise ValidationError(f"Indicateur inconnu : {key!r}.", f"{field}.indicator")
    return NewRow(letter, key, _number(row, "target", f"{field}.target"),
                  _number(row, "threshold", f"{field}.threshold"))


def _number(row: dict, name: str, field: str) -> float:
    return float(v.decimal({field: row.get(name)}, field))


def team(value) -> int | str | None:
    """A team named by its id (a number, or digits) or its name; None when none is given."""
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValidationError("Le champ « team » doit être le nom ou l'identifiant d'une équipe.", "team")
    if isinstance(value, int) or value.isdigit():
        return v.integer({"team": value}, "team", minimum=1, maximum=v.ID_MAX)
    return value.strip()


def parent(value) -> int | None:
    """The next level's board, by id (the API's « parent »)."""
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("Le champ « parent » doit être l'identifiant d'un tableau.", "parent")
    return v.integer({"parent": value}, "parent", minimum=1, maximum=v.ID_MAX)


def entry(data) -> NewEntry:
    """A manual indicator's value for a day, from the board's form or the API body."""
    indicator = v.text(data, "indicator", max_length=80)
    day = v.date_field(data, "date")
    return NewEntry(indicator=indicator, day=day, value=float(v.decimal(data, "value")),
                    comment=v.text(data, "comment", required=False, max_length=2000))


@dataclass(frozen=True)
class NewScreen:
    name: str
    board_ids: list[int]
    refresh_seconds: int = 60
    cycle_seconds: int = 30


def board_ids(raw_ids) -> list[int]:
    """The boards a screen shows, in order, each once."""
    if not isinstance(raw_ids, (list, tuple)) or not raw_ids:
        raise ValidationError("Choisissez au moins un tableau à afficher.", "boards")
    ids = []
    for raw in raw_ids:
        try:
            board_id = int(raw)
            if not 1 <= board_id <= v.ID_MAX:
                raise ValueError
        except (TypeError, ValueError):
            raise ValidationError(f"Tableau invalide : {raw!r}.", "boards") from None
        if board_id not in ids:
            ids.append(board_id)
    return ids


def screen(form) -> NewScreen:
    """A workshop screen from the admin's form (the boards are a multi-valued field)."""
    name = v.text(form, "name", max_length=120)
    refresh = v.integer(form, "refresh_seconds", minimum=10, maximum=3600)
    cycle = v.integer(form, "cycle_seconds", minimum=5, maximum=3600)
    return NewScreen(name=name, board_ids=board_ids(form.getlist("boards")), refresh_seconds=refresh,
                     cycle_seconds=cycle)


def month(args, today: date) -> date:
    """`?month=YYYY-MM` → the first day of that month (default: this month); never a month to come."""
    value = args.get("month")
    if not value:
        return clock.month_start(today)
    first = v.parse_date(f"{value}-01" if len(str(value)) == 7 else value, "month").replace(day=1)
    if first > today:
        raise ValidationError("Ce mois n'a pas encore commencé.", "month")
    return first
