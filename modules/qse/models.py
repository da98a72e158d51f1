"""Models of the QSE module: non-conformities, audits, risks, safety events, regulatory watch."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from shopfloor.access import Visibility
from shopfloor.auth.models import User
from shopfloor.db import Base
from shopfloor import clock
from shopfloor.evidence.models import Activity

MONEY = Numeric(14, 2)
QTY = Numeric(14, 3)

NC_SOURCES = {"reception": "Réception", "production": "Production", "audit": "Audit",
              "customer": "Réclamation client", "supplier": "Fournisseur", "internal": "Interne"}
NC_SEVERITIES = {"minor": "Mineure", "major": "Majeure", "critical": "Critique"}
NC_REQUIREMENTS = {"customer": "Client", "management": "Système de management", "standard": "Norme",
                   "legal": "Légale / réglementaire", "contractual": "Contractuelle"}
NC_STATUSES = {"open": "Ouverte", "contained": "Sécurisée", "closed": "Clôturée"}

AUDIT_TYPES = {"documentary": "Documentaire", "process": "Processus", "traceability": "Traçabilité",
               "system": "Système"}
AUDIT_STATUSES = {"in_progress": "En cours", "done": "Terminé"}
FINDING_KINDS = {"conform": "Conforme", "strong_point": "Point fort", "observation": "Observation",
                 "minor": "Non-conformité mineure", "major": "Non-conformité majeure",
                 "opportunity": "Piste de progrès"}
OPEN_FINDING_KINDS = ("observation", "minor", "major", "opportunity")

RISK_CATEGORIES = {"quality": "Qualité", "ohs": "Santé-sécurité (DUERP)", "environment": "Environnement"}
RISK_KINDS = {"risk": "Risque", "opportunity": "Opportunité"}

EVENT_KINDS = {"accident": "Accident du travail", "near_miss": "Presqu'accident", "first_aid": "Soins (premiers secours)"}

REG_DOMAINS = {"Q": "Qualité", "S": "Santé-sécurité", "E": "Environnement"}
REG_COMPLIANCE = {"to_assess": "À évaluer", "compliant": "Conforme", "partial": "Partiellement conforme",
                  "non_compliant": "Non conforme", "not_applicable": "Non applicable"}


class NonConformity(Activity):
    """A non-conformity (QSE-9): detection, containment, analysis, actions, effectiveness, closure."""

    __tablename__ = "qse_nonconformity"
    __table_args__ = (
        Index("ix_qse_nonconformity_status_severity", "status", "severity"),
        Index("ix_qse_nonconformity_source_status", "source", "status"),
        Index("ix_qse_nonconformity_detected", "detected_at"),
    )
    id: Mapped[int] = mapped_column(ForeignKey("core_activity.id", ondelete="CASCADE"), primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))
    requirement: Mapped[str] = mapped_column(String(20), default="customer")
    place: Mapped[str] = mapped_column(String(200), default="")
    quantity: Mapped[Decimal | None] = mapped_column(QTY)
    status: Mapped[str] = mapped_column(String(10), default="open")
    detected_at: Mapped[datetime]  # = performed_at, kept on this table so the register filters without a join
    immediate_action: Mapped[str] = mapped_column(Text, default="")
    contained_at: Mapped[datetime | None]
    effectiveness: Mapped[str] = mapped_column(Text, default="")
    effective: Mapped[bool | None]
    effectiveness_checked_at: Mapped[datetime | None]
    cost: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    closed_at: Mapped[datetime | None]
    reception_id: Mapped[int | None] = mapped_column(ForeignKey("stock_reception.id", ondelete="SET NULL"), index=True)
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("qse_finding.id", ondelete="SET NULL"), index=True)

    lots: Mapped[list[NonConformityLot]] = relationship(back_populates="nonconformity", order_by="NonConformityLot.id",
                                                        cascade="all, delete-orphan")
    __mapper_args__ = {"polymorphic_identity": "qse_nonconformity", "inherit_condition": id == Activity.id}
    origin_keys = ("finding_id", "reception_id")

    @property
    def origin_activity(self) -> tuple:
        """The records it is opened from (an audit through its finding, a reception): the freeze guard
        refuses a new non-conformity opened from a frozen one."""
        db = object_session(self)
        audit = db.scalar(select(Finding.audit_id).where(Finding.id == self.finding_id)) \
            if db is not None and self.finding_id is not None else None
        return audit, self.reception_id

    def summary(self) -> list[tuple[str, str]]:
        rows = [("Source", NC_SOURCES.get(self.source, self.source)),
                ("Gravité", NC_SEVERITIES.get(self.severity, self.severity)),
                ("Exigence non satisfaite", NC_REQUIREMENTS.get(self.requirement, self.requirement)),
                ("Où", self.place), ("Quantité", f"{self.quantity.normalize():f}" if self.quantity is not None else ""),
                ("Action immédiate", self.immediate_action),
                ("Lots sécurisés", ", ".join(f"{lot.lot.number} ({lot.qty_moved.normalize():f})"
                                              for lot in self.lots if lot.qty_moved is not None)),
                ("Efficacité", self.effectiveness), ("Coût de non-qualité", f"{self.cost:.2f} €" if self.cost else ""),
                ("Statut", NC_STATUSES.get(self.status, self.status))]
        return [(label, value) for label, value in rows if value]


class NonConformityLot(Base):
    """A suspect lot named on a non-conformity; containment records what it moved to quarantine."""

    __tablename__ = "qse_nc_lot"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused
    id: Mapped[int] = mapped_column(primary_key=True)
    nonconformity_id: Mapped[int] = mapped_column(ForeignKey("qse_nonconformity.id", ondelete="CASCADE"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("stock_lot.id"), index=True)
    qty_moved: Mapped[Decimal | None] = mapped_column(QTY)      # None until contained
    reserved_left: Mapped[Decimal | None] = mapped_column(QTY)  # reserved for a pick list, not moved

    nonconformity: Mapped[NonConformity] = relationship(back_populates="lots")
    lot = relationship("Lot")

    @property
    def owning_activity(self):
        return self.nonconformity


class Audit(Activity):
    """An internal audit (QSE-8): scope, criteria, référentiel, checklist, findings, conclusions."""

    __tablename__ = "qse_audit"
    __table_args__ = (Index("ix_qse_audit_status_date", "status", "audit_date"),
                      Index("ix_qse_audit_process", "process"))
    id: Mapped[int] = mapped_column(ForeignKey("core_activity.id", ondelete="CASCADE"), primary_key=True)
    process: Mapped[str] = mapped_column(String(120))
    scope: Mapped[str] = mapped_column(Text, default="")
    criteria: Mapped[str] = mapped_column(Text, default="")
    standards: Mapped[list] = mapped_column(JSON, default=list)   # keys of clauses.json: iso9001, iso14001, iso45001
    audit_type: Mapped[str] = mapped_column(String(20))
    auditors: Mapped[str] = mapped_column(String(300), default="")
    auditees: Mapped[str] = mapped_column(String(300), default="")
    audit_date: Mapped[date]
    duration_hours: Mapped[Decimal] = mapped_column(Numeric(5, 1), default=Decimal(2))
    status: Mapped[str] = mapped_column(String(12), default="in_progress")
    conclusions: Mapped[str] = mapped_column(Text, default="")

    questions: Mapped[list[AuditQuestion]] = relationship(back_populates="audit", order_by="AuditQuestion.position",
                                                          cascade="all, delete-orphan")
    findings: Mapped[list[Finding]] = relationship(back_populates="audit", order_by="Finding.id",
                                                   cascade="all, delete-orphan")
    __mapper_args__ = {"polymorphic_identity": "qse_audit"}

    def summary(self) -> list[tuple[str, str]]:
        counts: dict[str, int] = {}
        for finding in self.findings:
            counts[finding.kind] = counts.get(finding.kind, 0) + 1
        rows = [("Processus", self.process), ("Type", AUDIT_TYPES.get(self.audit_type, self.audit_type)),
                ("Référentiels", ", ".join(self.standards or [])), ("Critères", self.criteria),
                ("Auditeurs", self.auditors), ("Audités", self.auditees),
                ("Constats", ", ".join(f"{FINDING_KINDS[k]} : {n}" for k, n in counts.items())),
                ("Conclusions", self.conclusions)]
        return [(label, value) for label, value in rows if value]


class AuditQuestion(Base):
    """One line of an audit checklist: a clause of a standard or a question of the company."""

    __tablename__ = "qse_audit_question"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused
    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("qse_audit.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    standard: Mapped[str] = mapped_column(String(20), default="")   # "" for the company's own questions
    clause: Mapped[str] = mapped_column(String(10), default="")
    question: Mapped[str] = mapped_column(Text)
    audit: Mapped[Audit] = relationship(back_populates="questions")

    @property
    def owning_activity(self):
        return self.audit


class Finding(Base):
    """A finding of an audit, with its evidence; it may open a non-conformity or an action."""

    __tablename__ = "qse_finding"
    __table_args__ = (Index("ix_qse_finding_kind_closed", "kind", "closed_at"), {"sqlite_autoincrement": True})
    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("qse_audit.id", ondelete="CASCADE"), index=True)
    clause: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(16))
    evidence: Mapped[str] = mapped_column(Text)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("improvement_action.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    audit: Mapped[Audit] = relationship(back_populates="findings")

    @property
    def owning_activity(self):
        return self.audit


class ProgrammeEntry(Base):
    """The annual audit programme: one process audited in one month of one year."""

    __tablename__ = "qse_audit_programme"
    __table_args__ = (Index("ix_qse_audit_programme_year", "year", "month"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    month: Mapped[int]
    process: Mapped[str] = mapped_column(String(120))
    standard: Mapped[str] = mapped_column(String(20), default="iso9001")
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("qse_audit.id", ondelete="SET NULL"))
    audit: Mapped[Audit | None] = relationship()


class Risk(Activity):
    """A risk or opportunity (QSE-2): quality, OHS (DUERP) or environment; score = likelihood × severity."""

    __tablename__ = "qse_risk"
    __table_args__ = (Index("ix_qse_risk_category_score", "category", "score"),
                      Index("ix_qse_risk_process", "process"))
    id: Mapped[int] = mapped_column(ForeignKey("core_activity.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(12), default="quality")
    kind: Mapped[str] = mapped_column(String(12), default="risk")
    process: Mapped[str] = mapped_column(String(120))
    work_unit: Mapped[str] = mapped_column(String(120), default="")
    hazard: Mapped[str] = mapped_column(String(200), default="")
    likelihood: Mapped[int]
    severity: Mapped[int]
    score: Mapped[int]
    existing_measures: Mapped[str] = mapped_column(Text, default="")
    residual_likelihood: Mapped[int | None]
    residual_severity: Mapped[int | None]
    treatment: Mapped[str] = mapped_column(Text, default="")
    review_on: Mapped[date | None]
    __mapper_args__ = {"polymorphic_identity": "qse_risk_evaluation"}

    @property
    def residual_score(self) -> int | None:
        if self.residual_likelihood is None or self.residual_severity is None:
            return None
        return self.residual_likelihood * self.residual_severity

    def summary(self) -> list[tuple[str, str]]:
        rows = [("Catégorie", RISK_CATEGORIES.get(self.category, self.category)), ("Processus", self.process),
                ("Unité de travail", self.work_unit), ("Danger / aspect", self.hazard),
                ("Cotation", f"P{self.likelihood} × G{self.severity} = {self.score}"),
                ("Mesures existantes", self.existing_measures),
                ("Risque résiduel", str(self.residual_score) if self.residual_score is not None else ""),
                ("Traitement", self.treatment)]
        return [(label, value) for label, value in rows if value]


class SafetyEvent(Base):
    """An accident, a near-miss or a first aid: feeds the S of the AIC boards."""

    __tablename__ = "qse_safety_event"
    __table_args__ = (Index("ix_qse_safety_event_kind_at", "kind", "at"),
                      Index("ix_qse_safety_event_team_kind_at", "team_id", "kind", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime]
    description: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(String(200), default="")
    lost_days: Mapped[int] = mapped_column(default=0)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("core_team.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("core_site.id"))
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    reported_by: Mapped[User] = relationship()


class RegulatoryText(Base):
    """A text of the regulatory watch (QSE-3): applicability, requirements, compliance, next review."""

    __tablename__ = "qse_regulatory_text"
    __access__ = Visibility(owner=None, everyone=True, label="Texte")  # the site's register, read by all
    __table_args__ = (Index("ix_qse_regulatory_text_next_review", "next_review"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    domain: Mapped[str] = mapped_column(String(1))
    source: Mapped[str] = mapped_column(String(120), default="")
    published_on: Mapped[date | None]
    applicability: Mapped[str] = mapped_column(Text, default="")
    requirements: Mapped[str] = mapped_column(Text, default="")
    compliance: Mapped[str] = mapped_column(String(16), default="to_assess")
    action_planned: Mapped[str] = mapped_column(Text, default="")
    next_review: Mapped[date | None]
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    reminded_for: Mapped[date | None]   # the review date already reminded: the job never reminds twice
    owner: Mapped[User | None] = relationship()


# -- objectives, indicators, context, regulatory reviews, planning (QSE-1, 3, 4, 5, 6, 7) ----------------------

POLICY_AXES = {"Q": "Qualité", "S": "Santé-sécurité", "E": "Environnement"}
OBJECTIVE_STATUSES = {"active": "En cours", "achieved": "Atteint", "missed": "Non atteint"}
FREQUENCIES = {"weekly": "Hebdomadaire", "monthly": "Mensuelle", "quarterly": "Trimestrielle", "yearly": "Annuelle"}
DIRECTIONS = {"higher": "Plus haut = mieux", "lower": "Plus bas = mieux"}
VISUALS = {"line": "Courbe", "bar": "Histogramme"}
SWOT = {"strengths": "Forces", "weaknesses": "Faiblesses", "opportunities": "Opportunités", "threats": "Menaces"}
PESTEL = {"political": "Politique", "economic": "Économique", "social": "Socioculturel",
          "technological": "Technologique", "environmental": "Environnemental", "legal": "Légal"}
PARTY_PRIORITIES = {1: "Haute", 2: "Moyenne", 3: "Basse"}


class Objective(Activity):
    """A SMART objective (QSE-4) tied to an axis of the QSE policy, with an owner, a target and a deadline."""

    __tablename__ = "qse_objective"
    __table_args__ = (Index("ix_qse_objective_axis_status", "axis", "status"),)
    id: Mapped[int] = mapped_column(ForeignKey("core_activity.id", ondelete="CASCADE"), primary_key=True)
    axis: Mapped[str] = mapped_column(String(1))
    policy_commitment: Mapped[str] = mapped_column(String(300), default="")
    target: Mapped[str] = mapped_column(String(300))
    means: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"), index=True)
    deadline: Mapped[date]
    status: Mapped[str] = mapped_column(String(10), default="active")
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    indicators: Mapped[list[QseIndicator]] = relationship(back_populates="objective", order_by="QseIndicator.id")
    __mapper_args__ = {"polymorphic_identity": "qse_objectives", "inherit_condition": id == Activity.id}

    def summary(self) -> list[tuple[str, str]]:
        rows = [("Axe de la politique", POLICY_AXES.get(self.axis, self.axis)),
                ("Engagement de la politique", self.policy_commitment), ("Cible", self.target),
                ("Moyens", self.means), ("Pilote", self.owner.full_name if self.owner else ""),
                ("Échéance", self.deadline.strftime("%d/%m/%Y")),
                ("Indicateurs", ", ".join(i.name for i in self.indicators)),
                ("Statut", OBJECTIVE_STATUSES.get(self.status, self.status))]
        return [(label, value) for label, value in rows if value]


class QseIndicator(Base):
    """A QSE indicator (QSE-6): definition, purpose, formula, frequency, target and direction, owner, visual."""

    __tablename__ = "qse_indicator"
    __access__ = Visibility(owner=None, everyone=True, label="Indicateur")  # a shared steering record
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    definition: Mapped[str] = mapped_column(Text, default="")
    purpose: Mapped[str] = mapped_column(Text, default="")
    formula: Mapped[str] = mapped_column(String(500), default="")
    unit: Mapped[str] = mapped_column(String(30), default="")
    frequency: Mapped[str] = mapped_column(String(10), default="monthly")
    target: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    direction: Mapped[str] = mapped_column(String(6), default="higher")
    visual: Mapped[str] = mapped_column(String(6), default="line")
    owner_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    objective_id: Mapped[int | None] = mapped_column(ForeignKey("qse_objective.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    objective: Mapped[Objective | None] = relationship(back_populates="indicators")

    def on_target(self, value: Decimal) -> bool:
        return value >= self.target if self.direction == "higher" else value <= self.target


class Measurement(Base):
    """One measure of a QSE indicator (QSE-7): one value per indicator and date."""

    __tablename__ = "qse_measurement"
    __table_args__ = (UniqueConstraint("indicator_id", "measured_on", name="uq_qse_measurement_indicator_day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("qse_indicator.id", ondelete="CASCADE"))
    measured_on: Mapped[date]
    value: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    comment: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class IndicatorFollowup(Activity):
    """An indicator follow-up (QSE-6, QSE-7): the review of an indicator over a period, its analysis and decision."""

    __tablename__ = "qse_indicator_followup"
    id: Mapped[int] = mapped_column(ForeignKey("core_activity.id", ondelete="CASCADE"), primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("qse_indicator.id"), index=True)
    period_start: Mapped[date]
    period_end: Mapped[date]
    last_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    on_target: Mapped[bool | None]
    analysis: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(Text, default="")
    indicator: Mapped[QseIndicator] = relationship()
    __mapper_args__ = {"polymorphic_identity": "qse_indicator_followup"}

    def summary(self) -> list[tuple[str, str]]:
        indicator = self.indicator
        value = "" if self.last_value is None else f"{self.last_value.normalize():f} {indicator.unit}".strip()
        rows = [("Indicateur", indicator.name),
                ("Période", f"{self.period_start:%d/%m/%Y} – {self.period_end:%d/%m/%Y}"),
                ("Cible", f"{'≥' if indicator.direction == 'higher' else '≤'} {indicator.target.normalize():f} "
                          f"{indicator.unit}".strip()),
                ("Dernière valeur", value),
                ("Résultat", "" if self.on_target is None else ("Dans la cible" if self.on_target else "Hors cible")),
                ("Analyse", self.analysis), ("Décision", self.decision)]
        return [(label, val) for label, val in rows if val]


class ContextAnalysis(Activity):
    """The context of the organisation (QSE-1): SWOT, PESTEL and interested parties."""

    __tablename__ = "qse_context"
    id: Mapped[int] = mapped_column(ForeignKey("core_activity.id", ondelete="CASCADE"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(300), default="")
    swot: Mapped[dict] = mapped_column(JSON, default=dict)      # key of SWOT → list of lines
    pestel: Mapped[dict] = mapped_column(JSON, default=dict)    # key of PESTEL → list of lines
    parties: Mapped[list] = mapped_column(JSON, default=list)   # [{"party", "needs", "priority": 1-3}]
    __mapper_args__ = {"polymorphic_identity": "qse_context"}

    def summary(self) -> list[tuple[str, str]]:
        rows = [("Périmètre", self.scope)]
        rows += [(f"SWOT – {label}", " ; ".join(self.swot.get(key, []))) for key, label in SWOT.items()]
        rows += [(f"PESTEL – {label}", " ; ".join(self.pestel.get(key, []))) for key, label in PESTEL.items()]
        rows.append(("Parties intéressées", " ; ".join(
            f"{p['party']} (priorité {p['priority']}) : {p['needs']}" for p in self.parties)))
        return [(label, value) for label, value in rows if value]


class RegulatoryReview(Activity):
    """An apprentice's review of a set of texts of the regulatory register (QSE-3)."""

    __tablename__ = "qse_regulatory_review"
    id: Mapped[int] = mapped_column(ForeignKey("core_activity.id", ondelete="CASCADE"), primary_key=True)
    conclusions: Mapped[str] = mapped_column(Text, default="")
    items: Mapped[list[RegulatoryReviewItem]] = relationship(back_populates="review", order_by="RegulatoryReviewItem.id",
                                                             cascade="all, delete-orphan")
    __mapper_args__ = {"polymorphic_identity": "qse_regulatory_review"}

    def summary(self) -> list[tuple[str, str]]:
        rows = [(f"{item.text.reference}", f"{REG_COMPLIANCE[item.compliance]}"
                 + (f" – action : {item.action}" if item.action else "")) for item in self.items]
        return [("Textes revus", str(len(self.items)))] + rows + ([("Conclusions", self.conclusions)]
                                                                   if self.conclusions else [])


