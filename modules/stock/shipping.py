"""Shipping of finished goods (LOG-5): shipping order → prepare → check by scan → load → departure.

Preparing moves the goods from storage to the shipping location (reason "pick"), lot by lot in
the item's removal order, never an expired lot nor one inside its removal margin; a shortage
refuses the whole preparation with nothing moved. The departure posts the exit moves
(reason "shipment") from the shipping location.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shopfloor import access
from shopfloor import clock
from shopfloor.auth.models import User
from shopfloor.errors import Conflict, Forbidden, ValidationError
from shopfloor.evidence.activities import new_activity
from shopfloor.evidence.services import ensure_editable
from modules.stock import ledger
from modules.stock.lookup import item_by_sku, location_by_code
from modules.stock.models import (
    Balance, Carrier, Item, Location, Lot, Move, Shipment, ShipmentLine, ShipmentPick, activity_title)
from modules.stock.inputs import NewShipment


def _fmt(qty: Decimal) -> str:
    return f"{Decimal(qty).normalize():f}"


def create_shipment(db: Session, actor: User, spec: NewShipment, now: datetime,
                    shipping_location: str | None = None) -> Shipment:
    if actor.role != "apprentice":
        raise Forbidden("Une expédition est une activité d'apprenti.", "order_ref")
    location = _shipping_location(db, shipping_location)
    shipment = new_activity(Shipment, actor, now, title=activity_title(f"Expédition commande {spec.order_ref}"),
                            order_ref=spec.order_ref,
                            status="draft", shipping_location_id=location.id)
    for number, line in enumerate(spec.lines, start=1):
        item = item_by_sku(db, line.sku, f"lines[{number}].sku")
        shipment.lines.append(ShipmentLine(item_id=item.id, item=item, qty=line.qty, customer=line.customer))
    db.add(shipment)
    db.flush()
    return shipment


def _shipping_location(db: Session, code: str | None) -> Location:
    if code:
        location = location_by_code(db, code, "shipping_location")
        if location.kind != "shipping":
            raise ValidationError(f"{location.code} n'est pas une zone d'expédition.", "shipping_location")
        return location
    location = db.scalars(select(Location).where(Location.kind == "shipping", Location.active.is_(True))
                          .order_by(Location.code).limit(1)).first()
    if location is None:
        raise ValidationError("Aucune zone d'expédition n'est définie dans le magasin.", "shipping_location")
    return location


def visible_shipment(db: Session, actor: User, shipment_id: int) -> Shipment:
    return access.visible(db, Shipment, actor, shipment_id, field="shipment_id", label="Expédition",
                          options=[selectinload(Shipment.lines).selectinload(ShipmentLine.picks)])


def _own_step(actor: User, shipment: Shipment, expected_status: str, step: str) -> None:
    if shipment.author_id != actor.id:
        raise Forbidden("Seul l'auteur de l'expédition la fait avancer.", "shipment_id")
    ensure_editable(shipment)
    if shipment.status != expected_status:
        raise Conflict(f"Impossible de {step} : l'expédition n'est pas à cette étape.", "status")


def ready_to_check(actor: User, shipment: Shipment) -> None:
    """The check's state rule, which its handler applies before reading the quantity (a 403 or 409 first)."""
    _own_step(actor, shipment, "prepared", "contrôler")


def ready_to_depart(actor: User, shipment: Shipment) -> None:
    """The departure's state rule, which its handler applies before reading the carrier and the truck."""
    _own_step(actor, shipment, "loaded", "enregistrer le départ")


def removal_order(item: Item, rows: list[tuple[Balance, Lot]]) -> list[tuple[Balance, Lot]]:
    """FEFO: earliest expiry (lots without one last), then earliest received, then lot id;
    FIFO: earliest received then lot id; LIFO: latest received first."""
    if item.strategy == "fefo":
        return sorted(rows, key=lambda r: (r[1].expiry is None, r[1].expiry or r[1].received_at.date(),
                                           r[1].received_at, r[1].id, r[0].location.code))
    if item.strategy == "lifo":
        return sorted(rows, key=lambda r: (-r[1].received_at.timestamp(), -r[1].id, r[0].location.code))
    return sorted(rows, key=lambda r: (r[1].received_at, r[1].id, r[0].location.code))


def available_in_storage(db: Session, item: Item, now: datetime) -> list[tuple[Balance, Lot, Decimal]]:
    """Free stock of an item in storage, in removal order, without expired lots or lots inside the margin."""
    today = clock.paris_day(now)
    rows = db.execute(select(Balance, Lot).join(Lot, Lot.id == Balance.lot_id)
                      .join(Location, Location.id == Balance.location_id)
                      .where(Balance.item_id == item.id, Location.kind == "storage", Location.active.is_(True),
                             Balance.qty > Balance.reserved)
                      .execution_options(populate_existing=True)).all()
    usable = [(b, lot) for b, lot in rows
              if lot.expiry is None or (lot.expiry - today).days >= max(item.removal_margin_days or 0, 0)
              and lot.expiry >= today]
    return [(b, lot, b.qty - b.reserved) for b, lot in removal_order(item, usable)]


