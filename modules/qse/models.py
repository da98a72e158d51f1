"""Models of the QSE module: non-conformities, audits, risks, safety events, regulatory watch."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopfloor.auth.models import User
from shopfloor.db import Base, utcnow
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
    __table_args__ = (Index("ix_qse_finding_kind_closed", "kind", "closed_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("qse_audit.id", ondelete="CASCADE"), index=True)
    clause: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(16))
    evidence: Mapped[str] = mapped_column(Text)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("improvement_action.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
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
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reported_by: Mapped[User] = relationship()


class RegulatoryText(Base):
    """A text of the regulatory watch (QSE-3): applicability, requirements, compliance, next review."""

    __tablename__ = "qse_regulatory_text"
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
