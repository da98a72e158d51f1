"""Replenishment (LOG-4): reorder points, the proposals job, expiry flags, purchase requests.

Demand is what leaves storage for use: moves out of a storage location with reason pick,
shipment or consumption. A computed reorder point is average daily demand over the last
DEMAND_WINDOW_DAYS (days without demand count as zero) × supplier lead time + safety stock.
The stock position compared with it is free stock (storage and reception, minus reservations)
plus what open purchase requests already have on order.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, joinedload

from shopfloor import access
from shopfloor.auth.models import User
from shopfloor.errors import Conflict, Forbidden, ValidationError
from shopfloor.evidence.activities import new_activity
from shopfloor.evidence.services import ensure_editable
from shopfloor import clock
from modules.stock.models import (
    Balance, Item, Location, Lot, LotFlag, Move, PurchaseProposal, PurchaseRequest, Supplier, activity_title)
from modules.stock import flags

DEMAND_REASONS = ("pick", "shipment", "consumption")
DEMAND_WINDOW_DAYS = 90
DEFAULT_LEAD_TIME_DAYS = 7
POSITION_KINDS = ("storage", "reception")
STOCK_KINDS = ("storage", "quarantine", "line", "shipping", "reception")  # not scrap, not waste


# -- Demand and reorder points ----------------------------------------------------

def demand_moves(db: Session, item_ids, start: datetime, end: datetime) -> pd.DataFrame:
    """Demand moves (item_id, at, qty, value) between start and end."""
    source = aliased(Location)
    query = (select(Move.item_id, Move.at, Move.qty, Item.unit_cost).join(source, source.id == Move.from_location_id)
             .join(Item, Item.id == Move.item_id)
             .where(source.kind == "storage", Move.reason.in_(DEMAND_REASONS), Move.at >= start, Move.at < end))
    if item_ids is not None:
        query = query.where(Move.item_id.in_(list(item_ids)))
    frame = pd.DataFrame(db.execute(query).all(), columns=["item_id", "at", "qty", "unit_cost"])
    frame["qty"] = frame["qty"].astype(float)
    frame["value"] = frame["qty"] * frame["unit_cost"].astype(float)
    return frame


def average_daily_demand(db: Session, item_ids, now: datetime, days: int = DEMAND_WINDOW_DAYS) -> dict[int, float]:
    """Average demand per calendar day (Paris) over the `days` days before `now`, zero days included."""
    frame = demand_moves(db, item_ids, now - timedelta(days=days), now)
    if frame.empty:
        return {}
    frame["day"] = pd.to_datetime(frame["at"], utc=True).dt.tz_convert("Europe/Paris").dt.date
    daily = frame.pivot_table(index="day", columns="item_id", values="qty", aggfunc="sum")
    all_days = [clock.paris_day(now - timedelta(days=offset)) for offset in range(days, 0, -1)]
    daily = daily.reindex(pd.Index(all_days, name="day")).fillna(0.0)
    return {int(item_id): float(mean) for item_id, mean in daily.mean().items()}


def reorder_point(item: Item, avg_daily: float | None) -> Decimal | None:
    """Fixed: the item's own figure. Computed: average daily demand × lead time + safety stock."""
    if item.reorder_mode != "computed":
        return item.reorder_point
    lead = item.supplier.lead_time_days if item.supplier else DEFAULT_LEAD_TIME_DAYS
    point = Decimal(str(round((avg_daily or 0.0) * lead, 3))) + (item.safety_stock or Decimal(0))
    return point.quantize(Decimal("0.001"))


def stock_positions(db: Session, item_ids) -> dict[int, Decimal]:
    """Free stock where it can be used (storage, reception) plus what is on order."""
    ids = list(item_ids)
    free = db.execute(select(Balance.item_id, func.sum(Balance.qty - Balance.reserved))
                      .join(Location, Location.id == Balance.location_id)
                      .where(Location.kind.in_(POSITION_KINDS), Balance.item_id.in_(ids)).group_by(Balance.item_id))
    on_order = db.execute(select(PurchaseRequest.item_id, func.sum(PurchaseRequest.qty))
                          .where(PurchaseRequest.status == "open", PurchaseRequest.item_id.in_(ids))
                          .group_by(PurchaseRequest.item_id))
    positions = {item_id: Decimal(0) for item_id in ids}
    for item_id, qty in list(free) + list(on_order):
        positions[item_id] += Decimal(qty or 0)
    return positions


