"""Reception (LOG-1, LOG-2): expected receipts, receiving against the delivery note with quantity and
quality checks, anomalies and their decisions, quarantine and its release, put-away by rules.

Decisions taken here (issue #4 §3):
- A line's anomalies share the line's decision. "quarantine" and "return" put the goods in a quarantine
  location whatever location the line named; "return" then posts the exit to the supplier at once.
  A line sent with conforming=false is quarantined (or returned when that is its decision).
- Expired lots, damaged packaging, wrong labels, items not on the order and a remaining shelf life under
  a third of the item's shelf life (and under its removal margin) are quarantined unless the line says
  "return". Quantity differences (note vs received) default to "accept with reservations on the note".
- Only a tutor or an admin releases quarantined stock (a quality decision, not the receiver's own).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from shopfloor import access
from shopfloor import clock
from shopfloor.auth.models import User
from shopfloor.errors import Conflict, Forbidden, NotFound, ValidationError
from shopfloor.db import lock
from shopfloor.evidence.activities import new_activity
from shopfloor.evidence.cancellation import ensure_not_cancelled
from shopfloor.evidence.services import ensure_editable
from modules.stock import ledger
from modules.stock.lookup import item_by_sku, location_by_code
from modules.stock.models import (ANOMALY_KINDS, Balance, Carrier, ExpectedReceipt, ExpectedReceiptLine,
                                  Item, Location, Lot, Reception, ReceptionAnomaly, ReceptionLine, Supplier)
from modules.stock.inputs import Correction, LineInput, NewExpected
from modules.stock.picking import can_handle, fmt
from modules.stock.quantities import check_qty

QUARANTINE_BY_DEFAULT = {"damaged", "labels", "wrong_item", "expired", "short_shelf_life"}
ENTRY_KINDS = ("reception", "storage", "line")  # where conforming goods may land
MIN_SHELF_LIFE_SHARE = Decimal(1) / 3


# -- Expected receipts -------------------------------------------------------------------

def create_expected(db: Session, *, supplier: Supplier, spec: NewExpected) -> ExpectedReceipt:
    if db.scalar(select(ExpectedReceipt.id).where(ExpectedReceipt.reference == spec.reference)) is not None:
        raise Conflict(f"La réception attendue {spec.reference} existe déjà.", "reference")
    if not spec.lines:
        raise ValidationError("Une réception attendue a au moins une ligne.", "lines")
    receipt = ExpectedReceipt(supplier=supplier, reference=spec.reference, kind=spec.kind, expected_on=spec.expected_on)
    for number, (sku, qty) in enumerate(spec.lines, start=1):
        if qty is None or qty <= 0:
            raise ValidationError(f"Ligne {number} : quantité strictement positive attendue.", "lines")
        receipt.lines.append(ExpectedReceiptLine(item=item_by_sku(db, sku, "lines"), qty=qty))
    db.add(receipt)
    db.flush()
    return receipt


# -- Receiving ----------------------------------------------------------------------------

def open_reception(db: Session, actor: User, *, supplier: Supplier, delivery_note: str, now: datetime,
                   carrier: Carrier | None = None, expected: ExpectedReceipt | None = None,
                   truck_arrived_at: datetime | None = None, documents_ok: bool = True,
                   reservations: str = "") -> Reception:
    note = (delivery_note or "").strip().upper()
    if not note:
        raise ValidationError("Scannez ou saisissez le numéro du bon de livraison.", "delivery_note")
    if len(note) > 60:
        raise ValidationError("Le numéro de bon de livraison dépasse 60 caractères.", "delivery_note")
    if expected is not None and expected.supplier_id != supplier.id:
        raise ValidationError(f"La commande {expected.reference} est passée chez {expected.supplier.name}.", "expected")
    if truck_arrived_at is not None and truck_arrived_at > now:
        raise ValidationError("L'arrivée du camion ne peut pas être dans le futur.", "truck_arrived_at")
    reception = new_activity(Reception, actor, now, title=f"Réception {supplier.name} – BL {note}", supplier=supplier,
                             carrier=carrier, delivery_note=note, expected_receipt=expected,
                             truck_arrived_at=truck_arrived_at or now, documents_ok=documents_ok,
                             reservations=(reservations or "").strip())
    db.add(reception)
    db.flush()
    if not documents_ok:
        _anomaly(reception, None, None, "missing_documents", "reservations",
                 "Documents de livraison manquants (BL, certificat ou fiche de données de sécurité).")
        _add_reservation(reception, "Documents manquants à la livraison.")
    return reception


def get_reception(db: Session, actor: User, reception_id: int) -> Reception:
    return access.visible(db, Reception, actor, reception_id, label="Réception")


def _editable(reception: Reception) -> None:
    ensure_editable(reception)
    if reception.closed_at is not None:
        raise Conflict("Cette réception est clôturée (camion parti).", "id")


def add_line(db: Session, actor: User, reception: Reception, data: LineInput, now: datetime,
             field_prefix: str = "") -> ReceptionLine:
    """Receive one line: lot and expiry capture, checks, anomalies, and the entry move."""
    _editable(reception)
    item = item_by_sku(db, data.sku, f"{field_prefix}sku")
    check_qty(item, data.qty, f"{field_prefix}qty")
    check_qty(item, data.note_qty, f"{field_prefix}note_qty")
    problems = _quality_problems(db, reception, item, data, clock.paris_day(now), field_prefix)
    decision = _decision(data, problems)
    location = _landing(db, data, decision, field_prefix)
    lot = _lot(db, reception, item, data, now, field_prefix)
    line = ReceptionLine(item_id=item.id, lot=lot, location=location, qty=data.qty, note_qty=data.note_qty,
                         expiry=lot.expiry, conforming=decision in ("accept", "reservations"),
                         packaging_ok=data.packaging_ok, labels_ok=data.labels_ok, decision=decision,
                         reason=data.reason)
    reception.lines.append(line)
    db.flush()
    for kind, note in problems:
        _anomaly(reception, line, item, kind, decision, note)
    if decision == "reservations":
        _add_reservation(reception, f"{item.sku} : " + "; ".join(note for _, note in problems))
    ledger.move(db, item=item, lot=lot, qty=data.qty, source=None, target=location, reason="reception", user=actor,
                at=now, activity_id=reception.id, note=f"BL {reception.delivery_note}")
    if decision == "return":
        ledger.move(db, item=item, lot=lot, qty=data.qty, source=location, target=None, reason="return_supplier",
                    user=actor, at=now, activity_id=reception.id,
                    note=f"Refusé à la réception : {data.reason or ', '.join(k for k, _ in problems)}")
    db.flush()
    return line


def _quality_problems(db: Session, reception: Reception, item: Item, data: LineInput, today: date,
                      prefix: str) -> list[tuple[str, str]]:
    problems = []
    if data.note_qty is not None and data.note_qty != data.qty:
        kind = "short" if data.qty < data.note_qty else "over"
        problems.append((kind, f"{fmt(data.qty)} reçu(s) pour {fmt(data.note_qty)} sur le bon de livraison"))
    if not data.packaging_ok:
        problems.append(("damaged", data.reason or "Emballage endommagé"))
    if not data.labels_ok:
        problems.append(("labels", data.reason or "Étiquetage absent ou illisible"))
    if not data.conforming and not any(kind in ("damaged", "labels") for kind, _ in problems):
        problems.append(("damaged", data.reason or "Déclarée non conforme au contrôle"))
    if reception.expected_receipt is not None and item.id not in {line.item_id for line in reception.expected_receipt.lines}:
        problems.append(("wrong_item", f"{item.sku} ne figure pas sur la commande {reception.expected_receipt.reference}"))
    if data.expiry is not None:
        remaining = (data.expiry - today).days
        needed = min_remaining_days(item)
        if remaining < 0:
            problems.append(("expired", f"Lot périmé depuis le {data.expiry:%d/%m/%Y}"))
        elif remaining < needed:
            problems.append(("short_shelf_life", f"{remaining} j de vie restante, {needed} j exigés"))
    elif item.strategy == "fefo":
        raise ValidationError(f"{item.sku} est géré en FEFO : saisissez la date de péremption.", f"{prefix}expiry")
    return problems


def min_remaining_days(item: Item) -> int:
    """Shelf life a delivery must still have: a third of the item's shelf life, at least its removal margin."""
    share = int(item.shelf_life_days * MIN_SHELF_LIFE_SHARE) if item.shelf_life_days else 0
    return max(share, item.removal_margin_days)


