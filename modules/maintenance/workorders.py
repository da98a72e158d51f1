"""Work orders: breakdown requests, lockout, start, routine results, diagnosis, finish, close.

States: requested → planned → in_progress (⇄ on_hold) → done → closed. The apprentice who first
acts on a WO (lockout or start) becomes the author of its Intervention activity; only that
person then changes it. A tutor (of that apprentice) or an admin closes it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from modules.maintenance.inputs import Breakdown, Finish, Lockout
from modules.maintenance.models import (
    LOCKOUT_STEPS, WO_KINDS, CheckIntervention, Equipment, Intervention,
    PreventiveIntervention, Reading, RoutineResult, WorkOrder, LockoutStep)
from modules.maintenance.schedule import on_completion
from shopfloor import access
from shopfloor.auth.models import User
from shopfloor.auth.services import can_see_apprentice
from shopfloor.db import lock
from shopfloor.errors import Conflict, Forbidden, ValidationError
from shopfloor.evidence.activities import new_activity
from shopfloor.evidence.services import ensure_editable

def request_breakdown(db: Session, actor: User, equipment: Equipment, report: Breakdown, now: datetime) -> WorkOrder:
    """A breakdown reported from the floor (QR label form or API): a curative WO, requested."""
    wo = WorkOrder(equipment=equipment, kind=report.kind, trigger="request", status="requested",
                   title=report.title or f"Panne {equipment.name} : {report.symptom}"[:200],
                   symptom=report.symptom, requested_by=actor, requested_at=now, due=now,
                   downtime_start=report.downtime_start, downtime_reason=report.downtime_reason)
    db.add(wo)
    db.flush()
    return wo


def _acting(db: Session, actor: User, wo: WorkOrder, now: datetime, *, create: bool = True) -> None:
    """Only the intervention's author changes the work; the first to act becomes its author."""
    if wo.intervention is not None:
        if wo.intervention.author_id != actor.id:
            raise Forbidden(f"Cet ordre de travail est réalisé par {wo.intervention.author.full_name} ; "
                            f"seul·e cette personne peut le modifier.", "work_order")
        ensure_editable(wo.intervention)
        return
    if actor.role != "apprentice" and actor.role != "tutor" and actor.role != "admin":
        raise Forbidden("Votre rôle ne permet pas cette action.", "work_order")
    if create:
        cls = {"preventive": PreventiveIntervention}.get(wo.kind, Intervention)
        if wo.kind == "preventive" and wo.running_check:
            cls = CheckIntervention
        wo.intervention = new_activity(cls, actor, now, title=f"OT-{wo.id} {wo.title}"[:200])
        db.flush()


STATE_WORDS = {"requested": "demandé", "planned": "planifié", "in_progress": "en cours", "on_hold": "en attente",
               "done": "terminé", "closed": "clôturé"}


def _require(wo: WorkOrder, *states: str, action: str) -> None:
    """Lock the work order and re-read it before deciding: of two starts (or a finish and a close)
    sent together, the second waits for the first and finds the state it left."""
    lock(object_session(wo), wo)
    if wo.status not in states:
        raise Conflict(f"Impossible de {action} : l'ordre de travail est "
                       f"« {STATE_WORDS.get(wo.status, wo.status)} ».", "status")


# what each change of the work needs: the states it starts from and how a refusal names it
LOCKOUT = (("requested", "planned", "on_hold"), "consigner")
DIAGNOSIS = (("requested", "planned", "in_progress", "on_hold"), "diagnostiquer")
FINISH = (("in_progress",), "terminer")
RESULTS = (("in_progress",), "saisir la gamme")


def _corrective(wo: WorkOrder) -> None:
    if not wo.is_corrective:
        raise ValidationError("Le diagnostic concerne un ordre de travail correctif.", "kind")


def authorise(db: Session, actor: User, wo: WorkOrder, change: tuple[tuple[str, ...], str], now: datetime) -> None:
    """Before a handler parses the request: the WO is in a state `change` starts from and the actor
    may act on it (the 409 of a validated intervention comes before any 422 of the body)."""
    if change is DIAGNOSIS:
        _corrective(wo)
    states, action = change
    _require(wo, *states, action=action)
    _acting(db, actor, wo, now, create=False)


def lockout_missing(wo: WorkOrder) -> list[str]:
    """'energy: step' still to record before work may start."""
    if wo.running_check:
        return []
    done = {(s.energy, s.step) for s in wo.lockout}
    return [f"{energy} : {step}" for energy in wo.equipment.energies for step in LOCKOUT_STEPS
            if (energy, step) not in done]


