"""Raw input → the typed values the maintenance services take (issue 13: input is parsed in handlers).

A page's form (after modules.maintenance.forms) or an API body is a dict of strings and JSON values;
each function here reads one request's fields with shopfloor.validation, every error naming its
field, and answers what the service needs. Services then take typed values only."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from modules.improvement import services as improvement
from modules.maintenance.lookup import get_equipment
from modules.maintenance.models import (
    CRITICALITIES, ENERGIES, FAILURE_CAUSES, FAILURE_MODES, LEVELS, LOCKOUT_STEPS, PLAN_KINDS, TECHNOLOGIES, Equipment)
from shopfloor import clock
from shopfloor import validation as v
from shopfloor.errors import ValidationError

CONCLUSIONS_MAX = 5000
MAX_BATCH = 10000          # readings in one request


@dataclass(frozen=True)
class NewAnalysis:
    first: date
    last: date
    equipment: Equipment | None
    title: str
    conclusions: str


@dataclass(frozen=True)
class NewProgress:
    action: improvement.NewAction
    indicator: str
    target: float


def new_analysis(db: Session, data: dict, now: datetime) -> NewAnalysis:
    """The scope (one equipment, or the whole park when none) over the Paris days [from, to]."""
    today = clock.paris_day(now)
    first = v.date_field(data, "from")
    last = v.date_field(data, "to", default=today)
    if last < first:
        raise ValidationError("La fin de période (« to ») doit suivre son début.", "to")
    if last > today:
        raise ValidationError("La période analysée ne peut pas finir dans le futur.", "to")
    equipment = get_equipment(db, data["equipment"]) if str(data.get("equipment") or "").strip() else None
    return NewAnalysis(first=first, last=last, equipment=equipment, title=v.text(data, "title", required=False),
                       conclusions=v.text(data, "conclusions", required=False, max_length=CONCLUSIONS_MAX))


def conclusions(data: dict) -> str:
    return v.text(data, "conclusions", max_length=CONCLUSIONS_MAX)


def new_progress(data: dict, indicators: tuple[str, ...]) -> NewProgress:
    indicator = v.choice(data, "indicator", indicators)
    target = float(v.decimal(data, "target"))
    return NewProgress(action=improvement.new_action(data), indicator=indicator, target=target)


def after(data: dict) -> float:
    return float(v.decimal(data, "after"))


# -- equipment and plans -------------------------------------------------------------------

METERS = ("hours", "cycles")


@dataclass(frozen=True)
class NewEquipment:
    code: str
    parent: str | int | None            # its code or id, looked up by the service
    reference_values: dict
    name: str
    level: str
    technologies: list[str]
    criticality: str
    maker: str
    model: str
    location: str
    energies: list[str]
    meters: list[str]
    team_id: int | None = None          # the parent's team, else the actor's, when None


@dataclass(frozen=True)
class EquipmentChange:
    """The description of an equipment (its code, level and place in the tree do not change)."""
    name: str
    technologies: list[str]
    criticality: str
    maker: str
    model: str
    location: str
    energies: list[str]
    meters: list[str]
    reference_values: dict


@dataclass(frozen=True)
class NewPlan:
    equipment: str | int                # its code or id
    kind: str
    title: str                          # "" : the service names it after the equipment
    start: datetime
    operations: list[dict]
    lead_days: int
    anchor: str
    tools: str
    consumables: str
    duration_min: int | None
    authorisation: str
    running_check: bool
    kind_fields: dict                   # the Plan columns of its kind (interval, parameter, threshold…)


def new_equipment(data: dict) -> NewEquipment:
    return NewEquipment(
        code=v.text(data, "code", max_length=40), parent=data["parent"] if data.get("parent") else None,
        reference_values=_reference_values(data), name=v.text(data, "name"),
        level=v.choice(data, "level", LEVELS, default="equipment"),
        technologies=_string_list(data, "technologies", TECHNOLOGIES),
        criticality=v.choice(data, "criticality", CRITICALITIES, default="C"),
        maker=v.text(data, "maker", required=False, max_length=120),
        model=v.text(data, "model", required=False, max_length=120),
        location=v.text(data, "location", required=False, max_length=120),
        energies=_string_list(data, "energies", ENERGIES), meters=_string_list(data, "meters", METERS),
        team_id=data["team_id"] if isinstance(data.get("team_id"), int) else None)


def equipment_change(data: dict) -> EquipmentChange:
    return EquipmentChange(
        name=v.text(data, "name"), technologies=_string_list(data, "technologies", TECHNOLOGIES),
        criticality=v.choice(data, "criticality", CRITICALITIES),
        maker=v.text(data, "maker", required=False, max_length=120),
        model=v.text(data, "model", required=False, max_length=120),
        location=v.text(data, "location", required=False, max_length=120),
        energies=_string_list(data, "energies", ENERGIES), meters=_string_list(data, "meters", METERS),
        reference_values=_reference_values(data))


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


def _reference_values(data: dict) -> dict:
    reference = data.get("reference_values") or {}
    if not isinstance(reference, dict) or not all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                                  for x in reference.values()):
        raise ValidationError("« reference_values » doit être un objet {paramètre: valeur}.", "reference_values")
    return reference


def new_plan(data: dict, now: datetime) -> NewPlan:
    """A plan starting at `now` unless « start » says otherwise."""
    if not data.get("equipment"):
        raise ValidationError("Le champ « equipment » est obligatoire.", "equipment")
    kind = v.choice(data, "kind", PLAN_KINDS)
    return NewPlan(equipment=data["equipment"], kind=kind, title=v.text(data, "title", required=False),
                   start=v.datetime_field(data, "start", default=now), operations=_operations(data),
                   lead_days=v.integer(data, "lead_days", required=False, minimum=0, maximum=365) or 0,
                   anchor=v.choice(data, "anchor", ("scheduled", "completion"), default="scheduled"),
                   tools=v.text(data, "tools", required=False, max_length=1000),
                   consumables=v.text(data, "consumables", required=False, max_length=1000),
                   duration_min=v.integer(data, "duration_min", required=False, minimum=1),
                   authorisation=v.text(data, "authorisation", required=False, max_length=60),
                   running_check=v.boolean(data, "running_check"), kind_fields=_kind_fields(kind, data))


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


def _kind_fields(kind: str, data: dict) -> dict:
    if kind == "calendar":
        for unit in ("days", "weeks", "months"):
            if data.get(f"interval_{unit}") not in (None, ""):
                return {"interval_value": v.integer(data, f"interval_{unit}", minimum=1, maximum=3650),
                        "interval_unit": unit}
        raise ValidationError("Un plan calendaire demande « interval_days » (ou interval_weeks, interval_months).",
                              "interval_days")
    if kind == "usage":
        unit = "cycles" if data.get("interval_cycles") not in (None, "") else "hours"
        return {"interval_value": float(v.decimal(data, f"interval_{unit}", positive=True)), "interval_unit": unit,
                "parameter": unit}
    fields = {"parameter": v.text(data, "parameter", max_length=40), "threshold": float(v.decimal(data, "threshold")),
              "direction": v.choice(data, "direction", ("above", "below"), default="above")}
    if kind == "predictive":
        fields["window_days"] = v.integer(data, "window_days", required=False, minimum=2, maximum=365) or 30
    return fields


# -- work orders ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Breakdown:
    symptom: str
    kind: str
    downtime_start: datetime | None
    title: str                          # "" : the service names it after the equipment and the symptom
    downtime_reason: str


@dataclass(frozen=True)
class PartsRequest:
    sku: str
    qty: Decimal
    destination: str                    # a store location's code


def breakdown(data: dict, now: datetime) -> Breakdown:
    """A machine reported stopped (the default) is down from `now` unless « downtime_start » says when."""
    symptom = v.text(data, "symptom", max_length=2000)
    stopped = v.boolean(data, "stopped", default=True)
    kind = v.choice(data, "kind", ("curative", "palliative", "improvement"), default="curative")
    downtime_start = v.datetime_field(data, "downtime_start", required=False) or (now if stopped else None)
    if downtime_start and downtime_start > now:
        raise ValidationError("Le début d'arrêt ne peut pas être dans le futur.", "downtime_start")
    return Breakdown(symptom=symptom, kind=kind, downtime_start=downtime_start,
                     title=v.text(data, "title", required=False),
                     downtime_reason=v.text(data, "downtime_reason", required=False) or ("Panne" if stopped else ""))


def results(values: dict) -> dict[str, float | bool | None]:
    """{position: measured | "ok"} → {position: the measure, True when done, None when left empty}."""
    return {key: _result(key, raw) for key, raw in values.items()}


def _result(key, raw) -> float | bool | None:
    if raw in (None, ""):
        return None
    if raw is True or raw == "ok":
        return True
    return float(v.decimal({f"results.{key}": raw}, f"results.{key}"))


def parts_request(data: dict) -> PartsRequest:
    return PartsRequest(sku=v.text(data, "sku", max_length=60), qty=v.decimal(data, "qty", positive=True),
                        destination=v.text(data, "destination", max_length=40))


CONSEQUENCES = ("production", "quality", "safety", "environment")


@dataclass(frozen=True)
class Lockout:
    running: bool = False                                   # a check the plan makes with the machine running
    steps: tuple[tuple[str, str, str], ...] = ()            # (energy, step, note), in the order recorded


@dataclass(frozen=True)
class Finish:
    report: str
    time_spent_min: int | None = None
    tests: str = ""
    ramp_up: str = ""
    lockout_removed: bool = False
    downtime_end: datetime | None = None


def lockout(data: dict, energies: list[str]) -> Lockout:
    """{"energy", "step", "note"} for one step, {"steps": [...]} for several, or {"running": true};
    `energies` are those of the WO's equipment."""
    if v.boolean(data, "running"):
        return Lockout(running=True)
    items = data.get("steps") if isinstance(data.get("steps"), list) else [data]
    steps = []
    for item in items:
        if not isinstance(item, dict):
            raise ValidationError("Chaque étape est un objet {energy, step}.", "steps")
        steps.append((v.choice(item, "energy", tuple(energies) or ("aucune",)), v.choice(item, "step", LOCKOUT_STEPS),
                      v.text(item, "note", required=False)))
    return Lockout(steps=tuple(steps))


