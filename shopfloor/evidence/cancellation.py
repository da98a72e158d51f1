"""Cancelling an activity: its effects outside itself are reversed, and the record stays, readable.

An activity that moved stock, held reservations, picked spare parts or started actions cannot be
deleted: deleting it would leave its effects behind with nothing explaining them. It is cancelled
instead: every module that declared `Effects` for its type (in its registration) reverses what it
did, in the same transaction, and the activity records who cancelled it, when and why. The core
never imports a module: it walks the effects handed to it.

Once cancelled, an activity changes no more (`refuse_cancelled`, run at every flush by
shopfloor.guards, refuses any change to it or to a row it owns, as the freeze does), and it cannot be submitted or validated as evidence."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor import clock
from shopfloor import validation as v
from shopfloor.auth.models import User
from shopfloor.db import lock
from shopfloor.errors import Conflict, Forbidden, ValidationError
from shopfloor.evidence.freeze import ensure_editable
from shopfloor.evidence.models import Activity, EvidenceEvent

REASON_MAX = 500
CANCELLING = "shopfloor_cancelling"  # session.info key: activity ids whose cancellation is running


def registered_effects() -> list:
    """The effects every installed module declared, in order."""
    return current_app.extensions["shopfloor_registry"].effects


def _concerned(activity: Activity, effects) -> list:
    return [e for e in effects if e.concerns(activity.type)]


def standing_effects(db: Session, activity: Activity, effects) -> list[str]:
    """The effects of this activity outside itself, as French phrases ([] when it has none)."""
    found: list[str] = []
    with db.no_autoflush:
        for effect in _concerned(activity, effects):
            found.extend(effect.describe(db, activity))
    return found


def cancelled_message(activity: Activity) -> str | None:
    """« Annulée le … par … : raison », or None while the activity is not cancelled."""
    if activity.activity_cancelled_at is None:
        return None
    who = activity.cancelled_by.full_name if activity.cancelled_by is not None else None
    return _cancelled_phrase(activity.activity_cancelled_at, who, activity.cancel_reason)


def _cancelled_phrase(cancelled_at: datetime, who: str | None, reason: str | None) -> str:
    if cancelled_at.tzinfo is None:   # SQLite hands back naive UTC
        cancelled_at = cancelled_at.replace(tzinfo=timezone.utc)
    day = cancelled_at.astimezone(clock.PARIS).strftime("%d/%m/%Y à %H:%M")
    return f"Annulée le {day} par {who or '?'} : {reason or ''}".rstrip(" :")


def ensure_not_cancelled(activity: Activity, field: str = "activity_id") -> None:
    if activity.activity_cancelled_at is not None:
        raise Conflict(f"Activité {activity.id} annulée ({cancelled_message(activity)}) : "
                       f"elle ne peut plus être modifiée ni servir de preuve.", field)


@dataclass
class Cancellation:
    """One user's cancellation of one activity (and of those it opened), in one transaction."""

    db: Session
    actor: User
    now: datetime
    reason: str
    effects: list
    done: list[int] = field(default_factory=list)

    def cancel(self, activity: Activity) -> Activity:
        """Reverse the activity's effects and record the cancellation (also for activities it opened)."""
        lock(self.db, activity)
        ensure_not_cancelled(activity, "id")
        ensure_editable(activity)
        running = self.db.info.setdefault(CANCELLING, set())
        running.add(activity.id)
        try:
            for effect in _concerned(activity, self.effects):
                effect.cancel(self.db, activity, self)
                self.db.flush()
            activity.activity_cancelled_at = self.now
            activity.cancelled_by = self.actor
            activity.cancel_reason = self.reason
            self._withdraw_submitted(activity)
            self.db.flush()
        finally:
            running.discard(activity.id)
        self.done.append(activity.id)
        return activity

    def _withdraw_submitted(self, activity: Activity) -> None:
        """Evidence waiting for the tutor goes back to draft: a cancelled activity is no evidence."""
        for evidence in activity.evidence:
            if evidence.state == "submitted":
                evidence.events.append(EvidenceEvent(from_state="submitted", to_state="draft", actor_id=self.actor.id,
                                                     at=self.now, comment=f"Activité annulée : {self.reason}"))
                evidence.state = "draft"


def parse_reason(reason) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError("La raison de l'annulation est obligatoire.", "reason")
    return v.text({"reason": reason}, "reason", max_length=REASON_MAX)  # no NUL, no lone surrogate


def cancel_activity(db: Session, actor: User, activity: Activity, reason, now: datetime, effects) -> Activity:
    """Cancel an activity: reverse its effects (reversing moves, released reservations…) and record
    who, when and why. The author cancels; a frozen (validated) activity or a cancelled one: 409."""
    if activity.author_id != actor.id:
        raise Forbidden("Seul l'auteur de l'activité peut l'annuler.", "activity_id")
    reason = parse_reason(reason)
    return Cancellation(db, actor, now, reason, list(effects)).cancel(activity)


# -- Nothing changes a cancelled activity --------------------------------------------------

def refuse_cancelled(db: Session, touched: set[int]) -> None:
    """No flush may change an activity cancelled before it, or a row it owns: `touched` is what
    the flush would change (freeze.activities_touched). The cancellation's own flush is let through.
    Read from the database, so putting `activity_cancelled_at` back to None is refused too."""
    ids = sorted(touched - db.info.get(CANCELLING, set()))
    if not ids:
        return
    with db.no_autoflush:
        found = db.execute(select(Activity.id, Activity.activity_cancelled_at, Activity.cancel_reason, User.full_name)
                           .outerjoin(User, User.id == Activity.cancelled_by_id)
                           .where(Activity.id.in_(ids), Activity.activity_cancelled_at.is_not(None))
                           .order_by(Activity.id).limit(1)).first()
    if found is not None:
        activity_id, cancelled_at, reason, who = found
        raise Conflict(f"Activité {activity_id} annulée ({_cancelled_phrase(cancelled_at, who, reason)}) : "
                       f"elle ne peut plus être modifiée ni servir de preuve.", "activity_id")
