"""Models of the improvement module: actions and plans, problem sheets, decisions, standards, ideas."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from modules.improvement.ranking import ranking
from shopfloor import clock
from shopfloor.access import Visibility
from shopfloor.auth.models import Team, User
from shopfloor.db import Base
from shopfloor.evidence.models import Activity
from shopfloor.origins import owning_activity_id

ACTION_STATUSES = ("todo", "in_progress", "done", "abandoned")
OPEN_STATUSES = ("todo", "in_progress")
PDCA_STAGES = ("plan", "do", "check", "act")
ACTION_KINDS = ("containment", "corrective", "standardisation")
METHODS = ("PDCA", "DMAIC", "QRQC", "8D", "A3")
CATEGORIES_5M = ("matiere", "milieu", "methodes", "materiel", "main_oeuvre")
CATEGORY_LABELS = {"matiere": "Matière", "milieu": "Milieu", "methodes": "Méthodes", "materiel": "Matériel",
                   "main_oeuvre": "Main-d'œuvre"}


class ActionPlan(Activity):
    """Actions grouped around an objective, with a scope and a team (LEAN-5, INDUS-8)."""

    # the author, their tutor, admins and the plan's team (they carry its actions)
    __access__ = Visibility(owner="author_id", team="team_id", label="Plan d'actions")

    __tablename__ = "improvement_plan"
    id: Mapped[int] = mapped_column(ForeignKey("core_activity.id"), primary_key=True)
    objective: Mapped[str] = mapped_column(Text, default="")
    scope: Mapped[str] = mapped_column(Text, default="")
    __mapper_args__ = {"polymorphic_identity": "improvement_plan"}

    def summary(self) -> list[tuple[str, str]]:
        return [("Objectif", self.objective), ("Périmètre", self.scope)]


class Action(Base):
    """One action of any module: who does what, delivering what, by when, and did it work."""

    # its owner (the person responsible) and its creator, their tutors, the action's team, admins
    __access__ = Visibility(owner=("owner_id", "created_by_id"), team="team_id", label="Action")

    __tablename__ = "improvement_action"
    __table_args__ = (
        Index("ix_improvement_action_owner_status_due", "owner_id", "status", "due"),
        Index("ix_improvement_action_status_due", "status", "due"),
        Index("ix_improvement_action_origin", "origin_type", "origin_id"),
        Index("ix_improvement_action_team_status", "team_id", "status", "due"),
        Index("ix_improvement_action_team_done", "team_id", "done_on"),
        {"sqlite_autoincrement": True},
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    deliverable: Mapped[str] = mapped_column(String(500))
    owner_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("core_team.id"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("improvement_plan.id", ondelete="SET NULL"), index=True)
    origin_type: Mapped[str | None] = mapped_column(String(40))
    origin_id: Mapped[int | None]
    kind: Mapped[str] = mapped_column(String(20), default="corrective")
    pdca: Mapped[str] = mapped_column(String(10), default="do")
    status: Mapped[str] = mapped_column(String(16), default="todo")
    planned_start: Mapped[date]
    due: Mapped[date]
    started_on: Mapped[date | None]
    done_on: Mapped[date | None]
    abandon_reason: Mapped[str] = mapped_column(Text, default="")
    late_since: Mapped[date | None]   # set by the late-actions job when it notified the owner
    # effectiveness check
    eff_indicator: Mapped[str] = mapped_column(String(200), default="")
    eff_before: Mapped[float | None] = mapped_column(Numeric(14, 4, asdecimal=False))
    eff_target: Mapped[float | None] = mapped_column(Numeric(14, 4, asdecimal=False))
    eff_after: Mapped[float | None] = mapped_column(Numeric(14, 4, asdecimal=False))
    eff_checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    eff_checked_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    eff_checked_by: Mapped[User | None] = relationship(foreign_keys=[eff_checked_by_id])
    team: Mapped[Team | None] = relationship()
    plan: Mapped[ActionPlan | None] = relationship(foreign_keys=[plan_id])

    @property
    def owning_activity(self) -> tuple:
        """The records this action belongs to and freezes with: its plan, and the activity its origin
        belongs to (a problem sheet, a non-conformity, an audit, a work order, an AIC meeting…)."""
        return (self.plan if self.plan is not None else self.plan_id, self._origin_owner(self.origin_type, self.origin_id))

    @property
    def previous_owning_activity(self) -> tuple:
        """The owners before an unflushed change: an action cannot be moved out of a frozen record."""
        attrs = sa_inspect(self).attrs

        def before(key):
            history = attrs[key].history
            return history.deleted[0] if history.deleted else getattr(self, key)
        plan = attrs.plan.history.deleted[0] if attrs.plan.history.deleted else None
        return (plan, before("plan_id"), self._origin_owner(before("origin_type"), before("origin_id")))

    def _origin_owner(self, origin_type, origin_id):
        db = object_session(self)
        return owning_activity_id(db, origin_type, origin_id) if db is not None else None

    def is_late(self, today: date) -> bool:
        return self.status in OPEN_STATUSES and self.due < today

    def follow_up(self, today: date) -> str:
        """done, abandoned, late, in_progress or todo: what the follow-up shows."""
        return "late" if self.is_late(today) else self.status

    @property
    def effectiveness_recorded(self) -> bool:
        return self.eff_after is not None and self.eff_checked_on is not None

    @property
    def effective(self) -> bool | None:
        """Did the indicator reach its target? (None until checked; direction read from before → target.)"""
        if not self.effectiveness_recorded or self.eff_target is None:
            return None
        if self.eff_before is not None and self.eff_target < self.eff_before:
            return self.eff_after <= self.eff_target
        return self.eff_after >= self.eff_target


class ProblemSheet(Activity):
    """A problem solved with the company's method: QQOQCCP, data, Ishikawa, 5 pourquoi, actions, closure."""

    # the author, their tutor, admins and the sheet's team (they propose causes and vote)
    __access__ = Visibility(owner="author_id", team="team_id", label="Fiche problème")

    __tablename__ = "improvement_problem"
    __table_args__ = (Index("ix_improvement_problem_status", "status"),
                      Index("ix_improvement_problem_origin", "origin_type", "origin_id"))
    id: Mapped[int] = mapped_column(ForeignKey("core_activity.id"), primary_key=True)
    method: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="open")
    origin_type: Mapped[str | None] = mapped_column(String(40))
    origin_id: Mapped[int | None]
    team_members: Mapped[str] = mapped_column(Text, default="")
    qui: Mapped[str] = mapped_column(Text, default="")
    quoi: Mapped[str] = mapped_column(Text, default="")
    ou: Mapped[str] = mapped_column(Text, default="")
    quand: Mapped[str] = mapped_column(Text, default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    combien: Mapped[str] = mapped_column(Text, default="")
    pourquoi: Mapped[str] = mapped_column(Text, default="")
    data_note: Mapped[str] = mapped_column(Text, default="")
    pareto: Mapped[dict | None] = mapped_column(JSON)   # {"label", "start", "end", "items": [[category, value]]}
    chosen_cause_id: Mapped[int | None] = mapped_column(
        ForeignKey("improvement_cause.id", use_alter=True, ondelete="SET NULL"))
    root_cause: Mapped[str] = mapped_column(Text, default="")
    standardisation: Mapped[str] = mapped_column(Text, default="")
    effectiveness: Mapped[str] = mapped_column(Text, default="")
    effective: Mapped[bool | None]
    closed_at: Mapped[datetime | None]

    causes: Mapped[list[Cause]] = relationship(
        foreign_keys="Cause.sheet_id", back_populates="sheet", order_by="Cause.id", cascade="all, delete-orphan")
    whys: Mapped[list[Why]] = relationship(back_populates="sheet", order_by="Why.position", cascade="all, delete-orphan")
    chosen_cause: Mapped[Cause | None] = relationship(foreign_keys=[chosen_cause_id], post_update=True)
    __mapper_args__ = {"polymorphic_identity": "improvement_problem", "inherit_condition": id == Activity.id}

    @property
    def origin_activity(self) -> int | None:
        """The activity the sheet is opened from: a new sheet from a frozen record is refused."""
        db = object_session(self)
        return owning_activity_id(db, self.origin_type, self.origin_id) if db is not None else None

    def summary(self) -> list[tuple[str, str]]:
        rows = [("Méthode", self.method), ("Problème (quoi)", self.quoi), ("Où", self.ou), ("Quand", self.quand),
                ("Combien", self.combien)]
        if self.causes:
            rows.append(("Causes (Ishikawa)", "; ".join(f"{c.text} ({c.weight})" for c in self.causes)))
        if self.whys:
            rows.append(("5 pourquoi", " → ".join(w.answer for w in self.whys)))
        rows += [("Cause racine", self.root_cause), ("Efficacité", self.effectiveness),
                 ("Statut", "clôturée" if self.status == "closed" else "ouverte")]
        return [(label, value) for label, value in rows if value]

    def proposed_competences(self, defaults: tuple[str, ...]) -> tuple[str, ...]:
        extra = {"stock_": "LOG-6", "maintenance_": "MAINT-5", "qse_": "QSE-9"}
        for prefix, code in extra.items():
            if (self.origin_type or "").startswith(prefix) and code not in defaults:
                return defaults + (code,)
        return defaults


class Cause(Base):
    """An Ishikawa cause on one of the 5M; its weight is the team's votes (bâtonnage)."""

    __tablename__ = "improvement_cause"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused
    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("improvement_problem.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(300))
    weight: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    sheet: Mapped[ProblemSheet] = relationship(foreign_keys=[sheet_id], back_populates="causes")
    votes: Mapped[list[CauseVote]] = relationship(back_populates="cause", cascade="all, delete-orphan")

    @property
    def owning_activity(self):
        return self.sheet


class CauseVote(Base):
    """One bâton: a vote for a cause, once per person and cause (the facilitator may enter a colleague's by name)."""

    __tablename__ = "improvement_cause_vote"
    __table_args__ = (UniqueConstraint("cause_id", "voter_id", "voter_label"), {"sqlite_autoincrement": True})
    id: Mapped[int] = mapped_column(primary_key=True)
    cause_id: Mapped[int] = mapped_column(ForeignKey("improvement_cause.id", ondelete="CASCADE"))
    voter_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    voter_label: Mapped[str] = mapped_column(String(120), default="")   # a colleague voting on the shared tablet
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    cause: Mapped[Cause] = relationship(back_populates="votes")

    @property
    def owning_activity(self):
        return self.cause.sheet if self.cause else None


class Why(Base):
    """One link of the 5 pourquoi chain, from the chosen cause down to the root cause."""

    __tablename__ = "improvement_why"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused
    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("improvement_problem.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    question: Mapped[str] = mapped_column(String(300))
    answer: Mapped[str] = mapped_column(String(300))
    sheet: Mapped[ProblemSheet] = relationship(back_populates="whys")

    @property
    def owning_activity(self):
        return self.sheet


class DecisionStudy(Activity):
    """A weighted multi-criteria matrix and, per option (lever), its cost, gain, ROI and payback."""

    # an activity's rule (the author, their tutor, admins): no longer the whole team (issue 13)
    __access__ = Visibility(owner="author_id", label="Étude de décision")

    __tablename__ = "improvement_decision"
    id: Mapped[int] = mapped_column(ForeignKey("core_activity.id"), primary_key=True)
    question: Mapped[str] = mapped_column(Text, default="")
    criteria: Mapped[list] = mapped_column(JSON, default=list)   # [{"name", "weight"}]
    options: Mapped[list] = mapped_column(JSON, default=list)    # [{"name", "scores": [..], "cost", "gain"}]
    chosen: Mapped[str] = mapped_column(String(200), default="")
    __mapper_args__ = {"polymorphic_identity": "improvement_decision"}

    def summary(self) -> list[tuple[str, str]]:
        ranks = ", ".join(f"{r.rank}. {r.name} ({r.score:g})" for r in ranking(self.criteria, self.options))
        return [(label, value) for label, value in (("Question", self.question), ("Classement", ranks),
                                                     ("Choix retenu", self.chosen)) if value]


STANDARD_KINDS = {"opl": "Leçon ponctuelle (OPL)", "procedure": "Mode opératoire"}


class Standard(Activity):
    """A one-point lesson or operating procedure, validated by a tutor or admin (LEAN-8)."""

    # the author, their tutor, admins and the author's team (the workstations it applies to)
    __access__ = Visibility(owner="author_id", team="team_id", label="Standard")

    __tablename__ = "improvement_standard"
    id: Mapped[int] = mapped_column(ForeignKey("core_activity.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="procedure")
    workstations: Mapped[list] = mapped_column(JSON, default=list)
    safety: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="draft")
    version: Mapped[int] = mapped_column(default=0)
    validated_at: Mapped[datetime | None]
    validated_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    validated_by: Mapped[User | None] = relationship(foreign_keys=[validated_by_id])
    steps: Mapped[list[StandardStep]] = relationship(back_populates="standard", order_by="StandardStep.position",
                                                     cascade="all, delete-orphan")
    __mapper_args__ = {"polymorphic_identity": "improvement_standard", "inherit_condition": id == Activity.id}

    def summary(self) -> list[tuple[str, str]]:
        return [("Type", STANDARD_KINDS.get(self.kind, self.kind)), ("Postes", ", ".join(self.workstations or [])),
                ("Étapes", " / ".join(f"{s.position}. {s.text}" for s in self.steps)),
                ("Version", f"v{self.version} validée" if self.status == "validated" else "brouillon")]


class StandardStep(Base):
    __tablename__ = "improvement_standard_step"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused
    id: Mapped[int] = mapped_column(primary_key=True)
    standard_id: Mapped[int] = mapped_column(ForeignKey("improvement_standard.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    key_point: Mapped[str] = mapped_column(Text, default="")
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("core_attachment.id", ondelete="SET NULL"))
    standard: Mapped[Standard] = relationship(back_populates="steps")
    attachment = relationship("Attachment")

    @property
    def owning_activity(self):
        return self.standard


IDEA_STATUSES = ("submitted", "accepted", "rejected", "done")


class Idea(Base):
    """A suggestion from the idea box."""

    # the author and their team; tutors and admins see every idea (they answer them)
    __access__ = Visibility(owner="author_id", team="team_id", seen_by_roles=("tutor",), label="Idée")

    __tablename__ = "improvement_idea"
    __table_args__ = (Index("ix_improvement_idea_team_created", "team_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("core_team.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="submitted")
    answer: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    author: Mapped[User] = relationship()
    team: Mapped[Team | None] = relationship()
