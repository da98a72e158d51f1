"""Models of the maintenance module: equipment, plans, work orders (with lockout, routine results,
diagnosis) and readings.

A work order is a planning record (a generated preventive WO has nobody assigned yet). The
apprentice's intervention on it is the Activity (`Intervention`), created when someone first
acts on the order (lockout or start); its rows (lockout steps, results) protect it once frozen."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint, select, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from modules.maintenance import progress
from shopfloor import clock
from shopfloor.access import Visibility
from shopfloor.auth.models import User
from shopfloor.db import Base
from shopfloor.evidence.models import Activity

TECHNOLOGIES = ("mecanique", "electrique", "pneumatique", "hydraulique", "automatisme")
CRITICALITIES = ("A", "B", "C")
LEVELS = ("site", "line", "equipment", "subassembly")
ENERGIES = ("electrique", "pneumatique", "hydraulique", "gravite", "thermique", "mecanique", "chimique")
# Technologies and energies are ASCII codes in the API; people read them with their accents.
CODE_LABELS = {"mecanique": "mécanique", "electrique": "électrique", "gravite": "gravité"}


def code_label(code: str) -> str:
    return CODE_LABELS.get(code, code)


def code_labels(codes: list[str]) -> str:
    return ", ".join(code_label(code) for code in codes or [])

LOCKOUT_STEPS = ("separate", "lock", "tag", "purge", "verify")
PLAN_KINDS = ("calendar", "usage", "condition", "predictive")
WO_KINDS = ("preventive", "curative", "palliative", "improvement")
CORRECTIVE_KINDS = ("curative", "palliative")
WO_STATES = ("requested", "planned", "in_progress", "on_hold", "done", "closed")
OPEN_STATES = ("requested", "planned", "in_progress", "on_hold")
FAILURE_MODES = {"USU": "Usure", "RUP": "Rupture", "FUI": "Fuite", "BLO": "Blocage / grippage",
                 "DER": "Dérive / déréglage", "CC": "Court-circuit / défaut d'isolement",
                 "COU": "Coupure / circuit ouvert", "ECH": "Échauffement", "VIB": "Vibrations", "AUT": "Autre"}
FAILURE_CAUSES = {"LUB": "Défaut de lubrification", "ENC": "Encrassement / pollution", "FAT": "Fatigue / vieillissement",
                  "MON": "Erreur de montage / réglage", "EXP": "Erreur d'exploitation", "SUR": "Surcharge",
                  "CON": "Défaut de conception", "ENV": "Environnement (humidité, poussière, T°)",
                  "PIE": "Pièce défectueuse", "INC": "Inconnue"}

CONSEQUENCES_LABELS = {"production": "Production", "quality": "Qualité", "safety": "Sécurité",
                      "environment": "Environnement"}

_OPEN_SQL = "status IN ('requested', 'planned', 'in_progress', 'on_hold')"


class Equipment(Base):
    """A node of the equipment tree: site → line → equipment → sub-assembly."""

    __tablename__ = "maint_equipment"
    __access__ = Visibility(owner=None, everyone=True, label="Équipement")  # the register: master data
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16), default="equipment")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("maint_equipment.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("core_site.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("core_team.id"), index=True)
    technologies: Mapped[list] = mapped_column(JSON, default=list)
    criticality: Mapped[str] = mapped_column(String(1), default="C")
    maker: Mapped[str] = mapped_column(String(120), default="")
    model: Mapped[str] = mapped_column(String(120), default="")
    location: Mapped[str] = mapped_column(String(120), default="")
    energies: Mapped[list] = mapped_column(JSON, default=list)
    meters: Mapped[list] = mapped_column(JSON, default=list)            # e.g. ["hours", "cycles"]
    reference_values: Mapped[dict] = mapped_column(JSON, default=dict)  # "kilomètre zéro": {param: value}
    documents: Mapped[list] = mapped_column(JSON, default=list)         # [{"title", "url"}]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    parent: Mapped[Equipment | None] = relationship(remote_side=[id])


class Plan(Base):
    """A preventive plan and its routine (gamme). Kind decides what makes it due."""

    __tablename__ = "maint_plan"
    __access__ = Visibility(owner=None, everyone=True, label="Plan de maintenance")
    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_id: Mapped[int] = mapped_column(ForeignKey("maint_equipment.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), index=True)
    interval_value: Mapped[float | None] = mapped_column(Float)     # N days/weeks/months or N hours/cycles
    interval_unit: Mapped[str | None] = mapped_column(String(10))   # days, weeks, months, hours, cycles
    parameter: Mapped[str | None] = mapped_column(String(40))       # measured parameter or meter
    threshold: Mapped[float | None] = mapped_column(Float)
    direction: Mapped[str] = mapped_column(String(5), default="above")  # crossing upwards or downwards
    lead_days: Mapped[int] = mapped_column(default=0)
    window_days: Mapped[int] = mapped_column(default=30)             # predictive regression window
    anchor: Mapped[str] = mapped_column(String(12), default="scheduled")  # scheduled | completion
    start: Mapped[datetime]
    operations: Mapped[list] = mapped_column(JSON, default=list)
    tools: Mapped[str] = mapped_column(Text, default="")
    consumables: Mapped[str] = mapped_column(Text, default="")
    duration_min: Mapped[int | None]
    authorisation: Mapped[str] = mapped_column(String(60), default="")   # habilitation, e.g. "B1V"
    running_check: Mapped[bool] = mapped_column(default=False)  # a check made with the machine running
    active: Mapped[bool] = mapped_column(default=True)
    # scheduler state
    next_due: Mapped[datetime | None]                 # calendar / predictive: next occurrence not yet generated
    next_meter: Mapped[float | None] = mapped_column(Float)   # usage: meter value of the next occurrence
    checked_until: Mapped[datetime | None]            # condition: readings up to here are evaluated
    predicted_crossing: Mapped[datetime | None]       # predictive: when the trend crosses the threshold
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    equipment: Mapped[Equipment] = relationship()


class Intervention(Activity):
    """The apprentice's intervention on a work order: the activity that becomes evidence."""

    __tablename__ = "maint_intervention"
    id: Mapped[int] = mapped_column(ForeignKey("core_activity.id"), primary_key=True)
    work_order: Mapped[WorkOrder] = relationship(back_populates="intervention", uselist=False)
    __mapper_args__ = {"polymorphic_identity": "maintenance_corrective"}

    def summary(self) -> list[tuple[str, str]]:
        return self.work_order.summary() if self.work_order else []

    def proposed_competences(self, defaults: tuple[str, ...]) -> tuple[str, ...]:
        wo = self.work_order
        extra = ("MAINT-3",) if wo is not None and wo.diagnosis else ()
        return tuple(dict.fromkeys(defaults + extra))


