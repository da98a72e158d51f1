"""Raw input → the typed values the maintenance services take (issue 13: input is parsed in handlers).

A page's form (after modules.maintenance.forms) or an API body is a dict of strings and JSON values;
each function here reads one request's fields with shopfloor.validation, every error naming its
field, and answers what the service needs. Services then take typed values only."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from modules.maintenance.equipment import get_equipment
from modules.maintenance.models import FAILURE_CAUSES, FAILURE_MODES, LOCKOUT_STEPS, Equipment
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
class NewAction:
    title: str
    deliverable: str
    due: date


@dataclass(frozen=True)
class NewProgress:
    action: NewAction
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


def new_action(data: dict) -> NewAction:
    return NewAction(title=v.text(data, "title"), deliverable=v.text(data, "deliverable", max_length=500),
                     due=v.date_field(data, "due"))


def new_progress(data: dict, indicators: tuple[str, ...]) -> NewProgress:
    indicator = v.choice(data, "indicator", indicators)
    target = float(v.decimal(data, "target"))
    return NewProgress(action=new_action(data), indicator=indicator, target=target)


def after(data: dict) -> float:
    return float(v.decimal(data, "after"))


# -- work orders ---------------------------------------------------------------------------

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
