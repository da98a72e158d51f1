"""Standards (LEAN-8): one-point lessons and operating procedures, ordered steps with photos, validation."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from modules.improvement.inputs import NewStandard, NewStep
from modules.improvement.models import Standard, StandardStep
from shopfloor import access
from shopfloor.auth.models import User
from shopfloor.errors import Conflict, Forbidden
from shopfloor.evidence.activities import new_activity
from shopfloor.evidence.services import add_attachment, ensure_editable

MAX_STEPS = 40


def create_standard(db: Session, actor: User, now: datetime, spec: NewStandard) -> Standard:
    standard = new_activity(Standard, actor, now, title=spec.title, kind=spec.kind, workstations=spec.workstations,
                            status="draft", version=0, safety=spec.safety, description=spec.description)
    db.add(standard)
    db.flush()
    return standard


def _editable(actor: User, standard: Standard) -> None:
    if actor.id != standard.author_id:
        raise Forbidden("Seul l'auteur du standard peut le modifier.", "standard_id")
    ensure_editable(standard)


def _back_to_draft(standard: Standard) -> None:
    """A change to a validated standard starts its next version, to be validated again."""
    standard.status = "draft"


def update_standard(db: Session, actor: User, standard: Standard, spec: NewStandard) -> Standard:
    _editable(actor, standard)
    standard.title, standard.kind = spec.title, spec.kind
    standard.workstations, standard.safety = spec.workstations, spec.safety
    _back_to_draft(standard)
    db.flush()
    return standard


def check_step_addable(actor: User, standard: Standard) -> None:
    """The author adds steps, up to MAX_STEPS, while the standard is not frozen (checked before the step is read)."""
    _editable(actor, standard)
    if len(standard.steps) >= MAX_STEPS:
        raise Conflict(f"{MAX_STEPS} étapes au plus : découpez le standard.", "text")


def add_step(db: Session, actor: User, standard: Standard, spec: NewStep, *, photo: tuple[str, bytes] | None = None,
             storage: Path | None = None, max_bytes: int = 0) -> StandardStep:
    """A step at the end; its photo is stored as an attachment of the standard (an activity)."""
    check_step_addable(actor, standard)
    step = StandardStep(position=len(standard.steps) + 1, text=spec.text, key_point=spec.key_point)
    if photo is not None:
        filename, data = photo
        step.attachment = add_attachment(db, actor, standard, filename, data, storage, max_bytes)
    standard.steps.append(step)
    _back_to_draft(standard)
    db.flush()
    return step


def _step(standard: Standard, step_id) -> StandardStep:
    step = next((s for s in standard.steps if str(s.id) == str(step_id)), None)
    if step is None:
        raise access.not_found(StandardStep, step_id, "step_id", label="Étape")
    return step


def move_step(db: Session, actor: User, standard: Standard, step_id, offset: int) -> None:
    _editable(actor, standard)
    step = _step(standard, step_id)
    ordered = list(standard.steps)
    index = ordered.index(step)
    target = index + offset
    if not 0 <= target < len(ordered):
        return
    ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, each in enumerate(ordered, start=1):
        each.position = position
    _back_to_draft(standard)
    db.flush()
    db.expire(standard, ["steps"])


def remove_step(db: Session, actor: User, standard: Standard, step_id) -> None:
    _editable(actor, standard)
    step = _step(standard, step_id)
    standard.steps.remove(step)
    for position, each in enumerate(standard.steps, start=1):
        each.position = position
    _back_to_draft(standard)
    db.flush()


def can_validate(actor: User, standard: Standard) -> bool:
    return actor.role == "admin" or (actor.role == "tutor" and standard.author.tutor_id == actor.id)


def validate_standard(db: Session, actor: User, standard: Standard, now: datetime) -> Standard:
    """draft → validated by the author's tutor or an admin, as the next version, dated."""
    if not can_validate(actor, standard):
        raise Forbidden("Seul le tuteur de l'auteur ou un administrateur valide un standard.", "standard_id")
    ensure_editable(standard)
    if standard.status == "validated":
        raise Conflict(f"Version {standard.version} déjà validée.", "status")
    if not standard.steps:
        raise Conflict("Un standard sans étape ne peut pas être validé.", "steps")
    standard.status, standard.version = "validated", standard.version + 1
    standard.validated_at, standard.validated_by_id = now, actor.id
    db.flush()
    return standard


def list_standards(db: Session, actor: User, limit: int = 100) -> list[Standard]:
    return list(db.scalars(select(Standard).where(access.visible_filter(Standard, actor))
                           .order_by(Standard.performed_at.desc()).limit(limit)))
