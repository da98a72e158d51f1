"""People and organisation: sites, teams, cohorts, users and their API tokens."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopfloor.db import Base
from shopfloor import clock

ROLES = ("admin", "tutor", "apprentice")
LOCALES = ("fr", "en")


class Site(Base):
    __tablename__ = "core_site"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    address: Mapped[str | None] = mapped_column(Text)
    teams: Mapped[list[Team]] = relationship(back_populates="site", order_by="Team.name")


class Team(Base):
    __tablename__ = "core_team"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("core_site.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    site: Mapped[Site] = relationship(back_populates="teams")


class Cohort(Base):
    """A group of apprentices (groupe, promotion)."""

    __tablename__ = "core_cohort"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)


user_certification = Table(
    "core_user_certification",
    Base.metadata,
    Column("user_id", ForeignKey("core_user.id", ondelete="CASCADE"), primary_key=True),
    Column("certification_id", ForeignKey("ref_certification.id"), primary_key=True),
)


class User(UserMixin, Base):
    __tablename__ = "core_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str] = mapped_column(String(5), default="fr")
    tutor_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("core_cohort.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("core_site.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("core_team.id"))
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    # bumped on logout, password change or reset, deactivation: every session cookie issued before dies
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # created by `shopfloor demo`: the demo refuses to run on a database holding any other user
    demo: Mapped[bool] = mapped_column(default=False, server_default=false())

    tutor: Mapped[User | None] = relationship(remote_side=[id], back_populates="apprentices")
    apprentices: Mapped[list[User]] = relationship(back_populates="tutor", order_by="User.full_name")
    cohort: Mapped[Cohort | None] = relationship()
    site: Mapped[Site | None] = relationship()
    team: Mapped[Team | None] = relationship()
    certifications: Mapped[list["Certification"]] = relationship(  # noqa: F821
        secondary=user_certification, order_by="Certification.code"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        """What the session cookie keeps: the id and the session version it was issued for."""
        return f"{self.id}:{self.session_version}"

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    @property
    def certification_codes(self) -> list[str]:
        return [c.code for c in self.certifications]


class ApiToken(Base):
    """A bearer token for scanners, sensors and scripts; only its SHA-256 is stored."""

    __tablename__ = "core_api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    user: Mapped[User] = relationship()


class AuditEvent(Base):
    """Who did what, when, from which address: log-ins, user and role changes, tokens, deactivations.
    Never a password or a token value: `details` holds plain facts (a role, a token's prefix)."""

    __tablename__ = "core_audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"), index=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"), index=True)
    username: Mapped[str | None] = mapped_column(String(64))  # as typed at login, or the subject's
    address: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    subject: Mapped[User | None] = relationship(foreign_keys=[subject_id])


from shopfloor.referential.models import Certification  # noqa: E402,F401  (mapper needs it)
