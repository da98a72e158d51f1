"""Scheduled work of the stores: purchase proposals and expiry flags, both safe to run twice."""
from __future__ import annotations

import os
from datetime import datetime

from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from shopfloor.registry import Job
from modules.stock.replenishment import flag_lots, propose_purchases


def expiry_warning_days() -> int:
    """SHOPFLOOR_EXPIRY_WARNING_DAYS through the app config (the scheduler thread has no app context)."""
    if has_app_context():
        return int(current_app.config.get("EXPIRY_WARNING_DAYS", 30))
    return int(os.environ.get("SHOPFLOOR_EXPIRY_WARNING_DAYS", 30))


def replenishment(db: Session, now: datetime) -> str:
    proposals = propose_purchases(db, now)
    flags = flag_lots(db, now, expiry_warning_days())
    return (f"{proposals['created']} proposition(s) d'achat, {proposals['closed']} close(s), "
            f"{flags['flagged']} lot(s) signalé(s)")


JOBS = [Job("stock.replenishment", replenishment, minutes=60)]
