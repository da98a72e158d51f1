"""Parsing plain input values (JSON bodies and form fields) with errors that name the field."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from shopfloor import clock
from shopfloor.errors import BadRequest, ValidationError


INT64_MIN, INT64_MAX = -2**63, 2**63 - 1
# Every id column is an Integer: 32 bits on PostgreSQL, where a larger id in a query is a
# DataError, not "no such row". An id beyond it names nothing: the same 404/422 on both databases.
ID_MAX = 2**31 - 1
# The dates any record may carry, whatever the field: enough for a birth date or a
# ten-year plan, and far from the edges where time zones and databases overflow.
DATE_MIN, DATE_MAX = date(1900, 1, 1), date(2200, 12, 31)
# No decimal field of the suite means anything at or beyond 10^15 (the widest column is
# Numeric(14, x)); refusing it here keeps Decimal arithmetic and quantize() exact.
DECIMAL_DIGITS = 15
# NUL and lone surrogates cannot be stored; the other control characters (but tab and line breaks) and
# U+FFFE/U+FFFF are not allowed in XML, so a record holding them could never be exported (DOCX, XLSX).
UNSAFE_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def unsafe_text(value: str) -> str | None:
    """Why a string cannot be stored or exported (a NUL byte, a lone surrogate, a control character), or None."""
    found = UNSAFE_TEXT.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "un caractère nul"
    return "un caractère de contrôle" if found.group() < "\x20" else "un caractère Unicode invalide"


def clean_text(value: str, field: str) -> str:
    """The string itself, or a 422 naming the field when it holds a NUL or a lone surrogate."""
    reason = unsafe_text(value)
    if reason:
        raise ValidationError(f"Le champ « {field} » contient {reason}.", field)
    return value


def text(data: dict, field: str, *, required: bool = True, max_length: int = 200, default: str = "") -> str:
    value = data.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(f"Le champ « {field} » est obligatoire.", field)
        return default
    if not isinstance(value, str):
        raise ValidationError(f"Le champ « {field} » doit être un texte.", field)
    value = clean_text(value, field).strip()
    if len(value) > max_length:
        raise ValidationError(f"Le champ « {field} » dépasse {max_length} caractères.", field)
    return value


def _missing(data: dict, field: str, required: bool) -> bool:
    """True when the field is absent or empty; an error naming it when it was required."""
    value = data.get(field)
    if value is None or value == "":
        if required:
            raise ValidationError(f"Le champ « {field} » est obligatoire.", field)
        return True
    return False


def integer(data: dict, field: str, *, required: bool = True, minimum: int | None = None,
            maximum: int | None = None) -> int | None:
    """An integer; always within 64 bits (ids, offsets, counts), within [minimum, maximum] when given."""
    if _missing(data, field, required):
        return None
    value = data[field]
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError
        if isinstance(value, str):
            value = value.strip()
            if len(value) > 20:  # more digits than any 64-bit integer; int() would also be slow
                raise OverflowError
        number = int(value)
    except OverflowError:
        number = INT64_MAX + 1
    except (TypeError, ValueError):
        raise ValidationError(f"Le champ « {field} » doit être un nombre entier.", field) from None
    low = INT64_MIN if minimum is None else max(minimum, INT64_MIN)
    high = INT64_MAX if maximum is None else min(maximum, INT64_MAX)
    if number < low or number > high:
        if minimum is not None and maximum is not None:
            message = f"doit être entre {minimum} et {maximum}"
        elif minimum is not None:
            message = f"doit valoir au moins {minimum}" if number < low else "est trop grand"
        elif maximum is not None:
            message = f"doit valoir au plus {maximum}" if number > high else "est trop petit"
        else:
            message = "est hors des limites d'un entier"
        raise ValidationError(f"Le champ « {field} » {message}.", field)
    return number


def identifier(data: dict, field: str, *, required: bool = True) -> int | None:
    """The id of a row (a positive integer within the id columns' range)."""
    return integer(data, field, required=required, minimum=1, maximum=ID_MAX)


def count(data: dict, field: str, *, required: bool = True, maximum: int = 1_000_000) -> int | None:
    """A number of things (errors, defects, people): a non-negative integer."""
    return integer(data, field, required=required, minimum=0, maximum=maximum)


def percentage(data: dict, field: str, *, required: bool = True) -> Decimal | None:
    """A percentage: 0 to 100, two decimals at most."""
    return decimal(data, field, required=required, minimum=Decimal(0), maximum=Decimal(100), max_places=2)


def query_int(args, field: str, default: int | None = None, *, minimum: int | None = 0,
              maximum: int | None = None) -> int | None:
    """An integer from the query string (page, offset, limit, an id filter), bounded; the
    default when absent or empty, a 422 naming the parameter when it is not a valid one."""
    if args.get(field) in (None, ""):
        return default
    return integer({field: args.get(field)}, field, minimum=minimum, maximum=maximum)


def page_number(args, field: str = "page", maximum: int = 100_000) -> int:
    """The page asked for in the query string: 1 by default, at most `maximum`."""
    return query_int(args, field, 1, minimum=1, maximum=maximum)


def decimal(data: dict, field: str, *, required: bool = True, minimum: Decimal | None = None,
            positive: bool = False, maximum: Decimal | None = None,
            max_places: int | None = None) -> Decimal | None:
    """A decimal number; below 10^15 in size, within [minimum, maximum] when given, and with at
    most `max_places` decimals (the scale of its column) when given."""
    if _missing(data, field, required):
        return None
    value = data[field]
    try:
        if isinstance(value, bool) or isinstance(value, (list, dict)):
            raise InvalidOperation
        raw = str(value).replace(",", ".").strip()
        if len(raw) > 60:
            raise InvalidOperation
        number = Decimal(raw)
        if not number.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise ValidationError(f"Le champ « {field} » doit être un nombre.", field) from None
    if number.adjusted() >= DECIMAL_DIGITS:  # by its exponent: abs() of 1e999999999 overflows
        raise ValidationError(f"Le champ « {field} » est trop grand.", field)
    if positive and number <= 0:
        raise ValidationError(f"Le champ « {field} » doit être strictement positif.", field)
    if minimum is not None and number < minimum:
        raise ValidationError(f"Le champ « {field} » doit valoir au moins {minimum}.", field)
    if maximum is not None and number > maximum:
        raise ValidationError(f"Le champ « {field} » doit valoir au plus {maximum}.", field)
    if max_places is not None and number != number.quantize(Decimal(1).scaleb(-max_places)):
        raise ValidationError(f"Le champ « {field} » admet au plus {max_places} décimale"
                              f"{'s' if max_places > 1 else ''}.", field)
    return number


def boolean(data: dict, field: str, default: bool = False) -> bool:
    value = data.get(field, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("1", "true", "on", "yes", "oui"):
        return True
    if isinstance(value, str) and value.lower() in ("", "0", "false", "off", "no", "non"):
        return False
    raise ValidationError(f"Le champ « {field} » doit valoir true ou false.", field)


def parse_datetime(value, field: str) -> datetime:
    """ISO 8601; a time without offset is taken as Paris time. Returns aware UTC."""
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            if not isinstance(value, (str, date)) or len(str(value)) > 40:
                raise ValueError
            parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(f"Le champ « {field} » doit être une date et heure ISO 8601 "
                                  f"(ex. 2026-11-21T09:30).", field) from None
    _within_dates(parsed.date(), field)  # before any time zone arithmetic, which overflows at year 1
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=clock.PARIS)
    return parsed.astimezone(timezone.utc)


def _within_dates(day: date, field: str) -> date:
    if not DATE_MIN <= day <= DATE_MAX:
        raise ValidationError(f"Le champ « {field} » doit être une date entre le "
                              f"{DATE_MIN:%d/%m/%Y} et le {DATE_MAX:%d/%m/%Y}.", field)
    return day


def datetime_field(data: dict, field: str, *, required: bool = True, default: datetime | None = None):
    if _missing(data, field, required and default is None):
        return default
    return parse_datetime(data[field], field)


def parse_date(value, field: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return _within_dates(value, field)
    try:
        if not isinstance(value, str) or len(value) > 40:
            raise ValueError
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(f"Le champ « {field} » doit être une date AAAA-MM-JJ.", field) from None
    return _within_dates(parsed, field)


def date_field(data: dict, field: str, *, required: bool = True, default: date | None = None):
    if _missing(data, field, required and default is None):
        return default
    return parse_date(data[field], field)


def choice(data: dict, field: str, choices, *, required: bool = True, default=None):
    if _missing(data, field, required and default is None):
        return default
    value = data[field]
    if isinstance(value, (list, dict, set)) or value not in choices:
        raise ValidationError(f"Le champ « {field} » doit valoir : {', '.join(map(str, choices))}.", field)
    return value


def json_object(payload) -> dict:
    if not isinstance(payload, dict):
        raise BadRequest("Le corps de la requête doit être un objet JSON.", None)
    return payload


def to_paris(moment: datetime | None) -> datetime | None:
    return moment.astimezone(clock.PARIS) if moment else None
