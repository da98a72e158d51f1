"""An equipment by its id or code: read by the services and by the parsers that resolve a scope."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from modules.maintenance.models import Equipment
from shopfloor import access
from shopfloor import validation as v


def get_equipment(db: Session, code_or_id) -> Equipment:
    """By id (an integer, or ASCII digits) or else by code; 404 when there is none."""
    as_id = code_or_id if isinstance(code_or_id, int) and not isinstance(code_or_id, bool) else (
        int(code_or_id) if isinstance(code_or_id, str) and code_or_id.isascii() and code_or_id.isdigit()
        and len(code_or_id) <= 19 else None)
    if as_id is not None and not 1 <= as_id <= v.ID_MAX:   # beyond any id column: a code, or nothing
        as_id = None
    if as_id is not None and db.get(Equipment, as_id):
        eq = db.get(Equipment, as_id)
    elif isinstance(code_or_id, int) and not isinstance(code_or_id, bool):
        eq = None
    else:
        eq = db.scalar(select(Equipment).where(Equipment.code == str(code_or_id).strip()))
    if eq is None:
        raise access.not_found(Equipment, code_or_id, "equipment")
    return eq