def record_lockout(db: Session, actor: User, wo: WorkOrder, lockout: Lockout, now: datetime) -> list[LockoutStep]:
    """Record lockout steps in their order (separate, lock, tag, purge, verify for each energy), or
    declare a check made with the machine running (allowed by the plan)."""
    _require(wo, *LOCKOUT[0], action=LOCKOUT[1])
    _acting(db, actor, wo, now)
    if lockout.running:
        if wo.plan is None or not wo.plan.running_check:
            raise ValidationError("Seul un contrôle prévu « machine en marche » par son plan se passe de consignation.",
                                  "running")
        wo.running_check = True
        db.flush()
        return []
    added = []
    for energy, step, note in lockout.steps:
        if any(s.energy == energy and s.step == step for s in wo.lockout):
            continue
        expected = LOCKOUT_STEPS[[s.step for s in wo.lockout if s.energy == energy].__len__()]
        if step != expected:
            raise ValidationError(f"Consignation {energy} : l'étape suivante est « {expected} », pas « {step} ».",
                                  "step")
        added.append(LockoutStep(energy=energy, step=step, actor=actor, at=now, note=note))
        wo.lockout.append(added[-1])
    db.flush()
    return added


def start(db: Session, actor: User, wo: WorkOrder, now: datetime) -> WorkOrder:
    _require(wo, "requested", "planned", "on_hold", action="démarrer")
    _acting(db, actor, wo, now)
    missing = lockout_missing(wo)
    if missing:
        raise Conflict("Démarrage refusé : la consignation n'est pas complète. Reste à faire : "
                       + ", ".join(missing) + ".", "lockout")
    wo.status = "in_progress"
    wo.started_at = wo.started_at or now
    if not wo.results and wo.plan is not None:
        for position, op in enumerate(wo.plan.operations):
            wo.results.append(RoutineResult(position=position, label=op["label"], unit=op.get("unit", ""),
                                            expected=op.get("expected"), minimum=op.get("min"),
                                            maximum=op.get("max")))
    db.flush()
    return wo


def hold(db: Session, actor: User, wo: WorkOrder, reason: str, now: datetime) -> WorkOrder:
    _require(wo, "in_progress", "planned", action="mettre en attente")
    _acting(db, actor, wo, now)
    if not reason.strip():
        raise ValidationError("Indiquez ce qui est attendu (pièces…).", "reason")
    wo.status, wo.hold_reason = "on_hold", reason.strip()[:200]
    db.flush()
    return wo


def record_results(db: Session, actor: User, wo: WorkOrder, values: dict, now: datetime) -> list[RoutineResult]:
    """values as inputs.results reads them: {position: measured | True | None}. Out of tolerance is
    flagged (and proposes a corrective WO)."""
    _require(wo, *RESULTS[0], action=RESULTS[1])
    _acting(db, actor, wo, now)
    by_position = {r.position: r for r in wo.results}
    for key, value in values.items():
        digits = str(key).isascii() and str(key).isdigit() and len(str(key)) <= 9
        result = by_position.get(int(key)) if digits else None
        if result is None:
            raise ValidationError(f"Opération {key} inconnue dans la gamme.", f"results.{key}")
        if value is None:
            continue
        result.done = True
        if value is not True:
            result.measured = value
            result.out_of_tolerance = ((result.minimum is not None and value < result.minimum)
                                       or (result.maximum is not None and value > result.maximum))
    db.flush()
    return [r for r in wo.results if r.out_of_tolerance]


def record_diagnosis(db: Session, actor: User, wo: WorkOrder, diagnosis: dict, now: datetime) -> dict:
    """`diagnosis` as inputs.diagnosis reads it; the WO's symptom when none is given."""
    _corrective(wo)
    _require(wo, *DIAGNOSIS[0], action=DIAGNOSIS[1])
    _acting(db, actor, wo, now)
    wo.diagnosis = {**diagnosis, "symptom": diagnosis.get("symptom") or wo.symptom}
    db.flush()
    return wo.diagnosis


