"""The read side of the AIC boards: a board's day as data (what pages, API, screens and exports show).

Reading never writes: stored entries and the snapshots the nightly job keeps
(`services.snapshot_job`) are read, the past days it has not kept yet are computed on the fly,
today's module values are computed live."""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import Session

from dashboards import indicators as ind
from dashboards import meetings, services
from dashboards.models import LETTERS, Board, BoardRow, DailyValue, Escalation
from shopfloor import clock
from shopfloor.errors import ValidationError


def values_for(db: Session, board: Board, first: date, last: date, today: date,
               catalog: dict[str, ind.IndicatorInfo]) -> dict:
    """Every value of the board between two days: stored entries and snapshots, missing past snapshots
    computed (not kept), today's module values computed live."""
    values = services.stored_values(db, board.id, first, last)
    if board.level > 1:
        _aggregate_lower_boards(db, board, values, first, last, catalog)
    services.missing_snapshots(db, board, values, first, last, today, catalog)
    if first <= today <= last:
        for row in board.rows:
            info = catalog.get(row.indicator_key)
            if info is not None and not info.manual:
                values[(row.indicator_key, today)] = services.compute(info, db, today, board)
    return values


def _aggregate_lower_boards(db: Session, board: Board, values: dict, first: date, last: date,
                            catalog: dict[str, ind.IndicatorInfo]) -> None:
    """A workshop or site board shows its teams' manual indicators (the worst safety event, the mean of
    the others) on the days it has no entry of its own: one statement for every level below and every
    manual indicator."""
    manual = [r.indicator_key for r in board.rows if (info := catalog.get(r.indicator_key)) and info.manual]
    if not manual:
        return
    for key, day, value in db.execute(_lower_aggregate(), {"board_id": board.id, "keys": manual,
                                                           "first": first, "last": last}):
        if value is not None:
            values.setdefault((key, day), round(float(value), 2))


@lru_cache(maxsize=1)
def _lower_aggregate():
    """Per indicator and day, over the boards below (recursively): max for safety, mean for the others."""
    lower = select(Board.id).where(Board.parent_id == bindparam("board_id")).cte("lower_boards", recursive=True)
    lower = lower.union(select(Board.id).where(Board.parent_id == lower.c.id))   # UNION: ends even on a cycle
    value = case((DailyValue.indicator_key == ind.SAFETY_KEY, func.max(DailyValue.value)),
                 else_=func.avg(DailyValue.value))
    return (select(DailyValue.indicator_key, DailyValue.day, value)
            .where(DailyValue.board_id.in_(select(lower.c.id)), DailyValue.source == "manual",
                   DailyValue.indicator_key.in_(bindparam("keys", expanding=True)),
                   DailyValue.day.between(bindparam("first"), bindparam("last")))
            .group_by(DailyValue.indicator_key, DailyValue.day))


def _row_data(row: BoardRow, info: ind.IndicatorInfo | None, values: dict, days: list[date]) -> dict:
    higher = info.higher_is_better if info else True
    month = []
    for day in days:
        value = values.get((row.indicator_key, day)) if info else None
        month.append({"date": day.isoformat(), "value": value,
                      "status": ind.status(value, row.target, row.threshold, higher)})
    current = month[-1]
    return {"letter": row.letter, "indicator": row.indicator_key,
            "label": info.label if info else row.indicator_key, "unit": info.unit if info else "",
            "value": current["value"], "target": row.target, "threshold": row.threshold,
            "status": current["status"], "symbol": ind.SYMBOLS[current["status"]],
            "higher_is_better": higher, "manual": bool(info and info.manual),
            "note": None if info else "Indicateur non installé : son module n'est pas chargé.",
            "month": month}


def board_data(db: Session, board: Board, day: date, today: date) -> dict:
    """The board on `day`: each row's value and status, its month so far, the actions and escalations."""
    if day > today:
        raise ValidationError("Le tableau ne se consulte pas pour un jour à venir.", "date")
    catalog = ind.catalog(db)
    first = clock.month_start(day)
    values = values_for(db, board, first, day, today, catalog)
    days = [first + timedelta(days=n) for n in range((day - first).days + 1)]
    rows = [_row_data(row, catalog.get(row.indicator_key), values, days) for row in services.sorted_rows(board)]
    letters = {}
    for letter in LETTERS:
        mine = [r for r in rows if r["letter"] == letter]
        if mine:
            letters[letter] = [ind.worst(r["month"][i]["status"] for r in mine) for i in range(len(days))]
    return {"board": {"id": board.id, "name": board.name, "level": board.level,
                      "team": board.team.name if board.team else None},
            "date": day.isoformat(), "rows": rows, "letters": letters,
            "actions": meetings.board_actions(db, board, today),
            "escalations": [escalation_dict(e) for e in meetings.open_escalations(db, board.id)]}


def escalation_dict(e: Escalation) -> dict:
    return {"id": e.id, "problem": e.problem.title, "letter": e.problem.letter, "category": e.problem.category,
            "from_board": e.from_board.name, "reason": e.reason, "raised_by": e.raised_by.full_name,
            "raised_at": e.raised_at.isoformat(), "answered_at": e.answered_at.isoformat() if e.answered_at else None,
            "answer": e.answer}
