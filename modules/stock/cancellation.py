"""What stock activities change outside themselves, and how cancelling one reverses it.

Every move an activity posted (reception, put-away, pick, count adjustment, shipment, collection,
a non-conformity's quarantine…) is reversed through the ledger, latest first, by a move of reason
`cancel` that names the move it reverses: the ledger keeps both, balances come back. A pick list
still allocated gives its reservations back through the pick list's own cancel; a reception gives
its expected receipt back; a purchase request gives its replenishment proposal back; an applied
slotting study gives the items it reclassified their ABC class back."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from modules.stock import ledger, picking
from modules.stock.models import Move, PickLine, PurchaseProposal
from shopfloor.registry import Effects

CANCEL_REASON = "cancel"


def _fmt(qty) -> str:
    return picking.fmt(qty)


# -- Moves, for every activity type ------------------------------------------------------

def describe_moves(db: Session, activity) -> list[str]:
    count = db.scalar(select(func.count()).select_from(Move).where(Move.activity_id == activity.id))
    return [f"{count} mouvement(s) de stock"] if count else []


def reverse_moves(db: Session, activity, cancellation) -> None:
    moves = list(db.scalars(select(Move).where(Move.activity_id == activity.id, Move.reason != CANCEL_REASON)
                            .order_by(Move.id)))
    items = ledger.lock_items(db, [m.item_id for m in moves])
    for m in reversed(moves):
        ledger.move(db, item=items[m.item_id], lot=m.lot, qty=m.qty, source=m.to_location, target=m.from_location,
                    reason=CANCEL_REASON, user=cancellation.actor, at=cancellation.now, activity_id=activity.id,
                    note=f"Annule le mouvement n° {m.id} : {cancellation.reason}")


# -- Pick lists: reservations -------------------------------------------------------------

def _held(db: Session, pick) -> list[PickLine]:
    return list(db.scalars(select(PickLine).where(PickLine.pick_list_id == pick.id, PickLine.picked_at.is_(None),
                                                  PickLine.released.is_(False))))


def describe_reservations(db: Session, pick) -> list[str]:
    if pick.status != "allocated":
        return []
    held = _held(db, pick)
    if not held:
        return []
    return [f"{len(held)} ligne(s) réservée(s) ({_fmt(sum(line.qty for line in held))} unité(s))"]


def release_reservations(db: Session, pick, cancellation) -> None:
    if pick.status == "allocated":
        picking.cancel(db, cancellation.actor, pick, cancellation.now)


# -- Receptions: the expected receipt they received -------------------------------------

def describe_expected(db: Session, reception) -> list[str]:
    receipt = reception.expected_receipt
    if receipt is not None and receipt.status == "received" and reception.closed_at is not None:
        return [f"commande {receipt.reference} marquée reçue"]
    return []


def reopen_expected(db: Session, reception, cancellation) -> None:
    if describe_expected(db, reception):
        reception.expected_receipt.status = "open"


# -- Purchase requests: the proposal they converted, the quantity on order ---------------

def describe_request(db: Session, request) -> list[str]:
    found = []
    if request.status == "open":
        found.append(f"{_fmt(request.qty)} {request.item.unit} en commande")
    proposal = db.scalar(select(PurchaseProposal).where(PurchaseProposal.purchase_request_id == request.id))
    if proposal is not None and proposal.status == "converted":
        found.append(f"proposition de réapprovisionnement n° {proposal.id} convertie")
    return found


def withdraw_request(db: Session, request, cancellation) -> None:
    if request.status == "open":
        request.status = "cancelled"
    proposal = db.scalar(select(PurchaseProposal).where(PurchaseProposal.purchase_request_id == request.id))
    if proposal is not None and proposal.status == "converted":
        other_open = db.scalar(select(PurchaseProposal.id).where(PurchaseProposal.item_id == proposal.item_id,
                                                                 PurchaseProposal.status == "open"))
        # one open proposal per item (unique index): the job's newer one stands, this one is dismissed
        proposal.status = "dismissed" if other_open is not None else "open"
        proposal.closed_at = cancellation.now if other_open is not None else None
        proposal.purchase_request_id = None


# -- Slotting studies: the ABC classes they applied ---------------------------------------

def _applied(study) -> list:
    if study.applied_at is None:
        return []
    return [line for line in study.lines
            if line.item.abc_class == line.proposed_class and line.current_class != line.proposed_class]


def describe_slotting(db: Session, study) -> list[str]:
    changed = _applied(study)
    return [f"classes ABC appliquées à {len(changed)} article(s)"] if changed else []


def restore_classes(db: Session, study, cancellation) -> None:
    """Each item the study reclassified, and nobody since, gets its class back."""
    for line in _applied(study):
        line.item.abc_class = line.current_class


EFFECTS = [
    Effects("stock_reservations", describe_reservations, release_reservations, types=("stock_pick",), order=10),
    Effects("stock_expected_receipt", describe_expected, reopen_expected, types=("stock_reception",), order=20),
    Effects("stock_purchase_request", describe_request, withdraw_request, types=("stock_purchase_request",),
            order=20),
    Effects("stock_slotting", describe_slotting, restore_classes, types=("stock_slotting",), order=20),
    Effects("stock_moves", describe_moves, reverse_moves, order=50),
]
