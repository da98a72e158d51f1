"""AIC boards: rows of indicators, daily values, short-interval meetings, escalations, screens."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String, Text, UniqueConstraint, false, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopfloor.access import Visibility
from shopfloor.auth.models import Site, Team, User
from shopfloor.db import Base
from shopfloor import clock
from shopfloor.evidence.models import Activity

LETTERS = ("S", "Q", "C", "D", "P", "M")
LETTER_LABELS = {"S": "Sécurité", "Q": "Qualité", "C": "Coûts", "D": "Délais", "P": "Performance",
                 "M": "Management / motivation"}
LEVELS = {1: "Équipe", 2: "Atelier", 3: "Site"}


class Board(Base):
    __tablename__ = "aic_board"
    __access__ = Visibility(owner=None, everyone=True, label="Tableau")  # boards are shared; writing is can_enter
    __table_args__ = (CheckConstraint("level IN (1, 2, 3)", name="level"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    level: Mapped[int]
    team_id: Mapped[int | None] = mapped_column(ForeignKey("core_team.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("core_site.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("aic_board.id"), index=True)
    created_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    team: Mapped[Team | None] = relationship()
    site: Mapped[Site | None] = relationship()
    parent: Mapped[Board | None] = relationship(remote_side=[id])
    rows: Mapped[list[BoardRow]] = relationship(back_populates="board", cascade="all, delete-orphan",
                                                order_by="BoardRow.position")

    @property
    def level_label(self) -> str:
        return LEVELS[self.level]


class BoardRow(Base):
    """One indicator on one letter of a board, with its target and alert threshold."""

    __tablename__ = "aic_board_row"
    __table_args__ = (UniqueConstraint("board_id", "indicator_key"),
                      CheckConstraint("letter IN ('S', 'Q', 'C', 'D', 'P', 'M')", name="letter"))
    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("aic_board.id", ondelete="CASCADE"))
    letter: Mapped[str] = mapped_column(String(1))
    indicator_key: Mapped[str] = mapped_column(String(80))
    target: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    position: Mapped[int] = mapped_column(default=0)
    board: Mapped[Board] = relationship(back_populates="rows")


class IndicatorDefinition(Base):
    """A manual numeric indicator a team defines (scrap count, 5S score…), entered each day."""

    __tablename__ = "aic_indicator"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    label: Mapped[str] = mapped_column(String(120))
    letter: Mapped[str] = mapped_column(String(1))
    unit: Mapped[str] = mapped_column(String(20), default="")
    higher_is_better: Mapped[bool]
    team_id: Mapped[int | None] = mapped_column(ForeignKey("core_team.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class DailyValue(Base):
    """The value of one indicator of one board on one day: a manual entry or a nightly snapshot of a
    module's computed indicator (value None = computed, no data that day)."""

    __tablename__ = "aic_value"
    __table_args__ = (UniqueConstraint("board_id", "indicator_key", "day"),
                      Index("ix_aic_value_board_day", "board_id", "day"))
    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("aic_board.id", ondelete="CASCADE"))
    indicator_key: Mapped[str] = mapped_column(String(80))
    day: Mapped[date]
    value: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(10))   # "manual" | "snapshot"
    author_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=clock.now)


def _board_team(model):
    return select(Board.team_id).where(Board.id == model.board_id).scalar_subquery()


def _board_people(model, actor: User):
    """On a workshop or site board (no team), the people of its site and every tutor; on a team's
    board, the tutors of an apprentice of that team."""
    teamless = select(Board.id).where(Board.team_id.is_(None))
    allowed = []
    if actor.site_id is not None:
        allowed.append(model.board_id.in_(teamless.where(Board.site_id == actor.site_id)))
    if actor.role == "tutor":
        allowed.append(model.board_id.in_(teamless))
        tutored_teams = select(User.team_id).where(User.tutor_id == actor.id, User.team_id.isnot(None))
        allowed.append(model.board_id.in_(select(Board.id).where(Board.team_id.in_(tutored_teams))))
    return or_(*allowed) if allowed else false()


