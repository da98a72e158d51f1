"""Where an action or a problem sheet comes from: any record of any module, resolved by its type."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy.orm import Session

from shopfloor.errors import ValidationError


@dataclass(frozen=True)
class Origin:
    type_key: str
    label: str
    resolve: Callable[[Session, int], "tuple[str, str] | None"]
    # the activity (its id) the record belongs to, so that the actions and problem sheets it starts
    # freeze with it; None when the record belongs to no activity
    owner: Callable[[Session, int], "int | None"] | None = None


_ORIGINS: dict[str, Origin] = {}


def register_origin(type_key: str, label: str, resolve: Callable[[Session, int], "tuple[str, str] | None"],
                    owner: Callable[[Session, int], "int | None"] | None = None) -> None:
    """Declare a kind of record that can start an action or a problem sheet.
    `resolve(db, id)` gives (title, url) of that record, or None when it does not exist.
    `owner(db, id)` gives the id of the activity that record belongs to (itself when it is an
    activity), or None: the freeze guard then refuses new or changed actions and new problem
    sheets whose origin is a frozen record. Each module says it for its own records, so that
    improvement never imports them."""
    _ORIGINS[type_key] = Origin(type_key, label, resolve, owner)


def owning_activity_id(db: Session, type_key: str | None, record_id: int | None) -> int | None:
    """The activity an origin record belongs to (for the freeze guard), or None."""
    registered = _ORIGINS.get(type_key) if type_key and record_id is not None else None
    if registered is None or registered.owner is None:
        return None
    return registered.owner(db, record_id)


def activity_itself(_db: Session, record_id: int) -> int:
    """`owner` for origins that are activities themselves (a non-conformity, a problem sheet…)."""
    return record_id


def origins() -> dict[str, Origin]:
    return dict(_ORIGINS)


def parse_origin(value, field: str = "origin") -> tuple[str, int] | None:
    """{"type", "id"} (JSON), (type, id) or None; anything else names the field."""
    if value is None or value == "" or value == {}:
        return None
    if isinstance(value, dict):
        value = (value.get("type"), value.get("id"))
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValidationError("« origin » doit être {\"type\": …, \"id\": …} ou null.", field)
    type_key, record_id = value
    try:
        if isinstance(record_id, bool):
            raise ValueError
        record_id = int(record_id)
    except (TypeError, ValueError):
        raise ValidationError("L'identifiant de l'origine doit être un nombre entier.", field) from None
    return str(type_key or ""), record_id


def check_origin(db: Session, origin: tuple[str, int] | None, field: str = "origin") -> tuple[str, int] | None:
    """The origin when its type is registered and its record exists; else a 422 on `origin`."""
    if origin is None:
        return None
    type_key, record_id = origin
    registered = _ORIGINS.get(type_key)
    if registered is None:
        known = ", ".join(sorted(_ORIGINS)) or "aucun"
        raise ValidationError(f"Type d'origine inconnu : {type_key!r} (connus : {known}).", field)
    if registered.resolve(db, record_id) is None:
        raise ValidationError(f"{registered.label} n° {record_id} introuvable.", field)
    return type_key, record_id


def describe(db: Session, type_key: str | None, record_id: int | None) -> dict | None:
    """{"type", "id", "label", "title", "url"} for display; title says when the record has gone."""
    if not type_key or record_id is None:
        return None
    registered = _ORIGINS.get(type_key)
    resolved = registered.resolve(db, record_id) if registered else None
    label = registered.label if registered else type_key
    title, url = resolved if resolved else (f"{label} n° {record_id} (introuvable)", "")
    return {"type": type_key, "id": record_id, "label": label, "title": title, "url": url}