class PreventiveIntervention(Intervention):
    __mapper_args__ = {"polymorphic_identity": "maintenance_preventive"}


class CheckIntervention(Intervention):
    """A check or inspection (condition-based plan, machine running)."""

    __mapper_args__ = {"polymorphic_identity": "maintenance_check"}


def _intervention_author(wo):
    """The author of the WO's intervention (NULL while nobody has taken it), for the row at hand."""
    return select(Activity.author_id).where(Activity.id == wo.intervention_id).scalar_subquery()


def _intervention_site(wo):
    return select(Activity.site_id).where(Activity.id == wo.intervention_id).scalar_subquery()


def _equipment_site(wo):
    return select(Equipment.site_id).where(Equipment.id == wo.equipment_id).scalar_subquery()


class WorkOrder(Base):
    __tablename__ = "maint_work_order"
    # The author of its intervention, that author's tutor, the tutors of its sites, admins. A WO
    # nobody has taken yet holds nobody's work: it is open to all (the queue apprentices pick from).
    __access__ = Visibility(owner=_intervention_author, site=(_intervention_site, _equipment_site), unowned_visible=True,
                            label="Ordre de travail")
    __table_args__ = (
        # generation is idempotent by construction: one WO per plan occurrence, one open WO per plan
        UniqueConstraint("plan_id", "due", name="uq_maint_work_order_plan_due"),
        Index("uq_maint_work_order_open_plan", "plan_id", unique=True,
              sqlite_where=text(_OPEN_SQL), postgresql_where=text(_OPEN_SQL)),
        Index("ix_maint_work_order_equipment_status", "equipment_id", "status"),
        Index("ix_maint_work_order_status_due", "status", "due"),
        {"sqlite_autoincrement": True},  # a follow-up withdrawn with a cancelled intervention: OT ids never reused
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_id: Mapped[int] = mapped_column(ForeignKey("maint_equipment.id"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("maint_plan.id"))
    kind: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(16), default="request")  # calendar/usage/condition/predictive/request
    status: Mapped[str] = mapped_column(String(16), default="requested")
    title: Mapped[str] = mapped_column(String(200))
    due: Mapped[datetime | None]
    late: Mapped[bool] = mapped_column(default=False)
    skipped: Mapped[list] = mapped_column(JSON, default=list)  # ISO dates of occurrences missed while open
    symptom: Mapped[str] = mapped_column(Text, default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    requested_at: Mapped[datetime] = mapped_column(default=clock.now)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("maint_work_order.id"))  # palliative → curative
    intervention_id: Mapped[int | None] = mapped_column(ForeignKey("maint_intervention.id"), unique=True)
    running_check: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    hold_reason: Mapped[str] = mapped_column(String(200), default="")
    downtime_start: Mapped[datetime | None]
    downtime_end: Mapped[datetime | None]
    downtime_reason: Mapped[str] = mapped_column(String(200), default="")
    time_spent_min: Mapped[int | None]
    report: Mapped[str] = mapped_column(Text, default="")
    lockout_removed_at: Mapped[datetime | None]
    tests_done: Mapped[str] = mapped_column(Text, default="")
    ramp_up: Mapped[str] = mapped_column(Text, default="")
    diagnosis: Mapped[dict | None] = mapped_column(JSON)
    parts_cost: Mapped[float] = mapped_column(Float, default=0.0)
    parts: Mapped[list] = mapped_column(JSON, default=list)  # [{"sku", "qty", "pick_id"}]

    equipment: Mapped[Equipment] = relationship()
    plan: Mapped[Plan | None] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    parent: Mapped[WorkOrder | None] = relationship(remote_side=[id])
    intervention: Mapped[Intervention | None] = relationship(back_populates="work_order")
    lockout: Mapped[list[LockoutStep]] = relationship(order_by="LockoutStep.id", cascade="all, delete-orphan",
                                                      back_populates="work_order")
    results: Mapped[list[RoutineResult]] = relationship(order_by="RoutineResult.position",
                                                        cascade="all, delete-orphan", back_populates="work_order")

    @property
    def owning_activity(self):
        return self.intervention

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    @property
    def is_corrective(self) -> bool:
        return self.kind in CORRECTIVE_KINDS

    def summary(self) -> list[tuple[str, str]]:
        rows = [("Ordre de travail", f"OT-{self.id} — {self.title}"),
                ("Équipement", f"{self.equipment.code} {self.equipment.name}"),
                ("Type", self.kind), ("Statut", self.status)]
        if self.symptom:
            rows.append(("Symptôme", self.symptom))
        if self.lockout:
            energies = sorted({s.energy for s in self.lockout})
            rows.append(("Consignation", ", ".join(energies) + f" ({len(self.lockout)} étapes)"))
        if self.running_check:
            rows.append(("Consignation", "Contrôle déclaré machine en marche"))
        out = [r for r in self.results if r.out_of_tolerance]
        if self.results:
            rows.append(("Gamme", f"{len(self.results)} opérations, {len(out)} hors tolérance"))
        for r in out:
            rows.append(("Hors tolérance", f"{r.label} : {r.measured:g} {r.unit or ''}".strip()))
        if self.diagnosis:
            d = self.diagnosis
            rows.append(("Diagnostic — cause racine", d.get("root_cause", "")))
            rows.append(("Mode / cause", f"{d.get('failure_mode', '')} / {d.get('failure_cause', '')}"))
        if self.time_spent_min:
            rows.append(("Temps passé", f"{self.time_spent_min} min"))
        if self.report:
            rows.append(("Compte rendu", self.report))
        return rows


class LockoutStep(Base):
    """One step of the lockout (consignation) of one energy, or of its removal."""

    __tablename__ = "maint_lockout_step"
    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("maint_work_order.id", ondelete="CASCADE"), index=True)
    energy: Mapped[str] = mapped_column(String(20))
    step: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    at: Mapped[datetime]
    note: Mapped[str] = mapped_column(String(200), default="")
    work_order: Mapped[WorkOrder] = relationship(back_populates="lockout")
    actor: Mapped[User] = relationship()

    @property
    def owning_activity(self):
        return self.work_order.intervention if self.work_order else None