def _decision(data: LineInput, problems: list[tuple[str, str]]) -> str:
    kinds = {kind for kind, _ in problems}
    decision = data.decision or ("quarantine" if kinds & QUARANTINE_BY_DEFAULT else
                                 "reservations" if kinds else "accept")
    if decision in ("accept", "reservations") and (not data.conforming or "expired" in kinds):
        decision = "quarantine"  # non-conforming or expired goods are never accepted into free stock
    return decision


def quarantine_location(db: Session) -> Location:
    location = db.scalar(select(Location).where(Location.kind == "quarantine", Location.active.is_(True))
                         .order_by(Location.code).limit(1))
    if location is None:
        raise ValidationError("Aucun emplacement de quarantaine : créez-en un dans les données de base.", "location")
    return location


def _landing(db: Session, data: LineInput, decision: str, prefix: str) -> Location:
    named = location_by_code(db, data.location, f"{prefix}location") if data.location else None
    if decision in ("quarantine", "return"):
        return named if named is not None and named.kind == "quarantine" else quarantine_location(db)
    if named is None:
        named = db.scalar(select(Location).where(Location.kind == "reception", Location.active.is_(True))
                          .order_by(Location.code).limit(1))
        if named is None:
            raise ValidationError("Indiquez l'emplacement de dépose (aucun quai de réception défini).",
                                  f"{prefix}location")
    if named.kind not in ENTRY_KINDS:
        raise ValidationError(f"{named.code} ({named.kind}) ne reçoit pas de marchandise conforme : "
                              f"quai de réception, stockage ou bord de ligne.", f"{prefix}location")
    return named