class Meeting(Activity):
    """A short-interval meeting held in front of a board: an activity of whoever ran or attended it.

    Seen by its author, the author's tutor, admins, the board's team and its tutors (see
    _board_people); changed by its author, the board's tutors and admins (meetings.may_edit_meeting)."""

    __tablename__ = "aic_meeting"
    __access__ = Visibility(owner="author_id", team=_board_team, extra=_board_people, label="Réunion")
    id: Mapped[int] = mapped_column(ForeignKey("core_activity.id"), primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("aic_board.id"), index=True)
    led: Mapped[bool] = mapped_column(default=False)        # the author led the meeting
    duration_minutes: Mapped[int] = mapped_column(default=10)
    participants: Mapped[str] = mapped_column(Text, default="")   # one name per line
    reviewed: Mapped[list] = mapped_column(JSON, default=list)    # indicator keys reviewed
    board: Mapped[Board] = relationship()
    problems: Mapped[list[Problem]] = relationship(back_populates="meeting", order_by="Problem.id",
                                                   foreign_keys="Problem.meeting_id")

    __mapper_args__ = {"polymorphic_identity": "aic_meeting"}

    @property
    def participant_list(self) -> list[str]:
        return [p.strip() for p in self.participants.splitlines() if p.strip()]

    def summary(self) -> list[tuple[str, str]]:
        lines = [("Tableau", self.board.name), ("Durée", f"{self.duration_minutes} min"),
                 ("Animé par l'auteur", "oui" if self.led else "non"),
                 ("Participants", ", ".join(self.participant_list) or "—"),
                 ("Indicateurs revus", ", ".join(self.reviewed or []) or "—")]
        lines += [(f"Problème ({p.letter})", p.title + (" — remonté" if p.escalations else ""))
                  for p in self.problems]
        return lines

    def proposed_competences(self, defaults: tuple[str, ...]) -> tuple[str, ...]:
        return defaults + ("LEAN-4", "QSE-10") if self.led else defaults


class Problem(Base):
    """A problem raised in a meeting; handled by an action or a problem sheet in improvement."""

    __tablename__ = "aic_problem"
    __table_args__ = (Index("ix_aic_problem_board_raised", "board_id", "raised_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("aic_meeting.id"), index=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("aic_board.id"))
    letter: Mapped[str] = mapped_column(String(1))
    category: Mapped[str] = mapped_column(String(80))      # for the Pareto of the month
    title: Mapped[str] = mapped_column(String(200))
    raised_on: Mapped[date]
    action_id: Mapped[int | None]            # improvement Action created for it
    problem_sheet_id: Mapped[int | None]     # improvement ProblemSheet opened for it
    meeting: Mapped[Meeting] = relationship(back_populates="problems", foreign_keys=[meeting_id])
    board: Mapped[Board] = relationship()
    escalations: Mapped[list[Escalation]] = relationship(back_populates="problem", order_by="Escalation.id")

    @property
    def owning_activity(self) -> Meeting:
        return self.meeting


class Escalation(Base):
    """A problem sent to the next level's board, shown there until someone answers it."""

    __tablename__ = "aic_escalation"
    __table_args__ = (Index("ix_aic_escalation_open", "to_board_id", "answered_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("aic_problem.id"), index=True)
    from_board_id: Mapped[int] = mapped_column(ForeignKey("aic_board.id"))
    to_board_id: Mapped[int] = mapped_column(ForeignKey("aic_board.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    raised_at: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    answered_at: Mapped[datetime | None]
    problem: Mapped[Problem] = relationship(back_populates="escalations")
    from_board: Mapped[Board] = relationship(foreign_keys=[from_board_id])
    to_board: Mapped[Board] = relationship(foreign_keys=[to_board_id])
    raised_by: Mapped[User] = relationship(foreign_keys=[raised_by_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])

    # The next level's board answers an escalation after the meeting, on its own board: that answer
    # is not the apprentice's work, and refusing it would leave the escalation open up there forever.
    # Raising, re-wording or deleting an escalation of a frozen meeting is refused.
    freeze_exempt = ("answer", "answered_by_id", "answered_by", "answered_at")

    @property
    def owning_activity(self):
        problem = self.problem
        if problem is None:
            return None
        return problem.meeting if problem.meeting is not None else problem.meeting_id


class Screen(Base):
    """A workshop TV: a long random token (only its SHA-256 kept) and the boards it cycles through."""

    __tablename__ = "aic_screen"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(8))
    board_ids: Mapped[list] = mapped_column(JSON, default=list)   # in display order
    refresh_seconds: Mapped[int] = mapped_column(default=60)
    cycle_seconds: Mapped[int] = mapped_column(default=30)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    revoked_at: Mapped[datetime | None]
