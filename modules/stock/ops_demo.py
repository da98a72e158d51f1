"""Demo of the stores' operations, on top of the store demo.py builds (items, locations, stock).

lucas (LOG) counted a rack last week (validated by his tutor, with one adjustment), has a count
in progress, turned a replenishment proposal into a purchase request, shipped an order of
finished goods, ran a collection round and an ABC study.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopfloor.auth.models import User
from modules.stock import counts, layout, replenishment, rounds, shipping
from modules.stock.models import Balance, Carrier, Item, Location
from modules.stock.models_ops import Count, PurchaseProposal


def load(db: Session, now: datetime) -> None:
    lucas = db.scalar(select(User).where(User.username == "lucas"))
    tutor = db.scalar(select(User).where(User.username == "tuteur"))
    if lucas is None or tutor is None or db.scalar(select(Item.id).limit(1)) is None:
        return
    if db.scalar(select(Count.id).limit(1)) is not None:
        return  # already loaded
    racks = _stocked_racks(db)
    if racks:
        _validated_count(db, lucas, tutor, racks[0], now - timedelta(days=6))
    if len(racks) > 1:
        _pending_count(db, lucas, racks[1], now - timedelta(hours=3))
    _replenishment(db, lucas, now)
    _shipment(db, lucas, now - timedelta(days=2))
    _round(db, lucas, now - timedelta(days=1))
    layout.create_study(db, lucas, basis="frequency", window_days=90, now=now - timedelta(days=4))
    db.flush()


def _stocked_racks(db: Session) -> list[str]:
    codes = db.scalars(select(Location.code).join(Balance, Balance.location_id == Location.id)
                       .where(Location.kind == "storage", Balance.qty > 0).distinct().order_by(Location.code))
    racks = []
    for code in codes:
        rack = "-".join(code.split("-")[:3])
        if len(code.split("-")) >= 3 and rack not in racks:
            racks.append(rack)
    return racks


def _count_all(db: Session, lucas: User, count: Count, when: datetime, short_first: bool, limit: int | None = None):
    for index, line in enumerate(counts.sorted_lines(count)[:limit]):
        qty = line.expected_qty
        if short_first and index == 0 and qty >= 1:
            qty -= 1  # one missing unit: counted, recounted, confirmed
            counts.record_line(db, lucas, count, location_code=line.location.code, sku=line.item.sku,
                               lot_number=line.lot.number, counted_qty=qty, now=when)
        counts.record_line(db, lucas, count, location_code=line.location.code, sku=line.item.sku,
                           lot_number=line.lot.number, counted_qty=qty, now=when)


def _validated_count(db: Session, lucas: User, tutor: User, rack: str, when: datetime) -> None:
    count = counts.create_count(db, lucas, scope="rack", value=rack, now=when, title=f"Inventaire tournant rack {rack}")
    count.description = "Comptage à l'aveugle du rack au scanner, recomptage de l'écart, validation par la tutrice."
    _count_all(db, lucas, count, when + timedelta(minutes=40), short_first=True)
    counts.validate_count(db, tutor, count, when + timedelta(hours=3))


def _pending_count(db: Session, lucas: User, rack: str, when: datetime) -> None:
    count = counts.create_count(db, lucas, scope="rack", value=rack, now=when)
    _count_all(db, lucas, count, when + timedelta(minutes=20), short_first=False, limit=max(len(count.lines) // 2, 1))


def _replenishment(db: Session, lucas: User, now: datetime) -> None:
    if db.scalar(select(func.count(Item.id)).where(Item.reorder_point.is_not(None))) == 0:
        # the store's master data has no reorder points yet: give the three lowest stocks one
        low = db.execute(select(Balance.item_id, func.sum(Balance.qty).label("qty")).group_by(Balance.item_id)
                         .order_by("qty").limit(3)).all()
        for item_id, qty in low:
            db.get(Item, item_id).reorder_point = Decimal(qty) + 10
    replenishment.propose_purchases(db, now - timedelta(hours=6))
    replenishment.flag_lots(db, now - timedelta(hours=6), 30)
    proposal = db.scalars(select(PurchaseProposal).where(PurchaseProposal.status == "open")
                          .order_by(PurchaseProposal.id).limit(1)).first()
    if proposal is not None and (proposal.item.supplier is not None):
        lead = proposal.item.supplier.lead_time_days
        replenishment.create_purchase_request(db, lucas, now=now - timedelta(hours=5), proposal=proposal,
                                              qty=proposal.suggested_qty,
                                              due_date=(now + timedelta(days=lead)).date(),
                                              note="Proposition du calcul de réapprovisionnement, quantité validée "
                                                   "avec l'acheteur.")


def _shipment(db: Session, lucas: User, when: datetime) -> None:
    row = db.execute(select(Item, func.sum(Balance.qty - Balance.reserved).label("free"))
                     .join(Balance, Balance.item_id == Item.id).join(Location, Location.id == Balance.location_id)
                     .where(Item.category == "produit_fini", Location.kind == "storage")
                     .group_by(Item.id).order_by(Item.sku).limit(1)).first()
    carrier = db.scalar(select(Carrier).order_by(Carrier.name).limit(1))
    shipping_location = db.scalar(select(Location.id).where(Location.kind == "shipping").limit(1))
    if row is None or row.free < 1 or shipping_location is None:
        return
    qty = min(Decimal(2), Decimal(row.free))
    order = shipping.create_shipment(db, lucas, order_ref="CDE-2026-0412", now=when,
                                     lines=[{"sku": row.Item.sku, "qty": qty, "customer": "Hydrauliq SA"}])
    shipping.prepare(db, lucas, order, when + timedelta(minutes=30))
    shipping.check_line(db, lucas, order, sku=row.Item.sku, qty=qty, now=when + timedelta(minutes=45))
    shipping.load(db, lucas, order, when + timedelta(hours=1))
    if carrier is not None:
        shipping.depart(db, lucas, order, carrier=carrier.name, truck="GH-482-KL", departed_at=when + timedelta(hours=1, minutes=10),
                        now=when + timedelta(hours=1, minutes=15))


def _round(db: Session, lucas: User, when: datetime) -> None:
    tour = rounds.create_round(db, lucas, when, "Tournée de collecte fin de poste")
    at_line = db.scalars(select(Balance).join(Location, Location.id == Balance.location_id)
                         .where(Location.kind == "line", Balance.qty >= 1).order_by(Balance.id).limit(1)).first()
    if at_line is None:
        return
    kind = {"produit_fini": "finished", "emballage": "packaging"}.get(at_line.item.category, "waste")
    target_kind = "storage" if kind != "waste" else "waste"
    target = db.scalar(select(Location).where(Location.kind == target_kind, Location.active.is_(True))
                       .order_by(Location.code).limit(1))
    if target is None:
        return
    rounds.collect(db, lucas, tour, kind=kind, from_code=at_line.location.code, to_code=target.code,
                   sku=at_line.item.sku, lot_number=at_line.lot.number, qty=Decimal(1), now=when + timedelta(minutes=15))
    rounds.close_round(db, lucas, tour, when + timedelta(minutes=40))