def _lot(db: Session, reception: Reception, item: Item, data: LineInput, now: datetime, prefix: str) -> Lot:
    number = (data.lot or "").strip()
    if not number:
        if item.lot_tracked:
            raise ValidationError(f"{item.sku} est suivi en lot : scannez le numéro de lot.", f"{prefix}lot")
        number = f"R{reception.id}-{len(reception.lines) + 1}"  # system lot, so FIFO knows the arrival order
    lot = db.scalar(select(Lot).where(Lot.item_id == item.id, Lot.number == number))
    if lot is None:
        lot = Lot(item_id=item.id, number=number, expiry=data.expiry, received_at=now,
                  supplier_id=reception.supplier_id)
        db.add(lot)
        db.flush()
    elif data.expiry is not None and lot.expiry is not None and lot.expiry != data.expiry:
        raise ValidationError(f"Le lot {number} de {item.sku} est déjà connu avec la péremption "
                              f"{lot.expiry:%d/%m/%Y}.", f"{prefix}expiry")
    return lot


def _anomaly(reception: Reception, line: ReceptionLine | None, item: Item | None, kind: str, decision: str,
             note: str) -> None:
    reception.anomalies.append(ReceptionAnomaly(line_id=line.id if line else None, item_id=item.id if item else None,
                                                kind=kind, decision=decision, note=note[:300]))


def _add_reservation(reception: Reception, text: str) -> None:
    reception.reservations = "\n".join(filter(None, [reception.reservations, text]))