def diagnosis(data: dict) -> dict:
    """The diagnosis of a corrective WO, as it is stored (symptom "" when not given: the WO's own)."""
    hypotheses = data.get("hypotheses") or []
    if not isinstance(hypotheses, list) or not hypotheses:
        raise ValidationError("Indiquez au moins une hypothèse de défaillance avec son test et son résultat.",
                              "hypotheses")
    clean = []
    for i, h in enumerate(hypotheses):
        if not isinstance(h, dict):
            raise ValidationError(f"Hypothèse {i + 1} invalide.", "hypotheses")
        clean.append({"hypothesis": v.text(h, "hypothesis", max_length=300), "test": v.text(h, "test", max_length=300),
                      "result": v.choice(h, "result", ("confirmed", "ruled_out"))})
    consequences = data.get("consequences") or {}
    if not isinstance(consequences, dict) or any(k not in CONSEQUENCES for k in consequences):
        raise ValidationError("« consequences » : production, quality, safety, environment.", "consequences")
    return {
        "symptom": v.text(data, "symptom", required=False, max_length=1000),
        "lost_function": v.text(data, "lost_function", max_length=300),
        "hypotheses": clean,
        "root_cause": v.text(data, "root_cause", max_length=1000),
        "failure_mode": v.choice(data, "failure_mode", tuple(FAILURE_MODES)),
        "failure_cause": v.choice(data, "failure_cause", tuple(FAILURE_CAUSES)),
        "consequences": {k: str(consequences.get(k, ""))[:300] for k in CONSEQUENCES},
    }


