"""Collection rounds (LOG-5): finished goods, waste and empty packaging brought back from the lines.

Each collected line is a move posted at once, from a line-side location to: storage for
finished goods; waste or scrap for waste; storage (returnable) or waste for empty packaging.
A move into a scrap location has reason "scrap", every other one "collection".
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shopfloor import access
from shopfloor.auth.models import User
from shopfloor.errors import Conflict, Forbidden, ValidationError
from shopfloor.evidence.activities import new_activity
from shopfloor.evidence.services import ensure_editable
from modules.stock import ledger
from modules.stock.lookup import item_by_sku, location_by_code, lot_by_number
from modules.stock.models import (
    LOCATION_KINDS, ROUND_KINDS, Balance, CollectionLine, CollectionRound, Location, activity_title)

TARGET_KINDS = {"finished": ("storage",), "waste": ("waste", "scrap"), "packaging": ("storage", "waste")}


def create_round(db: Session, actor: User, now: datetime, title: str | None = None) -> CollectionRound:
    if actor.role != "apprentice":
        raise Forbidden("Une tournée de collecte est une activité d'apprenti.", "title")
    collection = new_activity(CollectionRound, actor, now,
                              title=activity_title(title or "Tournée de collecte bord de ligne"))
    db.add(collection)
    db.flush()
    return collection


def visible_round(db: Session, actor: User, round_id: int) -> CollectionRound:
    return access.visible(db, CollectionRound, actor, round_id, field="round_id", label="Tournée",
                          options=[selectinload(CollectionRound.lines)])


def own_open(actor: User, collection: CollectionRound) -> None:
    """The round's state rule; the collect handler applies it before reading the form (a 403 or 409 first)."""
    if collection.author_id != actor.id:
        raise Forbidden("Seul l'auteur de la tournée la complète.", "round_id")
    ensure_editable(collection)
    if collection.closed_at is not None:
        raise Conflict("Cette tournée est clôturée.", "round_id")


def collect(db: Session, actor: User, collection: CollectionRound, *, kind: str, from_code: str, to_code: str,
            sku: str, lot_number: str | None, qty: Decimal, now: datetime, note: str = "") -> CollectionLine:
    """Bring one quantity back from a line-side location (as inputs.collection reads it); the move is
    posted immediately."""
    own_open(actor, collection)
    source = location_by_code(db, from_code, "from")
    if source.kind != "line":
        raise ValidationError(f"{source.code} n'est pas un emplacement bord de ligne.", "from")
    target = location_by_code(db, to_code, "to")
    if target.kind not in TARGET_KINDS[kind]:
        allowed = " ou ".join(LOCATION_KINDS[k].lower() for k in TARGET_KINDS[kind])
        raise ValidationError(f"{ROUND_KINDS[kind]} : la destination doit être un emplacement {allowed} "
                              f"({target.code} est {LOCATION_KINDS.get(target.kind, target.kind).lower()}).", "to")
    item = item_by_sku(db, sku)
    ledger.lock_item(db, item.id)
    lot = _lot(db, item, source, (lot_number or "").strip())
    move = ledger.move(db, item=item, lot=lot, qty=qty, source=source, target=target,
                       reason="scrap" if target.kind == "scrap" else "collection", user=actor, at=now,
                       activity_id=collection.id, note=f"Tournée de collecte : {ROUND_KINDS[kind].lower()}")
    line = CollectionLine(kind=kind, item=item, lot=lot, from_location=source, to_location=target, qty=qty,
                          move_id=move.id, note=note or "")
    collection.lines.append(line)
    db.flush()
    return line


def _lot(db: Session, item, source, lot_number: str):
    if lot_number:
        return lot_by_number(db, item, lot_number)
    rows = list(db.scalars(select(Balance).where(Balance.item_id == item.id, Balance.location_id == source.id,
                                                 Balance.qty > 0)))
    if len(rows) == 1:
        return rows[0].lot
    if not rows:
        raise ValidationError(f"Aucun stock de {item.sku} en {source.code}.", "sku")
    raise ValidationError(f"Plusieurs lots de {item.sku} en {source.code} : scannez le lot.", "lot")


def close_round(db: Session, actor: User, collection: CollectionRound, now: datetime) -> None:
    own_open(actor, collection)
    if not collection.lines:
        raise ValidationError("La tournée n'a rien collecté : ajoutez au moins une ligne.", "lines")
    collection.closed_at = now
    db.flush()


def line_side_stock(db: Session, limit: int = 200) -> list[Balance]:
    """What is waiting at the lines, to plan the round."""
    return list(db.scalars(select(Balance).join(Location, Location.id == Balance.location_id)
                           .where(Location.kind == "line", Balance.qty > 0).order_by(Location.code).limit(limit)
                           .options(selectinload(Balance.item), selectinload(Balance.lot),
                                    selectinload(Balance.location))))


def rounds(db: Session, actor: User, limit: int = 100) -> list[CollectionRound]:
    query = select(CollectionRound).order_by(CollectionRound.performed_at.desc()).limit(limit)
    return list(db.scalars(query.where(access.visible_filter(CollectionRound, actor))))