def close_reception(db: Session, actor: User, reception: Reception, now: datetime,
                    truck_departed_at: datetime | None = None) -> Reception:
    """Truck departure: compare with the expected receipt (short / over per item) and close."""
    _editable(reception)
    departed = truck_departed_at or now
    if departed > now:
        raise ValidationError("Le départ du camion ne peut pas être dans le futur.", "truck_departed_at")
    if reception.truck_arrived_at and departed < reception.truck_arrived_at:
        raise ValidationError("Le camion ne peut pas repartir avant d'être arrivé.", "truck_departed_at")
    if reception.expected_receipt is not None:
        _compare_with_expected(reception)
        reception.expected_receipt.status = "received"
    reception.truck_departed_at, reception.closed_at = departed, now
    db.flush()
    return reception


def _compare_with_expected(reception: Reception) -> None:
    received: dict[int, Decimal] = {}
    for line in reception.lines:
        received[line.item_id] = received.get(line.item_id, Decimal(0)) + line.qty
    for expected in reception.expected_receipt.lines:
        got = received.get(expected.item_id, Decimal(0))
        if got != expected.qty:
            kind = "short" if got < expected.qty else "over"
            note = f"{expected.item.sku} : {fmt(got)} reçu(s) pour {fmt(expected.qty)} commandé(s)"
            _anomaly(reception, None, expected.item, kind, "reservations", note)
            _add_reservation(reception, note)


def receive(db: Session, actor: User, *, supplier: Supplier, delivery_note: str, lines: list[LineInput],
            now: datetime, carrier: Carrier | None = None, expected: ExpectedReceipt | None = None,
            documents_ok: bool = True, truck_arrived_at: datetime | None = None,
            truck_departed_at: datetime | None = None, close: bool = True) -> Reception:
    """A whole delivery in one action (the API): open, receive every line, close."""
    if not lines:
        raise ValidationError("Une réception a au moins une ligne.", "lines")
    reception = open_reception(db, actor, supplier=supplier, delivery_note=delivery_note, now=now, carrier=carrier,
                               expected=expected, documents_ok=documents_ok, truck_arrived_at=truck_arrived_at)
    for index, data in enumerate(lines):
        add_line(db, actor, reception, data, now, field_prefix=f"lines[{index}].")
    if close:
        close_reception(db, actor, reception, now, truck_departed_at)
    return reception


# -- Put-away -----------------------------------------------------------------------------

def fit_problem(db: Session, item: Item, location: Location, qty: Decimal) -> str | None:
    """Why the location cannot take this stock, or None when it can."""
    if problem := rule_problem(item, location):
        return problem
    if location.max_weight_kg is not None and item.unit_weight_kg:
        load = _loads(db, [location.id]).get(location.id, Decimal(0))
        if load + item.unit_weight_kg * qty > location.max_weight_kg:
            return (f"{location.code} : {fmt(load)} kg + {fmt(item.unit_weight_kg * qty)} kg dépasse "
                    f"la charge maximale de {fmt(location.max_weight_kg)} kg.")
    return None


def rule_problem(item: Item, location: Location) -> str | None:
    """The rules that need no stock figures: kind, hazard, category, temperature."""
    if location.kind != "storage" or not location.active:
        return f"{location.code} n'est pas un emplacement de stockage actif."
    if item.hazardous and not location.hazardous_ok:
        return f"{item.sku} est dangereux : {location.code} n'est pas une zone pour produits dangereux."
    if location.categories and item.category not in location.categories.split(","):
        return f"{location.code} est réservé aux catégories {location.categories}."
    if item.temp_min is not None or item.temp_max is not None:
        if location.temp_min is None or location.temp_max is None:
            return f"{item.sku} se stocke entre {item.temp_min} et {item.temp_max} °C : {location.code} n'est pas régulé."
        if ((item.temp_min is not None and location.temp_min < item.temp_min)
                or (item.temp_max is not None and location.temp_max > item.temp_max)):
            return (f"{location.code} ({location.temp_min}…{location.temp_max} °C) sort de la plage de {item.sku} "
                    f"({item.temp_min}…{item.temp_max} °C).")
    return None


