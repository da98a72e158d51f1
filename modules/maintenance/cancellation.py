"""What an intervention changes outside itself, and how cancelling it reverses that.

Spare parts it took from the store are pick lists of their own, confirmed at once: cancelling the
intervention cancels them, so the stock ledger reverses their moves. A follow-up work order it
opened (a corrective proposed from out-of-tolerance values, a curative after a palliative repair)
that nobody has started yet is withdrawn with it. The work order itself, while still open, goes back
to the queue without the cancelled intervention: the next technician locks out again, and the
routine is filled in again; a work order already done keeps its history."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from modules.maintenance.models import OPEN_STATES, WorkOrder
from shopfloor.evidence.models import Activity
from shopfloor.registry import Effects

INTERVENTION_TYPES = ("maintenance_corrective", "maintenance_preventive", "maintenance_check")
NOT_STARTED = ("requested", "planned")


def _parts_picks(db: Session, intervention) -> list[Activity]:
    wo = intervention.work_order
    picks = []
    for part in (wo.parts if wo is not None else []) or []:
        pick = db.get(Activity, part.get("pick_id")) if isinstance(part, dict) and part.get("pick_id") else None
        if pick is not None and pick.activity_cancelled_at is None:
            picks.append(pick)
    return picks


def _follow_ups(db: Session, intervention) -> list[WorkOrder]:
    wo = intervention.work_order
    if wo is None:
        return []
    return list(db.scalars(select(WorkOrder).where(WorkOrder.parent_id == wo.id, WorkOrder.status.in_(NOT_STARTED),
                                                   WorkOrder.intervention_id.is_(None)).order_by(WorkOrder.id)))


def describe(db: Session, intervention) -> list[str]:
    wo = intervention.work_order
    found = [f"ordre de travail OT-{wo.id} ({wo.status})"] if wo is not None else []
    found += [f"pièces sorties du magasin (prélèvement n° {pick.id})" for pick in _parts_picks(db, intervention)]
    found += [f"ordre de travail de suite OT-{follow.id} ouvert" for follow in _follow_ups(db, intervention)]
    return found


def cancel(db: Session, intervention, cancellation) -> None:
    for pick in _parts_picks(db, intervention):
        cancellation.cancel(pick)
    for follow in _follow_ups(db, intervention):
        if db.scalar(select(WorkOrder.id).where(WorkOrder.parent_id == follow.id)) is None:
            db.delete(follow)
    wo = intervention.work_order
    if wo is not None and wo.status in OPEN_STATES:
        wo.intervention = None
        wo.status = "planned" if wo.plan_id is not None else "requested"
        wo.started_at, wo.hold_reason, wo.parts, wo.parts_cost = None, "", [], 0.0
        wo.running_check, wo.diagnosis = False, None
        wo.lockout.clear()
        wo.results.clear()


EFFECTS = [Effects("maintenance_intervention", describe, cancel, types=INTERVENTION_TYPES, order=30)]
