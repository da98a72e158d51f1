"""Scheduled work of the stores: purchase proposals and expiry flags, both safe to run twice."""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session

from shopfloor.registry import Job
from modules.stock.replenishment import flag_lots, propose_purchases


def expiry_warning_days() -> int:
    """SHOPFLOOR_EXPIRY_WARNING_DAYS, read from the app config (jobs run in an app context)."""
    return int(current_app.config.get("EXPIRY_WARNING_DAYS", 30))


def replenishment(db: Session, now: datetime) -> str:
    proposals = propose_purchases(db, now)
    flags = flag_lots(db, now, expiry_warning_days())
    return (f"{proposals['created']} proposition(s) d'achat, {proposals['closed']} close(s), "
            f"{flags['flagged']} lot(s) signalé(s)")


JOBS = [Job("stock.replenishment", replenishment, minutes=60)]