def _loads(db: Session, location_ids: list[int] | None = None) -> dict[int, Decimal]:
    query = (select(Balance.location_id, func.sum(Balance.qty * func.coalesce(Item.unit_weight_kg, 0)))
             .join(Item, Item.id == Balance.item_id).where(Balance.qty > 0).group_by(Balance.location_id))
    if location_ids is not None:
        query = query.where(Balance.location_id.in_(location_ids))
    return {location_id: Decimal(load or 0) for location_id, load in db.execute(query)}


def suggest_location(db: Session, item: Item, qty: Decimal) -> Location | None:
    """The best storage location by the rules: fits (hazard, category, temperature, weight), fast movers
    (class A) near the dock and slow ones away from it, consolidate with the same item, then empty ones,
    then the round order. The weight is checked lazily on the best candidates only (fast at scale)."""
    locations = [loc for loc in db.scalars(select(Location).where(Location.kind == "storage", Location.active.is_(True)))
                 if rule_problem(item, loc) is None]
    if not locations:
        return None
    holding = set(db.scalars(select(Balance.location_id).where(Balance.item_id == item.id, Balance.qty > 0)))
    occupied = set(db.scalars(select(Balance.location_id).where(
        Balance.qty > 0, Balance.location_id.in_([loc.id for loc in locations])).distinct()))
    weight = (item.unit_weight_kg or Decimal(0)) * qty
    fast = item.abc_class == "A"
    locations.sort(key=lambda loc: (loc.near_dock != fast, loc.id not in holding, loc.id in occupied,
                                    loc.hazardous_ok != item.hazardous, loc.code))
    for loc in locations:
        if loc.max_weight_kg is None or not weight or \
                _loads(db, [loc.id]).get(loc.id, Decimal(0)) + weight <= loc.max_weight_kg:
            return loc
    return None


def put_away(db: Session, actor: User, line: ReceptionLine, location_code: str, now: datetime) -> ReceptionLine:
    """Move a received line from the dock to storage, confirmed by scanning the location."""
    reception = line.reception
    ensure_editable(reception)
    if not line.conforming:
        raise Conflict("Une ligne non conforme reste en quarantaine jusqu'à sa libération.", "line")
    if line.put_away_at is not None:
        raise Conflict(f"Ligne déjà rangée en {line.put_away_location.code}.", "line")
    if line.qty == 0:
        raise Conflict("Ligne corrigée à 0 (reçue par erreur) : rien à ranger.", "line")
    if line.location.kind != "reception":
        raise Conflict(f"Ligne déposée directement en {line.location.code} : rien à ranger.", "line")
    target = location_by_code(db, location_code, "location")
    item = ledger.lock_item(db, line.item_id)
    if problem := fit_problem(db, item, target, line.qty):
        raise ValidationError(problem, "location")
    ledger.move(db, item=item, lot=line.lot, qty=line.qty, source=line.location, target=target, reason="putaway",
                user=actor, at=now, activity_id=reception.id)
    line.put_away_location, line.put_away_at = target, now
    db.flush()
    return line


# -- Quarantine ---------------------------------------------------------------------------

def quarantine_stock(db: Session, limit: int = 500) -> list[Balance]:
    return list(db.scalars(
        select(Balance).join(Balance.location).options(joinedload(Balance.item), joinedload(Balance.lot),
                                                       joinedload(Balance.location))
        .where(Location.kind == "quarantine", Balance.qty > 0).order_by(Location.code, Balance.id).limit(limit)))


