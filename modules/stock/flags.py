"""The one place where lots are flagged: "expiring" (within the job's warning window) or "disposal" (expired, or
under the item's removal margin: never picked again, to scrap). One flag per lot and kind, so flagging twice is a
no-op; pick allocation and the scheduled job both write here."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modules.stock.models import FLAG_KINDS, LotFlag


def existing_flags(db: Session, lot_ids: list[int]) -> set[tuple[int, str]]:
    if not lot_ids:
        return set()
    return set(db.execute(select(LotFlag.lot_id, LotFlag.kind).where(LotFlag.lot_id.in_(lot_ids))).all())


def flag(db: Session, lot_id: int, kind: str, expiry: date, now: datetime, reason: str = "") -> bool:
    """Flag a lot; False when it already was (a concurrent flagger hitting the unique index counts as already)."""
    assert kind in FLAG_KINDS, kind
    try:
        with db.begin_nested():
            db.add(LotFlag(lot_id=lot_id, kind=kind, expiry=expiry, flagged_at=now, reason=reason[:200]))
        return True
    except IntegrityError:
        return False


def flag_for_disposal(db: Session, refused: list[tuple[int, date, str]], now: datetime) -> int:
    """(lot id, expiry, reason) of lots picking refused: flag the ones not flagged yet."""
    already = existing_flags(db, [lot_id for lot_id, _, _ in refused])
    created = 0
    for lot_id, expiry, reason in refused:
        if (lot_id, "disposal") not in already:
            created += flag(db, lot_id, "disposal", expiry, now, f"À éliminer : {reason}")
            already.add((lot_id, "disposal"))
    return created


def disposal_flags(db: Session, lot_ids: list[int]) -> dict[int, LotFlag]:
    if not lot_ids:
        return {}
    return {f.lot_id: f for f in db.scalars(select(LotFlag).where(LotFlag.lot_id.in_(lot_ids),
                                                                  LotFlag.kind == "disposal"))}
