"""Where an action or a problem sheet comes from: any record of any module, resolved by its type.

Modules declare their origins on their `Module` (`origins=[Origin(...)]`); the core reads them
from the registry of the session's app, so a module left out leaves no origin behind."""
from __future__ import annotations

from flask import has_app_context
from sqlalchemy.orm import Session

from shopfloor.errors import ValidationError
from shopfloor.registry import Origin, registry_of


def _resolve(db: Session, origin: Origin, record_id: int):
    """(title, url) of the record; its link needs the app, which a service called outside a request or a
    job (a script, a test's session) does not have pushed: push the session's own app then."""
    if has_app_context():
        return origin.resolve(db, record_id)
    with registry_of(db).app.app_context():
        return origin.resolve(db, record_id)


def origins(db: Session) -> dict[str, Origin]:
    return registry_of(db).origins


def owning_activity_id(db: Session, type_key: str | None, record_id: int | None) -> int | None:
    """The activity an origin record belongs to (for the freeze guard), or None."""
    registered = origins(db).get(type_key) if type_key and record_id is not None else None
    if registered is None or registered.owner is None:
        return None
    return registered.owner(db, record_id)


def activity_itself(_db: Session, record_id: int) -> int:
    """`owner` for origins that are activities themselves (a non-conformity, a problem sheet…)."""
    return record_id


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
    registered = origins(db).get(type_key)
    if registered is None:
        known = ", ".join(sorted(origins(db))) or "aucun"
        raise ValidationError(f"Type d'origine inconnu : {type_key!r} (connus : {known}).", field)
    if _resolve(db, registered, record_id) is None:
        raise ValidationError(f"{registered.label} n° {record_id} introuvable.", field)
    return type_key, record_id


def describe(db: Session, type_key: str | None, record_id: int | None) -> dict | None:
    """{"type", "id", "label", "title", "url"} for display; title says when the record has gone."""
    if not type_key or record_id is None:
        return None
    registered = origins(db).get(type_key)
    resolved = _resolve(db, registered, record_id) if registered else None
    label = registered.label if registered else type_key
    title, url = resolved if resolved else (f"{label} n° {record_id} (introuvable)", "")
    return {"type": type_key, "id": record_id, "label": label, "title": title, "url": url}


def pareto_sources(db: Session):
    """{key: ParetoSource} declared by the loaded modules."""
    return registry_of(db).pareto_sources


def pareto_counts(db: Session, key: str, start, end, team_id: int | None) -> list[tuple[str, float]]:
    """[(category, count)] of one declared Pareto source over the days start..end."""
    source = pareto_sources(db).get(key)
    if source is None:
        raise ValidationError(f"Source de Pareto inconnue : {key!r}.", "source")
    if end < start:
        raise ValidationError("La fin de la période précède son début.", "end")
    return source.compute(db, start, end, team_id)