def _suggested_qty(item: Item, point: Decimal, position: Decimal) -> Decimal:
    qty = item.reorder_qty if item.reorder_qty else max(point * 2 - position, Decimal(1))
    return Decimal(qty).to_integral_value(ROUND_CEILING) if item.unit == "u" else Decimal(qty)


# -- The job ----------------------------------------------------------------------

def propose_purchases(db: Session, now: datetime) -> dict:
    """Open one proposal per item whose position is at or under its reorder point; close the open
    proposals of items back above it. Running it twice changes nothing the second time."""
    items = list(db.scalars(select(Item).where(Item.active.is_(True), (Item.reorder_mode == "computed")
                                               | Item.reorder_point.is_not(None))))
    computed = [item.id for item in items if item.reorder_mode == "computed"]
    demand = average_daily_demand(db, computed, now) if computed else {}
    positions = stock_positions(db, [item.id for item in items])
    open_ = {p.item_id: p for p in db.scalars(select(PurchaseProposal).where(PurchaseProposal.status == "open"))}
    created = closed = 0
    for item in items:
        point = reorder_point(item, demand.get(item.id))
        position = positions[item.id]
        needed = point is not None and point > 0 and position <= point
        if needed and item.id not in open_:
            created += _insert_proposal(db, item, point, position, demand.get(item.id), now)
        elif not needed and item.id in open_:
            open_[item.id].status, open_[item.id].closed_at = "dismissed", now
            closed += 1
    db.flush()
    return {"created": created, "closed": closed}


def _insert_proposal(db: Session, item: Item, point: Decimal, position: Decimal, avg: float | None,
                     now: datetime) -> int:
    """Insert in a savepoint: a second worker racing on the same item hits the unique index, not a crash."""
    try:
        with db.begin_nested():
            db.add(PurchaseProposal(item_id=item.id, status="open", position_qty=position, reorder_point=point,
                                    suggested_qty=_suggested_qty(item, point, position), created_at=now,
                                    avg_daily_demand=Decimal(str(round(avg, 3))) if avg is not None else None))
        return 1
    except IntegrityError:
        return 0


def flag_lots(db: Session, now: datetime, warning_days: int) -> dict:
    """Flag lots in stock that expire within `warning_days` (expiring) or are past expiry (expired,
    to dispose of). One flag per lot and kind, ever: a second run adds nothing."""
    today = clock.paris_day(now)
    stocked = (select(Balance.lot_id).join(Location, Location.id == Balance.location_id)
               .where(Balance.qty > 0, Location.kind.in_(STOCK_KINDS)).distinct())
    lots = db.execute(select(Lot.id, Lot.expiry).where(Lot.expiry.is_not(None),
                                                       Lot.expiry <= today + timedelta(days=warning_days),
                                                       Lot.id.in_(stocked))).all()
    existing = flags.existing_flags(db, [lot_id for lot_id, _ in lots])
    created = 0
    for lot_id, expiry in lots:
        kinds = [("expiring", "")] + ([("disposal", f"À éliminer : périmé depuis le {expiry:%d/%m/%Y}")]
                                      if expiry < today else [])
        for kind, reason in kinds:
            if (lot_id, kind) not in existing:
                created += flags.flag(db, lot_id, kind, expiry, now, reason)
    db.flush()
    return {"flagged": created}


# -- Pages' queries ---------------------------------------------------------------

def open_proposals(db: Session, limit: int = 200) -> list[PurchaseProposal]:
    return list(db.scalars(select(PurchaseProposal).options(joinedload(PurchaseProposal.item).joinedload(Item.supplier))
                           .where(PurchaseProposal.status == "open").order_by(PurchaseProposal.created_at.desc(),
                                                                              PurchaseProposal.id).limit(limit)))