def prepare(db: Session, actor: User, shipment: Shipment, now: datetime) -> list[Move]:
    """Move each line's quantity from storage to the shipping location; all lines or none."""
    _own_step(actor, shipment, "draft", "préparer")
    for item_id in sorted({line.item_id for line in shipment.lines}):
        ledger.lock_item(db, item_id)
    plan = []
    for line in shipment.lines:
        need, taken = line.qty, []
        for balance, lot, free in available_in_storage(db, line.item, now):
            if need <= 0:
                break
            qty = min(need, free)
            taken.append((balance, lot, qty))
            need -= qty
        if need > 0:
            raise Conflict(f"Stock insuffisant pour {line.item.sku} : {_fmt(line.qty - need)} disponible(s) en "
                           f"stockage, {_fmt(line.qty)} commandé(s). Rien n'a été préparé.", "lines")
        plan.append((line, taken))
    target = shipment.shipping_location
    moves = []
    for line, taken in plan:
        for balance, lot, qty in taken:
            moves.append(ledger.move(db, item=line.item, lot=lot, qty=qty, source=balance.location, target=target,
                                     reason="pick", user=actor, at=now, activity_id=shipment.id,
                                     note=f"Préparation commande {shipment.order_ref}"))
            line.picks.append(ShipmentPick(lot_id=lot.id, from_location_id=balance.location_id, qty=qty))
    shipment.status = "prepared"
    db.flush()
    return moves


def check_line(db: Session, actor: User, shipment: Shipment, *, sku: str, qty: Decimal, now: datetime) -> ShipmentLine:
    """Check a prepared line against the order by scanning its item and typing the quantity seen."""
    ready_to_check(actor, shipment)
    item = item_by_sku(db, sku)
    counted = qty
    line = next((line for line in shipment.lines if line.item_id == item.id and line.checked_qty is None), None)
    if line is None:
        if any(line.item_id == item.id for line in shipment.lines):
            raise Conflict(f"{item.sku} est déjà contrôlé sur cette commande.", "sku")
        raise ValidationError(f"{item.sku} n'est pas sur la commande {shipment.order_ref} : ne le chargez pas.", "sku")
    if counted != line.qty:
        raise ValidationError(f"{item.sku} : {_fmt(counted)} contrôlé(s) pour {_fmt(line.qty)} commandé(s). "
                              f"Recomptez la préparation.", "qty")
    line.checked_qty = counted
    if all(line.checked_qty is not None for line in shipment.lines):
        shipment.status = "checked"
    db.flush()
    return line


def load(db: Session, actor: User, shipment: Shipment, now: datetime) -> Shipment:
    _own_step(actor, shipment, "checked", "charger")
    shipment.status, shipment.loaded_at = "loaded", now
    db.flush()
    return shipment


def depart(db: Session, actor: User, shipment: Shipment, *, carrier: str, truck: str, departed_at: datetime | None,
           now: datetime) -> list[Move]:
    """Record the carrier and the truck's departure (as inputs.departure reads them): the goods leave the stock
    (exit moves)."""
    ready_to_depart(actor, shipment)
    found = db.scalars(select(Carrier).where(Carrier.name == carrier)).one_or_none()
    if found is None:
        raise ValidationError(f"Transporteur « {carrier} » inconnu.", "carrier")
    departed_at = departed_at or now
    if departed_at > now:
        raise ValidationError("Le départ du camion ne peut pas être dans le futur.", "departed_at")
    for item_id in sorted({line.item_id for line in shipment.lines}):
        ledger.lock_item(db, item_id)
    moves = []
    for line in shipment.lines:
        for pick in line.picks:
            moves.append(ledger.move(db, item=line.item, lot=pick.lot, qty=pick.qty, source=shipment.shipping_location,
                                     target=None, reason="shipment", user=actor, at=departed_at,
                                     activity_id=shipment.id,
                                     note=f"Commande {shipment.order_ref} pour {line.customer}, {carrier} {truck}"))
    shipment.carrier_id, shipment.truck, shipment.departed_at, shipment.status = found.id, truck, departed_at, "shipped"
    db.flush()
    return moves


def shipments(db: Session, actor: User, limit: int = 100) -> list[Shipment]:
    query = select(Shipment).order_by(Shipment.performed_at.desc()).limit(limit)
    return list(db.scalars(query.where(access.visible_filter(Shipment, actor))))