class RegulatoryReviewItem(Base):
    """One text reviewed: the compliance status found and the action decided."""

    __tablename__ = "qse_regulatory_review_item"
    __table_args__ = (UniqueConstraint("review_id", "text_id", name="uq_qse_regulatory_review_item"), {"sqlite_autoincrement": True})
    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("qse_regulatory_review.id", ondelete="CASCADE"))
    text_id: Mapped[int] = mapped_column(ForeignKey("qse_regulatory_text.id"), index=True)
    compliance: Mapped[str] = mapped_column(String(16))
    findings: Mapped[str] = mapped_column(Text, default="")
    action: Mapped[str] = mapped_column(Text, default="")
    review: Mapped[RegulatoryReview] = relationship(back_populates="items")
    text: Mapped[RegulatoryText] = relationship()

    @property
    def owning_activity(self):
        return self.review


class Planning(Activity):
    """A planning of QSE activities (QSE-5): tasks with start and end, milestones; shown as a Gantt."""

    __tablename__ = "qse_planning"
    id: Mapped[int] = mapped_column(ForeignKey("core_activity.id", ondelete="CASCADE"), primary_key=True)
    horizon: Mapped[str] = mapped_column(String(120), default="")
    tasks: Mapped[list[PlanningTask]] = relationship(back_populates="planning",
                                                     order_by="(PlanningTask.start, PlanningTask.id)",
                                                     cascade="all, delete-orphan")
    __mapper_args__ = {"polymorphic_identity": "qse_planning"}

    def summary(self) -> list[tuple[str, str]]:
        rows = [("Horizon", self.horizon)]
        rows += [("Jalon" if task.milestone else "Activité",
                  f"{task.name} : {task.start:%d/%m/%Y}" + ("" if task.milestone else f" → {task.end:%d/%m/%Y}")
                  + (f" ({task.responsible})" if task.responsible else "")) for task in self.tasks]
        return [(label, value) for label, value in rows if value]


class PlanningTask(Base):
    """A planned QSE activity (start → end) or a milestone (start = end)."""

    __tablename__ = "qse_planning_task"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused
    id: Mapped[int] = mapped_column(primary_key=True)
    planning_id: Mapped[int] = mapped_column(ForeignKey("qse_planning.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    start: Mapped[date]
    end: Mapped[date]
    milestone: Mapped[bool] = mapped_column(default=False)
    responsible: Mapped[str] = mapped_column(String(120), default="")
    planning: Mapped[Planning] = relationship(back_populates="tasks")

    @property
    def owning_activity(self):
        return self.planning
