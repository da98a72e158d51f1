"""Parsing plain input values (JSON bodies and form fields) with errors that name the field."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from shopfloor.errors import BadRequest, ValidationError

PARIS = ZoneInfo("Europe/Paris")


def text(data: dict, field: str, *, required: bool = True, max_length: int = 200, default: str = "") -> str:
    value = data.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(f"Le champ « {field} » est obligatoire.", field)
        return default
    if not isinstance(value, str):
        raise ValidationError(f"Le champ « {field} » doit être un texte.", field)
    value = value.strip()
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
    if _missing(data, field, required):
        return None
    value = data[field]
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"Le champ « {field} » doit être un nombre entier.", field) from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ValidationError(f"Le champ « {field} » doit être entre {minimum} et {maximum}.", field)
    return number


def decimal(data: dict, field: str, *, required: bool = True, minimum: Decimal | None = None,
            positive: bool = False) -> Decimal | None:
    if _missing(data, field, required):
        return None
    value = data[field]
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        number = Decimal(str(value).replace(",", ".").strip())
        if not number.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise ValidationError(f"Le champ « {field} » doit être un nombre.", field) from None
    if positive and number <= 0:
        raise ValidationError(f"Le champ « {field} » doit être strictement positif.", field)
    if minimum is not None and number < minimum:
        raise ValidationError(f"Le champ « {field} » doit valoir au moins {minimum}.", field)
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
            parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(f"Le champ « {field} » doit être une date et heure ISO 8601 "
                                  f"(ex. 2026-11-21T09:30).", field) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=PARIS)
    return parsed.astimezone(timezone.utc)


def datetime_field(data: dict, field: str, *, required: bool = True, default: datetime | None = None):
    if _missing(data, field, required and default is None):
        return default
    return parse_datetime(data[field], field)


def parse_date(value, field: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(f"Le champ « {field} » doit être une date AAAA-MM-JJ.", field) from None


def date_field(data: dict, field: str, *, required: bool = True, default: date | None = None):
    if _missing(data, field, required and default is None):
        return default
    return parse_date(data[field], field)


def choice(data: dict, field: str, choices, *, required: bool = True, default=None):
    if _missing(data, field, required and default is None):
        return default
    value = data[field]
    if value not in choices:
        raise ValidationError(f"Le champ « {field} » doit valoir : {', '.join(map(str, choices))}.", field)
    return value


def json_object(payload) -> dict:
    if not isinstance(payload, dict):
        raise BadRequest("Le corps de la requête doit être un objet JSON.", None)
    return payload


def to_paris(moment: datetime | None) -> datetime | None:
    return moment.astimezone(PARIS) if moment else None
