"""The candidate's report: validated evidence by block and competence, for the jury."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shopfloor.auth.models import User
from shopfloor.evidence.models import Activity, Evidence, Opinion, Review
from shopfloor.evidence.queries import latest_opinions
from shopfloor.evidence.services import OPINION_LABELS
from shopfloor.referential.models import CRITERION_HEADING_LABELS, Block, Certification, Competence


@dataclass
class ReportPhoto:
    filename: str
    path: Path            # the stored image on disk


@dataclass
class ReportEvidence:
    id: int
    state: str                          # "validated" or "submitted"
    performed_at: datetime              # aware UTC
    place: str                          # site / team, or "" when unknown
    activity_type: str                  # French label of the activity type
    activity_title: str
    activity_description: str
    activity_data: list[tuple[str, str]]   # (label, value) from the activity's own fields
    statement: str
    criteria_observed: list[tuple[str, str]]   # (heading label, criterion text)
    tutor_name: str
    tutor_comment: str
    reviewed_at: datetime | None
    photos: list[ReportPhoto] = field(default_factory=list)


@dataclass
class ReportCompetence:
    code: str
    number: int
    title: str
    evidence: list[ReportEvidence]
    opinion_level: str | None           # French label, e.g. "Acquis (autonome)"
    opinion_comment: str
    opinion_date: date | None


@dataclass
class ReportBlock:
    label: str                          # block code or "LOG – bloc 2"
    title: str
    competences: list[ReportCompetence]


@dataclass
class ReportData:
    apprentice_name: str
    apprentice_username: str
    tutor_name: str
    certification_code: str
    certification_title: str
    generated_at: datetime
    include_submitted: bool
    blocks: list[ReportBlock]

    @property
    def competences(self) -> list[ReportCompetence]:
        return [c for b in self.blocks for c in b.competences]

    @property
    def without_evidence(self) -> list[ReportCompetence]:
        return [c for c in self.competences if not c.evidence]

    @property
    def evidence_count(self) -> int:
        return sum(len(c.evidence) for c in self.competences)


def report_data(db: Session, apprentice: User, certification: Certification, *, now: datetime,
                include_submitted: bool, activity_labels: dict[str, str], upload_dir: Path) -> ReportData:
    states = ("validated", "submitted") if include_submitted else ("validated",)
    rows = db.scalars(
        select(Evidence).join(Evidence.competence).join(Competence.block)
        .where(Evidence.apprentice_id == apprentice.id, Evidence.state.in_(states),
               Block.certification_id == certification.id)
        .options(selectinload(Evidence.activity).selectinload(Activity.attachments),
                 selectinload(Evidence.activity).joinedload(Activity.site),
                 selectinload(Evidence.activity).joinedload(Activity.team),
                 selectinload(Evidence.reviews).selectinload(Review.criteria),
                 selectinload(Evidence.reviews).joinedload(Review.reviewer)))
    by_competence: dict[int, list[ReportEvidence]] = {}
    for ev in sorted(rows, key=lambda e: (e.activity.performed_at, e.id)):
        activity = ev.activity
        review = next((r for r in reversed(ev.reviews) if r.decision == "validate"), None)
        place = " – ".join(x for x in (activity.site.name if activity.site else "",
                                       activity.team.name if activity.team else "") if x)
        by_competence.setdefault(ev.competence_id, []).append(ReportEvidence(
            id=ev.id, state=ev.state, performed_at=activity.performed_at, place=place,
            activity_type=activity_labels.get(activity.type, activity.type), activity_title=activity.title,
            activity_description=activity.description, activity_data=activity.summary(), statement=ev.statement,
            criteria_observed=[(CRITERION_HEADING_LABELS.get(c.heading, c.heading), c.text) for c in review.criteria] if review else [],
            tutor_name=review.reviewer.full_name if review else "", tutor_comment=review.comment if review else "",
            reviewed_at=review.at if review else None,
            photos=[ReportPhoto(a.filename, upload_dir / a.stored_name) for a in activity.attachments if a.is_image]))
    opinions: dict[int, Opinion] = latest_opinions(db, apprentice.id)
    blocks = []
    for block in certification.blocks:
        comps = []
        for comp in block.competences:
            op = opinions.get(comp.id)
            comps.append(ReportCompetence(comp.code, comp.number, comp.title, by_competence.get(comp.id, []),
                                          OPINION_LABELS[op.level] if op else None, op.comment if op else "",
                                          op.observed_on if op else None))
        blocks.append(ReportBlock(block.label, block.title, comps))
    return ReportData(apprentice.full_name, apprentice.username, apprentice.tutor.full_name if apprentice.tutor else "",
                      certification.code, certification.title, now, include_submitted, blocks)