def expiring_lots(db: Session, now: datetime, warning_days: int, limit: int = 300) -> list[dict]:
    """Lots in stock expiring within the warning window (or expired), with quantity, value and flags."""
    today = clock.paris_day(now)
    rows = db.execute(
        select(Lot.id, Lot.number, Lot.expiry, Item.sku, Item.name, Item.unit, Item.unit_cost,
               func.sum(Balance.qty), func.group_concat(Location.code) if db.bind.dialect.name == "sqlite"
               else func.string_agg(Location.code, ","))
        .join(Item, Item.id == Lot.item_id).join(Balance, Balance.lot_id == Lot.id)
        .join(Location, Location.id == Balance.location_id)
        .where(Lot.expiry.is_not(None), Lot.expiry <= today + timedelta(days=warning_days), Balance.qty > 0,
               Location.kind.in_(STOCK_KINDS))
        .group_by(Lot.id, Lot.number, Lot.expiry, Item.sku, Item.name, Item.unit, Item.unit_cost)
        .order_by(Lot.expiry, Item.sku).limit(limit)).all()
    flags = {}
    if rows:
        for lot_id, kind, at in db.execute(select(LotFlag.lot_id, LotFlag.kind, LotFlag.flagged_at)
                                           .where(LotFlag.lot_id.in_([r[0] for r in rows]))):
            flags.setdefault(lot_id, {})[kind] = at
    return [{"lot_id": r[0], "lot": r[1], "expiry": r[2], "sku": r[3], "name": r[4], "unit": r[5],
             "qty": r[7], "value": r[7] * r[6], "locations": ", ".join(sorted(set((r[8] or "").split(",")))),
             "expired": r[2] < today, "days_left": (r[2] - today).days, "flags": flags.get(r[0], {})} for r in rows]


def purchase_requests(db: Session, actor: User, limit: int = 200) -> list[PurchaseRequest]:
    query = select(PurchaseRequest).order_by(PurchaseRequest.performed_at.desc()).limit(limit)
    return list(db.scalars(query.where(access.visible_filter(PurchaseRequest, actor))))


# -- Purchase requests ------------------------------------------------------------

def create_purchase_request(db: Session, actor: User, *, now: datetime, qty: Decimal, due_date: date,
                            supplier: Supplier | None = None, item: Item | None = None,
                            proposal: PurchaseProposal | None = None, note: str = "") -> PurchaseRequest:
    """An apprentice's purchase request, from a proposal (which it closes) or for any item."""
    if actor.role != "apprentice":
        raise Forbidden("Une demande d'achat est une activité d'apprenti.", "proposal")
    if proposal is not None:
        if proposal.status != "open":
            raise Conflict("Cette proposition est déjà traitée.", "proposal")
        item = proposal.item
    if item is None:
        raise ValidationError("L'article est obligatoire.", "sku")
    supplier = supplier or item.supplier
    if supplier is None:
        raise ValidationError(f"{item.sku} n'a pas de fournisseur habituel : indiquez-en un.", "supplier")
    if qty is None or qty <= 0:
        raise ValidationError("La quantité doit être strictement positive.", "qty")
    if due_date < clock.paris_day(now):
        raise ValidationError("La date de livraison souhaitée ne peut pas être passée.", "due_date")
    request = new_activity(PurchaseRequest, actor, now, title=activity_title(f"Demande d'achat {item.sku} — {item.name}"),
                           item_id=item.id, supplier_id=supplier.id, qty=qty, due_date=due_date, status="open",
                           description=note or "")
    db.add(request)
    db.flush()
    if proposal is not None:
        proposal.status, proposal.closed_at, proposal.purchase_request_id = "converted", now, request.id
    db.flush()
    return request


def get_proposal(db: Session, proposal_id: int) -> PurchaseProposal:
    return access.get(db, PurchaseProposal, proposal_id, field="proposal", label="Proposition")


def visible_purchase_request(db: Session, actor: User, request_id: int) -> PurchaseRequest:
    return access.visible(db, PurchaseRequest, actor, request_id, field="request_id", label="Demande d'achat")


def cancel_purchase_request(db: Session, actor: User, request: PurchaseRequest) -> None:
    if request.author_id != actor.id:
        raise Forbidden("Seul l'auteur annule sa demande d'achat.", "request_id")
    ensure_editable(request)
    if request.status != "open":
        raise Conflict("Seule une demande ouverte peut être annulée.", "request_id")
    request.status = "cancelled"
    db.flush()