class RoutineResult(Base):
    __tablename__ = "maint_routine_result"
    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("maint_work_order.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    label: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20), default="")
    expected: Mapped[float | None] = mapped_column(Float)
    minimum: Mapped[float | None] = mapped_column(Float)
    maximum: Mapped[float | None] = mapped_column(Float)
    measured: Mapped[float | None] = mapped_column(Float)
    done: Mapped[bool] = mapped_column(default=False)
    out_of_tolerance: Mapped[bool] = mapped_column(default=False)
    comment: Mapped[str] = mapped_column(String(200), default="")
    work_order: Mapped[WorkOrder] = relationship(back_populates="results")

    @property
    def owning_activity(self):
        return self.work_order.intervention if self.work_order else None


class Reading(Base):
    """A measured value (meter or condition parameter), from a tablet or a sensor."""

    __tablename__ = "maint_reading"
    __table_args__ = (Index("ix_maint_reading_equipment_parameter_at", "equipment_id", "parameter", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_id: Mapped[int] = mapped_column(ForeignKey("maint_equipment.id"))
    parameter: Mapped[str] = mapped_column(String(40))
    value: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(10), default="sensor")  # sensor | manual
    author_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))


class Analysis(Activity):
    """An apprentice's analysis of one equipment (or the whole park) over a period (MAINT-5).

    KPIs and Pareto are frozen at creation so the evidence says what the apprentice saw; the
    improvement proposal and the progress action (MAINT-6) are improvement actions whose origin is
    ("maintenance_analysis", id)."""

    __tablename__ = "maint_analysis"
    id: Mapped[int] = mapped_column(ForeignKey("core_activity.id"), primary_key=True)
    equipment_id: Mapped[int | None] = mapped_column(ForeignKey("maint_equipment.id"), index=True)
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    kpis: Mapped[dict] = mapped_column(JSON, default=dict)
    pareto: Mapped[list] = mapped_column(JSON, default=list)     # [[cause, count]], most frequent first
    conclusions: Mapped[str] = mapped_column(Text, default="")
    equipment: Mapped[Equipment | None] = relationship()
    __mapper_args__ = {"polymorphic_identity": "maintenance_analysis"}

    @property
    def scope_label(self) -> str:
        return f"{self.equipment.code} {self.equipment.name}" if self.equipment else "Tout le parc"

    def summary(self) -> list[tuple[str, str]]:
        return progress.summary_rows(self)

    def proposed_competences(self, defaults: tuple[str, ...]) -> tuple[str, ...]:
        extra = ("MAINT-6",) if progress.has_measured_progress(self) else ()
        return tuple(dict.fromkeys(defaults + extra))
