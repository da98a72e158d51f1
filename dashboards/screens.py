"""Workshop screens: a long random token (only its SHA-256 is kept) that shows a few boards, read-only."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboards.inputs import NewScreen
from dashboards.models import Board, Screen
from shopfloor.auth.models import User
from shopfloor import access
from shopfloor.errors import Conflict, ValidationError


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_boards(db: Session, board_ids: list[int]) -> None:
    for board_id in board_ids:
        if db.get(Board, board_id) is None:
            raise ValidationError(f"Tableau {board_id} introuvable.", "boards")


def create_screen(db: Session, actor: User, spec: NewScreen) -> tuple[Screen, str]:
    """Register a screen; the clear token exists only in the return value (show it once)."""
    _check_boards(db, spec.board_ids)
    token = secrets.token_urlsafe(32)
    screen = Screen(name=spec.name, token_hash=_hash(token), prefix=token[:6], board_ids=list(spec.board_ids),
                    refresh_seconds=spec.refresh_seconds, cycle_seconds=spec.cycle_seconds, created_by_id=actor.id)
    db.add(screen)
    db.flush()
    return screen, token


def screen_for_token(db: Session, token: str) -> Screen | None:
    """The active screen behind a token, or None (unknown or revoked: the caller answers 404)."""
    if not token or len(token) > 200:
        return None
    return db.scalar(select(Screen).where(Screen.token_hash == _hash(token), Screen.revoked_at.is_(None)))


def list_screens(db: Session) -> list[Screen]:
    return list(db.scalars(select(Screen).order_by(Screen.revoked_at.isnot(None), Screen.name)))


def get_screen(db: Session, screen_id: int) -> Screen:
    return access.get(db, Screen, screen_id, field="screen_id", label="Écran")


def revoke_screen(db: Session, screen: Screen, now: datetime) -> Screen:
    if screen.revoked_at is not None:
        raise Conflict("Cet écran est déjà révoqué.", "screen_id")
    screen.revoked_at = now
    db.flush()
    return screen


def screen_boards(db: Session, screen: Screen) -> list[Board]:
    """The screen's boards in display order (a deleted board is skipped)."""
    boards = {b.id: b for b in db.scalars(select(Board).where(Board.id.in_(screen.board_ids or [])))}
    return [boards[i] for i in screen.board_ids if i in boards]