def finish(db: Session, actor: User, wo: WorkOrder, report: Finish, now: datetime) -> WorkOrder:
    """Report required; lockout removal, tests and ramp-up recorded; downtime ends here."""
    _require(wo, *FINISH[0], action=FINISH[1])
    _acting(db, actor, wo, now)
    if not report.report:
        raise ValidationError("Le compte rendu d'intervention est obligatoire pour terminer.", "report")
    pending = [r.label for r in wo.results if not r.done]
    if pending:
        raise ValidationError("Gamme incomplète : " + ", ".join(pending) + ".", "results")
    if wo.is_corrective and wo.diagnosis is None and wo.downtime_start is not None:
        raise ValidationError("Un dépannage se termine avec son diagnostic.", "diagnosis")
    wo.report = report.report
    wo.time_spent_min = report.time_spent_min
    wo.tests_done = report.tests
    wo.ramp_up = report.ramp_up
    if wo.lockout:
        if not report.lockout_removed:
            raise ValidationError("Confirmez la déconsignation avant de terminer.", "lockout_removed")
        wo.lockout_removed_at = now
    if wo.downtime_start is not None and wo.downtime_end is None:
        wo.downtime_end = report.downtime_end or now
        if not wo.downtime_start <= wo.downtime_end <= now:
            raise ValidationError("La fin d'arrêt doit être entre son début et maintenant.", "downtime_end")
    wo.status, wo.finished_at = "done", now
    wo.intervention.performed_at = now
    if wo.plan is not None:
        on_completion(wo.plan, wo, _meter(db, wo))
    db.flush()
    return wo


def _meter(db: Session, wo: WorkOrder) -> float | None:
    if wo.plan is None or wo.plan.kind != "usage":
        return None
    return db.scalar(select(Reading.value).where(Reading.equipment_id == wo.equipment_id,
                                                 Reading.parameter == wo.plan.parameter)
                     .order_by(Reading.at.desc()).limit(1))


def can_close(actor: User, wo: WorkOrder) -> bool:
    if actor.role == "admin":
        return True
    author = wo.intervention.author if wo.intervention else None
    return actor.role == "tutor" and (author is None or can_see_apprentice(actor, author))


def close(db: Session, actor: User, wo: WorkOrder, now: datetime) -> WorkOrder:
    """Checked by a tutor or admin. Closing a palliative repair opens the follow-up curative WO."""
    if not can_close(actor, wo):
        raise Forbidden("Seul le tuteur de l'apprenti ou un administrateur clôture un ordre de travail.", "work_order")
    _require(wo, "done", action="clôturer")
    wo.status, wo.closed_at, wo.closed_by = "closed", now, actor
    if wo.kind == "palliative":
        db.add(WorkOrder(equipment_id=wo.equipment_id, kind="curative", trigger="request", status="planned",
                         title=f"Suite curative de l'OT-{wo.id} : {wo.equipment.name}"[:200], due=now,
                         symptom=wo.symptom, requested_by=actor, requested_at=now, parent_id=wo.id))
    db.flush()
    return wo


def propose_corrective(db: Session, actor: User, wo: WorkOrder, now: datetime) -> WorkOrder:
    """A corrective WO proposed from the out-of-tolerance results of a preventive one."""
    out = [r for r in wo.results if r.out_of_tolerance]
    if not out:
        raise ValidationError("Aucune valeur hors tolérance sur cet ordre de travail.", "results")
    existing = db.scalar(select(WorkOrder).where(WorkOrder.parent_id == wo.id))
    if existing is not None:
        return existing
    symptom = "Hors tolérance : " + "; ".join(f"{r.label} = {r.measured:g} {r.unit}" for r in out)
    follow = WorkOrder(equipment_id=wo.equipment_id, kind="curative", trigger="request", status="requested",
                       title=f"Correctif suite OT-{wo.id} : {out[0].label}"[:200], due=now, symptom=symptom[:2000],
                       requested_by=actor, requested_at=now, parent_id=wo.id)
    db.add(follow)
    db.flush()
    return follow


def list_work_orders(db: Session, *, equipment: Equipment | None = None, status: str | None = None,
                     open_only: bool = False, limit: int = 200, offset: int = 0,
                     actor: User | None = None) -> list[WorkOrder]:
    """Work orders, only those `actor` may see when given."""
    q = select(WorkOrder)
    if actor is not None:
        q = q.where(access.visible_filter(WorkOrder, actor))
    if equipment is not None:
        q = q.where(WorkOrder.equipment_id == equipment.id)
    if status:
        q = q.where(WorkOrder.status == status)
    if open_only:
        q = q.where(WorkOrder.status.in_(("requested", "planned", "in_progress", "on_hold")))
    q = q.order_by(WorkOrder.due.is_(None), WorkOrder.due, WorkOrder.id).limit(limit).offset(offset)
    return list(db.scalars(q))


KIND_LABELS = dict(zip(WO_KINDS, ("Préventif", "Correctif curatif", "Correctif palliatif", "Amélioration")))