def finish(data: dict) -> Finish:
    return Finish(report=v.text(data, "report", required=False, max_length=5000),
                  time_spent_min=v.integer(data, "time_spent_min", required=False, minimum=0, maximum=100000),
                  tests=v.text(data, "tests", required=False, max_length=2000),
                  ramp_up=v.text(data, "ramp_up", required=False, max_length=2000),
                  lockout_removed=v.boolean(data, "lockout_removed"),
                  downtime_end=v.datetime_field(data, "downtime_end", required=False))


# -- readings ------------------------------------------------------------------------------

@dataclass(frozen=True)
class NewReading:
    equipment: str          # its code
    parameter: str
    value: float
    at: datetime


def readings(items: list, now: datetime) -> list[NewReading]:
    """One reading or a sensor's batch: [{"equipment", "parameter", "value", "at"}], all valid or none;
    in a batch, a field is named readings[n].field."""
    if not isinstance(items, list) or not items:
        raise ValidationError("Envoyez au moins une mesure.", "readings")
    if len(items) > MAX_BATCH:
        raise ValidationError(f"Au plus {MAX_BATCH} mesures par envoi.", "readings")
    out = []
    for n, item in enumerate(items):
        prefix = f"readings[{n}]." if len(items) > 1 else ""
        if not isinstance(item, dict):
            raise ValidationError(f"La mesure {n + 1} doit être un objet.", f"readings[{n}]")
        try:
            at = v.datetime_field(item, "at", default=now)
            value = float(v.decimal(item, "value"))
            parameter = v.text(item, "parameter", max_length=40)
        except ValidationError as error:
            raise ValidationError(f"{error.message} (mesure {n + 1})", prefix + (error.field or "")) from None
        if at > now + timedelta(minutes=5):
            raise ValidationError(f"La mesure {n + 1} est datée dans le futur.", prefix + "at")
        out.append(NewReading(equipment=str(item.get("equipment") or "").strip(), parameter=parameter, value=value,
                              at=at))
    return out
