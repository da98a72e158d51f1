"""Spare parts for a work order, picked from the store through the stock module's services.

A shortage is not an error of the request: nothing is reserved, the WO goes on hold waiting for the
parts and the store gets a purchase proposal (the same row its replenishment job writes), so the
apprentice's LOG colleague turns it into a purchase request."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from modules.maintenance.inputs import PartsRequest
from modules.maintenance.models import WorkOrder
from modules.maintenance.workorders import _acting, _require
from modules.stock import services as stock
from shopfloor.auth.models import User
from shopfloor.errors import Conflict, NotFound


@dataclass
class PartsOutcome:
    picked: bool
    message: str
    pick_id: int | None = None
    proposal_id: int | None = None


PARTS = (("in_progress", "on_hold", "planned", "requested"), "sortir des pièces")


def pick_parts(db: Session, actor: User, wo: WorkOrder, request: PartsRequest, now: datetime) -> PartsOutcome:
    _require(wo, *PARTS[0], action=PARTS[1])
    _acting(db, actor, wo, now)
    qty = request.qty
    item = stock.find_item(db, request.sku)
    if item is None:
        raise NotFound(f"Article « {request.sku} » introuvable au magasin.", "sku")
    destination = stock.find_location(db, request.destination)
    if destination is None:
        raise NotFound(f"Emplacement « {request.destination} » introuvable.", "destination")
    try:
        with db.begin_nested():
            pick = stock.pick_to_destination(db, actor, item, qty, destination, now,
                                             title=f"Pièces OT-{wo.id} : {item.sku} × {qty}")
    except Conflict as shortage:
        proposal = stock.propose_purchase(db, item, qty, now)
        wo.status, wo.hold_reason = "on_hold", f"Attente pièce {item.sku} ({qty} {item.unit})"[:200]
        db.flush()
        return PartsOutcome(False, shortage.message + " Ordre de travail mis en attente ; proposition d'achat "
                            f"n° {proposal.id} transmise au magasin.", proposal_id=proposal.id)
    wo.parts = [*wo.parts, {"sku": item.sku, "name": item.name, "qty": float(qty), "pick_id": pick.id}]
    wo.parts_cost = float(Decimal(str(wo.parts_cost or 0)) + qty * (item.unit_cost or Decimal(0)))
    db.flush()
    return PartsOutcome(True, f"{qty} {item.unit} {item.name} sorti(s) du magasin.", pick_id=pick.id)

