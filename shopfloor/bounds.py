"""The backstop at flush: no value reaches the database that its column cannot hold.

Parsers (shopfloor.validation) give each field the range of its meaning; this listener
enforces the range of its column, for every ORM write of every module, whatever path the
value came by (a page, the API, a job, an import, the demo). It runs before each flush on
every new or changed object and raises ValidationError naming the field (the column's
`info["label"]` when it has one, else the attribute) instead of letting the database answer
with a DataError — or, on SQLite, silently store what PostgreSQL would refuse:

- Integer within 32 bits, SmallInteger 16 bits, BigInteger 64 bits (PostgreSQL's ranges);
- Numeric(p, s): at most p − s integer digits. Decimals finer than s are rounded to s, half
  away from zero, as PostgreSQL rounds them on insert; rounding here makes SQLite store the
  same value. (Parsers refuse a value finer than its column with `max_places`; computed
  values — a cost times a quantity — are rounded, never refused.)
- Float finite; String(n) at most n characters; no NUL or lone surrogate in any string,
  JSON documents included; dates and datetimes between 1900 and 2200.
"""
from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import (JSON, BigInteger, Date, DateTime, Float, Integer, Numeric, SmallInteger, String,
                              TypeDecorator)

from shopfloor.errors import ValidationError
from shopfloor.validation import DATE_MAX, DATE_MIN, unsafe_text

INT_RANGES = ((BigInteger, 64), (SmallInteger, 16), (Integer, 32))
# A datetime is stored in UTC: 1 January 1900 00:30 in Paris is still 1899 in UTC.
DATETIME_MIN = datetime.combine(DATE_MIN - timedelta(days=1), datetime.min.time())
DATETIME_MAX = datetime.combine(DATE_MAX + timedelta(days=1), datetime.max.time())


def _label(column, key: str) -> str:
    return column.info.get("label") or key


def _refuse(column, key: str, problem: str):
    raise ValidationError(f"Le champ « {_label(column, key)} » {problem}.", key)


def _base_type(type_):
    while isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance if hasattr(type_, "impl_instance") else type_.impl
    return type_


def _check_text(column, key: str, value: str, length: int | None) -> None:
    reason = unsafe_text(value)
    if reason:
        _refuse(column, key, f"contient {reason}")
    if length is not None and len(value) > length:
        _refuse(column, key, f"dépasse {length} caractères")


def _check_json(column, key: str, value, depth: int = 0) -> None:
    if depth > 64:
        _refuse(column, key, "est imbriqué trop profondément")
    if isinstance(value, str):
        _check_text(column, key, value, None)
    elif isinstance(value, dict):
        for name, item in value.items():
            if isinstance(name, str):
                _check_text(column, key, name, None)
            _check_json(column, key, item, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_json(column, key, item, depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        _refuse(column, key, "doit être un nombre fini")


def _check_numeric(obj, column, key: str, type_: Numeric, value) -> None:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        _refuse(column, key, "doit être un nombre")
    if not number.is_finite():
        _refuse(column, key, "doit être un nombre fini")
    precision, scale = type_.precision, type_.scale
    if precision is None:
        return
    scale = scale or 0
    digits = precision - scale
    too_large = f"est trop grand (moins de 10^{digits} attendu)"
    if number != 0 and number.adjusted() >= digits:  # by the exponent: abs() of 1e999999999 overflows
        _refuse(column, key, too_large)
    rounded = number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
    if rounded != 0 and rounded.adjusted() >= digits:
        _refuse(column, key, too_large)
    if rounded != number:
        setattr(obj, key, rounded)


def check_value(obj, column, key: str, value) -> None:
    """Refuse (ValidationError naming the field) a value its column cannot hold."""
    if value is None:
        return
    type_ = _base_type(column.type)
    if isinstance(value, str):
        _check_text(column, key, value, getattr(type_, "length", None) if isinstance(type_, String) else None)
        return
    if isinstance(type_, Integer) and isinstance(value, int) and not isinstance(value, bool):
        bits = next(b for kind, b in INT_RANGES if isinstance(type_, kind))
        if not -2 ** (bits - 1) <= value < 2 ** (bits - 1):
            _refuse(column, key, "est hors des limites de sa colonne")
    elif isinstance(type_, Float):
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) and not math.isfinite(value):
            _refuse(column, key, "doit être un nombre fini")
        if isinstance(value, (int, float, Decimal)) and abs(value) >= 1e300:
            _refuse(column, key, "est trop grand")
    elif isinstance(type_, Numeric) and isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        _check_numeric(obj, column, key, type_, value)
    elif isinstance(type_, DateTime) and isinstance(value, datetime):
        naive = value.replace(tzinfo=None)
        if not DATETIME_MIN <= naive <= DATETIME_MAX:
            _refuse(column, key, f"doit être entre {DATE_MIN.year} et {DATE_MAX.year}")
    elif isinstance(type_, (Date, DateTime)) and isinstance(value, date):
        if not DATE_MIN <= (value.date() if isinstance(value, datetime) else value) <= DATE_MAX:
            _refuse(column, key, f"doit être entre {DATE_MIN.year} et {DATE_MAX.year}")
    elif isinstance(type_, JSON):
        _check_json(column, key, value)


_COLUMNS: dict = {}


def _columns(mapper):
    """(attribute key, column) for every table column mapped by the mapper (cached per mapper)."""
    cached = _COLUMNS.get(mapper)
    if cached is None:
        cached = [(prop.key, prop.columns[0]) for prop in mapper.column_attrs
                  if prop.columns and getattr(prop.columns[0], "table", None) is not None]
        _COLUMNS[mapper] = cached
    return cached


def check_object(obj) -> None:
    state = inspect(obj)
    new = state.transient or state.pending
    for key, column in _columns(state.mapper):
        if key not in state.dict:
            continue
        if not new and not state.attrs[key].history.has_changes():
            continue
        check_value(obj, column, key, state.dict[key])


def _before_flush(db: Session, _context, _instances) -> None:
    for obj in list(db.new) + list(db.dirty):
        check_object(obj)


def install(factory: sessionmaker) -> None:
    """Check every flush of the sessions this factory opens (see shopfloor.guards)."""
    event.listen(factory, "before_flush", _before_flush)
