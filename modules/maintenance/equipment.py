"""Equipment register and preventive plans: creation with validation, lookups."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from modules.maintenance.models import (
    CRITICALITIES, ENERGIES, LEVELS, PLAN_KINDS, TECHNOLOGIES, Equipment, Plan)
from modules.maintenance.schedule import add_interval, initial_state
from modules.stock import services as stock
from shopfloor import access
from shopfloor import validation as v
from shopfloor.auth.models import User
from shopfloor.errors import Conflict, Forbidden, NotFound, ValidationError

MANAGERS = ("tutor", "admin")


def _string_list(data: dict, field: str, allowed: tuple[str, ...]) -> list[str]:
    value = data.get(field) or []
    if isinstance(value, str):
        value = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise ValidationError(f"Le champ « {field} » doit être une liste de textes.", field)
    bad = [x for x in value if x not in allowed]
    if bad:
        raise ValidationError(f"Le champ « {field} » contient {', '.join(bad)} ; valeurs possibles : "
                              f"{', '.join(allowed)}.", field)
    return list(dict.fromkeys(value))


def get_equipment(db: Session, code_or_id) -> Equipment:
    """By id (an integer, or ASCII digits) or else by code; 404 when there is none."""
    as_id = code_or_id if isinstance(code_or_id, int) and not isinstance(code_or_id, bool) else (
        int(code_or_id) if isinstance(code_or_id, str) and code_or_id.isascii() and code_or_id.isdigit()
        and len(code_or_id) <= 19 else None)
    if as_id is not None and not 1 <= as_id <= v.ID_MAX:   # beyond any id column: a code, or nothing
        as_id = None
    if as_id is not None and db.get(Equipment, as_id):
        eq = db.get(Equipment, as_id)
    elif isinstance(code_or_id, int) and not isinstance(code_or_id, bool):
        eq = None
    else:
        eq = db.scalar(select(Equipment).where(Equipment.code == str(code_or_id).strip()))
    if eq is None:
        raise access.not_found(Equipment, code_or_id, "equipment")
    return eq


def create_equipment(db: Session, actor: User, data: dict) -> Equipment:
    if actor.role not in MANAGERS:
        raise Forbidden("Seuls un tuteur ou un administrateur gèrent le parc d'équipements.", "code")
    code = v.text(data, "code", max_length=40)
    if db.scalar(select(Equipment.id).where(Equipment.code == code)):
        raise Conflict(f"Le code équipement « {code} » existe déjà.", "code")
    parent = get_equipment(db, data["parent"]) if data.get("parent") else None
    reference = _reference_values(data)
    eq = Equipment(
        code=code, name=v.text(data, "name"), level=v.choice(data, "level", LEVELS, default="equipment"),
        parent=parent, technologies=_string_list(data, "technologies", TECHNOLOGIES),
        criticality=v.choice(data, "criticality", CRITICALITIES, default="C"),
        maker=v.text(data, "maker", required=False, max_length=120),
        model=v.text(data, "model", required=False, max_length=120),
        location=v.text(data, "location", required=False, max_length=120),
        energies=_string_list(data, "energies", ENERGIES),
        meters=_string_list(data, "meters", ("hours", "cycles")),
        reference_values=reference, site_id=actor.site_id,
        team_id=parent.team_id if parent and parent.team_id else actor.team_id)
    if isinstance(data.get("team_id"), int):
        eq.team_id = data["team_id"]
    db.add(eq)
    db.flush()
    return eq


EDITABLE = ("name", "technologies", "criticality", "maker", "model", "location", "energies", "meters",
            "reference_values")


def update_equipment(db: Session, actor: User, eq: Equipment, data: dict) -> Equipment:
    """Change the description of an equipment (its code, level and place in the tree stay)."""
    if actor.role not in MANAGERS:
        raise Forbidden("Seuls un tuteur ou un administrateur gèrent le parc d'équipements.", "code")
    eq.name = v.text(data, "name")
    eq.technologies = _string_list(data, "technologies", TECHNOLOGIES)
    eq.criticality = v.choice(data, "criticality", CRITICALITIES)
    eq.maker = v.text(data, "maker", required=False, max_length=120)
    eq.model = v.text(data, "model", required=False, max_length=120)
    eq.location = v.text(data, "location", required=False, max_length=120)
    eq.energies = _string_list(data, "energies", ENERGIES)
    eq.meters = _string_list(data, "meters", ("hours", "cycles"))
    eq.reference_values = _reference_values(data)
    db.flush()
    return eq


def _reference_values(data: dict) -> dict:
    reference = data.get("reference_values") or {}
    if not isinstance(reference, dict) or not all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                                  for x in reference.values()):
        raise ValidationError("« reference_values » doit être un objet {paramètre: valeur}.", "reference_values")
    return reference


class ImportRefused(ValidationError):
    """The import was refused; `lines` lists each bad line's error for the report."""

    def __init__(self, lines: list[str]):
        super().__init__("Import refusé, rien n'a été enregistré. " + " ".join(lines), "file")
        self.lines = lines