def release_quarantine(db: Session, actor: User, *, balance_id: int, decision: str, qty: Decimal, now: datetime,
                       location_code: str = "", note: str = "") -> None:
    """A tutor or admin decides on quarantined stock: release to storage, return to supplier, or scrap."""
    if actor.role not in ("tutor", "admin"):
        raise Forbidden("Seul un tuteur ou un administrateur libère ou rebute du stock en quarantaine.", "decision")
    row = db.get(Balance, balance_id)
    if row is None or row.location.kind != "quarantine":
        raise NotFound("Ce stock n'est pas en quarantaine.", "balance_id")
    if decision not in ("release", "return", "scrap"):
        raise ValidationError("Décision attendue : release (libérer), return (retour fournisseur) ou scrap (rebut).",
                              "decision")
    if qty is None or qty <= 0:
        raise ValidationError("La quantité doit être strictement positive.", "qty")
    item = ledger.lock_item(db, row.item_id)
    source, lot = row.location, row.lot
    if decision == "release":
        if lot.expiry is not None and lot.expiry < clock.paris_day(now):
            raise ValidationError(f"Le lot {lot.number} est périmé : retour fournisseur ou rebut seulement.", "decision")
        target = location_by_code(db, location_code, "location")
        if problem := fit_problem(db, item, target, qty):
            raise ValidationError(problem, "location")
        reason = "release"
    elif decision == "scrap":
        target = (location_by_code(db, location_code, "location") if location_code else
                  db.scalar(select(Location).where(Location.kind == "scrap", Location.active.is_(True))
                            .order_by(Location.code).limit(1)))
        if target is None or target.kind != "scrap":
            raise ValidationError("Indiquez un emplacement de rebut.", "location")
        reason = "scrap"
    else:
        target, reason = None, "return_supplier"
    ledger.move(db, item=item, lot=lot, qty=qty, source=source, target=target, reason=reason, user=actor, at=now,
                note=note or "Décision sur stock en quarantaine")


def anomaly_label(kind: str) -> str:
    return ANOMALY_KINDS.get(kind, kind)


# -- Correction before put-away ----------------------------------------------------------

def correct_line(db: Session, actor: User, line: ReceptionLine, correction: Correction,
                 now: datetime) -> ReceptionLine:
    """A line received by mistake (miscounted, wrong item scanned) is corrected before it is put away:
    the quantity received in excess leaves the stock where it landed by a reversing move, and the line
    keeps the quantity first received, who corrected it, when and why. Refused (409) once put away,
    once the reception is frozen by validated evidence, or cancelled."""
    reception = line.reception
    if not can_handle(actor, reception):
        raise Forbidden("Cette réception n'est pas la vôtre ni celle d'un apprenti que vous suivez.", "id")
    lock(db, reception)  # a correction and a put-away of the same line sent together: one after the other
    db.refresh(line)
    ensure_editable(reception)
    ensure_not_cancelled(reception, "id")
    if line.put_away_at is not None:
        raise Conflict(f"Ligne déjà rangée en {line.put_away_location.code} : elle ne se corrige plus "
                       f"(un écart en stock se traite par un inventaire).", "line_id")
    if line.decision == "return":
        raise Conflict("Ligne refusée et retournée au fournisseur : aucun stock à corriger.", "line_id")
    new_qty, reason = correction.qty, correction.reason
    if new_qty >= line.qty:
        raise ValidationError(f"La quantité corrigée doit être inférieure à la quantité reçue ({fmt(line.qty)}) : "
                              f"une correction retire ce qui a été reçu par erreur.", "qty")
    item = ledger.lock_item(db, line.item_id)
    ledger.move(db, item=item, lot=line.lot, qty=line.qty - new_qty, source=line.location, target=None,
                reason="correction", user=actor, at=now, activity_id=reception.id,
                note=f"Correction de la ligne n° {line.id} : {fmt(line.qty)} → {fmt(new_qty)} reçu(s). {reason}")
    if line.received_qty is None:
        line.received_qty = line.qty
    line.qty, line.corrected_at, line.corrected_by, line.correction_reason = new_qty, now, actor, reason
    db.flush()
    return line


def get_line(db: Session, actor: User, reception_id: int, line_id: int) -> ReceptionLine:
    reception = get_reception(db, actor, reception_id)
    line = next((line for line in reception.lines if line.id == line_id), None)
    if line is None:
        raise access.not_found(ReceptionLine, line_id, "line_id", label="Ligne")
    return line
