"""The CQPM competence referential: certification → block → competence → criteria."""
from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopfloor.db import Base

CRITERION_HEADINGS = ("methods", "means", "relations", "environment")
CRITERION_HEADING_LABELS = {
    "methods": "Méthodes utilisées",
    "means": "Moyens utilisés",
    "relations": "Liens professionnels / relationnels",
    "environment": "Contraintes liées au milieu et environnement de travail",
}


class Certification(Base):
    __tablename__ = "ref_certification"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    reference: Mapped[str | None] = mapped_column(String(64))
    blocks: Mapped[list[Block]] = relationship(back_populates="certification", order_by="Block.number")

    @property
    def competences(self) -> list[Competence]:
        return [c for b in self.blocks for c in b.competences]


class Block(Base):
    __tablename__ = "ref_block"
    __table_args__ = (UniqueConstraint("certification_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("ref_certification.id"))
    number: Mapped[int]
    code: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    knowledge: Mapped[list[str]] = mapped_column(JSON, default=list)
    certification: Mapped[Certification] = relationship(back_populates="blocks")
    competences: Mapped[list[Competence]] = relationship(back_populates="block", order_by="Competence.number")

    @property
    def label(self) -> str:
        return self.code or f"{self.certification.code} – bloc {self.number}"


class Competence(Base):
    __tablename__ = "ref_competence"
    id: Mapped[int] = mapped_column(primary_key=True)
    block_id: Mapped[int] = mapped_column(ForeignKey("ref_block.id"), index=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(Text)
    conditions: Mapped[str] = mapped_column(Text, default="")
    expected_results: Mapped[list[str]] = mapped_column(JSON, default=list)
    block: Mapped[Block] = relationship(back_populates="competences")
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="competence", order_by="(Criterion.heading_order, Criterion.position)"
    )

    @property
    def certification(self) -> Certification:
        return self.block.certification


class Criterion(Base):
    """One observable criterion, under one of the référentiel's four headings."""

    __tablename__ = "ref_criterion"
    __table_args__ = (UniqueConstraint("competence_id", "heading", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    competence_id: Mapped[int] = mapped_column(ForeignKey("ref_competence.id"), index=True)
    heading: Mapped[str] = mapped_column(String(16))
    heading_order: Mapped[int]
    position: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    competence: Mapped[Competence] = relationship(back_populates="criteria")
