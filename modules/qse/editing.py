"""Who may change a QSE record (who may see one is the record's `__access__` rule, see shopfloor.access)."""
from __future__ import annotations

from shopfloor.auth.models import User
from shopfloor.auth.services import can_see_apprentice
from shopfloor.errors import Forbidden
from shopfloor.evidence.models import Activity
from shopfloor.evidence.services import ensure_editable


def can_change(actor: User, record: Activity) -> bool:
    """The author, the author's tutor or an admin changes a QSE record.

    (Issue 13 notes the drift: by the design a tutor reads and validates an apprentice's work
    rather than changing it; the tests still expect a tutor to change it, so the rule stays.)"""
    return actor.id == record.author_id or (actor.role != "apprentice" and can_see_apprentice(actor, record.author))


def editable(actor: User, record: Activity, label: str) -> None:
    """Refuse unless `actor` may change `record` and it is not frozen (locks it first)."""
    if not can_change(actor, record):
        raise Forbidden(f"Seuls l'auteur, son tuteur ou un administrateur modifient {label}.", "id")
    ensure_editable(record)