IMPORT_COLUMNS = ("code", "name", "level", "parent", "technologies", "criticality", "maker", "model", "energies")


def import_equipment(db: Session, actor: User, content: bytes, filename: str) -> tuple[int, list[str]]:
    """CSV (; or ,) or XLSX with IMPORT_COLUMNS. All lines land, or none: errors listed line by line."""
    rows = list(enumerate(stock.read_table(filename, content), start=2))
    if not rows:
        raise ValidationError("Le fichier ne contient aucune ligne d'équipement sous l'en-tête.", "file")
    errors: list[str] = []
    created = 0
    for number, row in rows:
        try:
            with db.begin_nested():
                create_equipment(db, actor, {k: (row.get(k) or "").strip() for k in IMPORT_COLUMNS if row.get(k)})
            created += 1
        except (ValidationError, Conflict, NotFound) as error:
            errors.append(f"Ligne {number} : {error.message}")
    if errors:
        raise ImportRefused(errors)
    return created, errors


# -- Plans ------------------------------------------------------------------------

def _operations(data: dict) -> list[dict]:
    ops = data.get("operations") or []
    if not isinstance(ops, list):
        raise ValidationError("« operations » doit être une liste.", "operations")
    out = []
    for i, op in enumerate(ops):
        if isinstance(op, str):
            op = {"label": op}
        if not isinstance(op, dict) or not str(op.get("label", "")).strip():
            raise ValidationError(f"L'opération {i + 1} doit avoir un libellé (« label »).", "operations")
        clean = {"label": str(op["label"]).strip()[:200], "unit": str(op.get("unit") or "")[:20]}
        for key in ("expected", "min", "max"):
            if op.get(key) is not None and op.get(key) != "":
                clean[key] = float(v.decimal(op, key))
        if op.get("tolerance") not in (None, "") and "expected" in clean:
            tol = float(v.decimal(op, "tolerance", minimum=0))
            clean["min"], clean["max"] = clean["expected"] - tol, clean["expected"] + tol
        out.append(clean)
    return out


def create_plan(db: Session, actor: User, data: dict, now: datetime) -> Plan:
    if actor.role not in MANAGERS:
        raise Forbidden("Seuls un tuteur ou un administrateur créent des plans de maintenance.", "equipment")
    if not data.get("equipment"):
        raise ValidationError("Le champ « equipment » est obligatoire.", "equipment")
    eq = get_equipment(db, data["equipment"])
    kind = v.choice(data, "kind", PLAN_KINDS)
    plan = Plan(equipment=eq, kind=kind, title=v.text(data, "title", required=False) or f"Préventif {eq.name}",
                start=v.datetime_field(data, "start", default=now), operations=_operations(data),
                lead_days=v.integer(data, "lead_days", required=False, minimum=0, maximum=365) or 0,
                anchor=v.choice(data, "anchor", ("scheduled", "completion"), default="scheduled"),
                tools=v.text(data, "tools", required=False, max_length=1000),
                consumables=v.text(data, "consumables", required=False, max_length=1000),
                duration_min=v.integer(data, "duration_min", required=False, minimum=1),
                authorisation=v.text(data, "authorisation", required=False, max_length=60),
                running_check=v.boolean(data, "running_check"))
    _kind_fields(plan, data)
    initial_state(plan)
    db.add(plan)
    db.flush()
    return plan


def _kind_fields(plan: Plan, data: dict) -> None:
    if plan.kind == "calendar":
        for unit in ("days", "weeks", "months"):
            if data.get(f"interval_{unit}") not in (None, ""):
                plan.interval_value = v.integer(data, f"interval_{unit}", minimum=1, maximum=3650)
                plan.interval_unit = unit
                break
        else:
            raise ValidationError("Un plan calendaire demande « interval_days » (ou interval_weeks, interval_months).",
                                  "interval_days")
        add_interval(plan.start, plan)  # validates the unit
    elif plan.kind == "usage":
        unit = "cycles" if data.get("interval_cycles") not in (None, "") else "hours"
        plan.interval_value = float(v.decimal(data, f"interval_{unit}", positive=True))
        plan.interval_unit = unit
        plan.parameter = unit
    else:
        plan.parameter = v.text(data, "parameter", max_length=40)
        plan.threshold = float(v.decimal(data, "threshold"))
        plan.direction = v.choice(data, "direction", ("above", "below"), default="above")
        if plan.kind == "predictive":
            plan.window_days = v.integer(data, "window_days", required=False, minimum=2, maximum=365) or 30

