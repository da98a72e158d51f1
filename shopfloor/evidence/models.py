"""The spine: activities (records of practical work) and the evidence they give."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopfloor.access import Visibility
from shopfloor.auth.models import Site, Team, User
from shopfloor.db import Base
from shopfloor import clock
from shopfloor.referential.models import Certification, Competence, Criterion

EVIDENCE_STATES = ("draft", "submitted", "validated", "returned")
OPINION_LEVELS = ("not_seen", "beginner", "in_progress", "acquired")


class Activity(Base):
    """A record of practical work. Modules subclass it (joined-table inheritance)."""

    __tablename__ = "core_activity"
    __access__ = Visibility(owner="author_id", label="Activité")  # the author, the author's tutor, admins
    __table_args__ = (Index("ix_core_activity_author_performed", "author_id", "performed_at"), {"sqlite_autoincrement": True})
    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(40), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    performed_at: Mapped[datetime]
    site_id: Mapped[int | None] = mapped_column(ForeignKey("core_site.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("core_team.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)
    # an activity with effects outside itself is cancelled (its effects reversed), never deleted;
    # the attribute is not `cancelled_at`, which a pick list already uses for its own status
    activity_cancelled_at: Mapped[datetime | None] = mapped_column("cancelled_at")
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    cancelled_by: Mapped[User | None] = relationship(foreign_keys=[cancelled_by_id])
    site: Mapped[Site | None] = relationship()
    team: Mapped[Team | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="activity", order_by="Attachment.id", cascade="all, delete-orphan")
    evidence: Mapped[list[Evidence]] = relationship(
        back_populates="activity", order_by="Evidence.id", cascade="all, delete-orphan")

    __mapper_args__ = {"polymorphic_on": "type", "polymorphic_identity": "generic"}

    def summary(self) -> list[tuple[str, str]]:
        """(label, value) pairs describing the activity's own data, for reviews and reports."""
        return []

    def proposed_competences(self, defaults: tuple[str, ...]) -> tuple[str, ...]:
        """The competences to propose; a module overrides it when the record's content adds some
        (a reception with an anomaly also evidences LOG-6)."""
        return defaults


def _activity_author(model):
    """The author of the activity a row belongs to (a correlated subquery)."""
    return select(Activity.author_id).where(Activity.id == model.activity_id).scalar_subquery()


class Attachment(Base):
    __tablename__ = "core_attachment"
    __access__ = Visibility(owner=_activity_author, label="Pièce jointe")  # seen with its activity
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused
    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("core_activity.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    activity: Mapped[Activity] = relationship(back_populates="attachments")

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class Evidence(Base):
    """One activity put forward as evidence of one competence."""

    __tablename__ = "core_evidence"
    __access__ = Visibility(owner="apprentice_id", label="Preuve")  # the apprentice, their tutor, admins
    __table_args__ = (
        UniqueConstraint("activity_id", "competence_id"),
        Index("ix_core_evidence_apprentice_state", "apprentice_id", "state"),
        Index("ix_core_evidence_state_submitted", "state", "submitted_at"),
        {"sqlite_autoincrement": True},
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("core_activity.id", ondelete="CASCADE"))
    competence_id: Mapped[int] = mapped_column(ForeignKey("ref_competence.id"), index=True)
    apprentice_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    statement: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="draft")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    submitted_at: Mapped[datetime | None]

    activity: Mapped[Activity] = relationship(back_populates="evidence")
    competence: Mapped[Competence] = relationship()
    apprentice: Mapped[User] = relationship()
    events: Mapped[list[EvidenceEvent]] = relationship(order_by="EvidenceEvent.id", cascade="all, delete-orphan")
    reviews: Mapped[list[Review]] = relationship(order_by="Review.id", cascade="all, delete-orphan")

    @property
    def last_review(self) -> Review | None:
        return self.reviews[-1] if self.reviews else None


class EvidenceEvent(Base):
    """Every change of state of a piece of evidence, with who and when."""

    __tablename__ = "core_evidence_event"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused
    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("core_evidence.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    at: Mapped[datetime]
    comment: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[User] = relationship()


review_criterion = Table(
    "core_review_criterion",
    Base.metadata,
    Column("review_id", ForeignKey("core_review.id", ondelete="CASCADE"), primary_key=True),
    Column("criterion_id", ForeignKey("ref_criterion.id"), primary_key=True),
)


class Review(Base):
    """A tutor's decision on a piece of evidence, with the criteria they observed."""

    __tablename__ = "core_review"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused
    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("core_evidence.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    at: Mapped[datetime]
    decision: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewer: Mapped[User] = relationship()
    criteria: Mapped[list[Criterion]] = relationship(secondary=review_criterion, order_by="Criterion.id")


class Opinion(Base):
    """The company's opinion (avis de l'entreprise) on one competence; rows are never updated."""

    __tablename__ = "core_opinion"
    __table_args__ = (Index("ix_core_opinion_apprentice_competence", "apprentice_id", "competence_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    apprentice_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    competence_id: Mapped[int] = mapped_column(ForeignKey("ref_competence.id"))
    level: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    observed_on: Mapped[date]
    author_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    competence: Mapped[Competence] = relationship()


class FinalReport(Base):
    """The candidate's report declared final by candidate and tutor, then frozen as exported."""

    __tablename__ = "core_final_report"
    __table_args__ = (UniqueConstraint("apprentice_id", "certification_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    apprentice_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    certification_id: Mapped[int] = mapped_column(ForeignKey("ref_certification.id"))
    include_submitted: Mapped[bool] = mapped_column(default=False)
    candidate_declared_at: Mapped[datetime | None]
    tutor_declared_at: Mapped[datetime | None]
    tutor_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    frozen_at: Mapped[datetime | None]
    files: Mapped[dict] = mapped_column(JSON, default=dict)  # format -> {"name", "sha256", "size"}
    apprentice: Mapped[User] = relationship(foreign_keys=[apprentice_id])
    certification: Mapped[Certification] = relationship()
