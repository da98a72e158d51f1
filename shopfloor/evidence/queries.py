"""Read-side queries of the spine: queues, coverage, overviews (plain rows and dataclasses)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from shopfloor.auth.models import User, user_certification
from shopfloor.evidence.models import EVIDENCE_STATES, Activity, Evidence, Opinion
from shopfloor.referential.models import Block, Certification, Competence


@dataclass
class CompetenceCoverage:
    competence: Competence
    counts: dict[str, int]
    opinion: Opinion | None = None

    @property
    def covered(self) -> bool:
        return self.counts["validated"] > 0


@dataclass
class BlockCoverage:
    block: Block
    competences: list[CompetenceCoverage] = field(default_factory=list)


@dataclass
class CertificationCoverage:
    certification: Certification
    blocks: list[BlockCoverage] = field(default_factory=list)

    @property
    def competences(self) -> list[CompetenceCoverage]:
        return [c for b in self.blocks for c in b.competences]

    @property
    def covered_count(self) -> int:
        return sum(c.covered for c in self.competences)


def state_counts(db: Session, apprentice_ids: list[int]) -> dict[tuple[int, int], dict[str, int]]:
    """(apprentice id, competence id) → {state: count}, in one grouped query."""
    rows = db.execute(
        select(Evidence.apprentice_id, Evidence.competence_id, Evidence.state, func.count())
        .where(Evidence.apprentice_id.in_(apprentice_ids))
        .group_by(Evidence.apprentice_id, Evidence.competence_id, Evidence.state))
    counts: dict = defaultdict(lambda: dict.fromkeys(EVIDENCE_STATES, 0))
    for apprentice_id, competence_id, state, n in rows:
        counts[(apprentice_id, competence_id)][state] = n
    return counts


def latest_opinions(db: Session, apprentice_id: int) -> dict[int, Opinion]:
    latest = {}
    for opinion in db.scalars(select(Opinion).where(Opinion.apprentice_id == apprentice_id)
                              .order_by(Opinion.observed_on, Opinion.id)):
        latest[opinion.competence_id] = opinion
    return latest


def coverage(db: Session, apprentice: User, certification_code: str | None = None) -> list[CertificationCoverage]:
    """Every block and competence of the apprentice's certifications with evidence counts by state."""
    counts = state_counts(db, [apprentice.id])
    opinions = latest_opinions(db, apprentice.id)
    result = []
    certs = [c for c in _certifications_of(db, apprentice)
             if certification_code is None or c.code == certification_code.upper()]
    for cert in certs:
        cov = CertificationCoverage(cert)
        for block in cert.blocks:
            cov.blocks.append(BlockCoverage(block, [
                CompetenceCoverage(comp, counts[(apprentice.id, comp.id)], opinions.get(comp.id))
                for comp in block.competences]))
        result.append(cov)
    return result


def _certifications_of(db: Session, apprentice: User) -> list[Certification]:
    ids = [c.id for c in apprentice.certifications]
    return list(db.scalars(select(Certification).where(Certification.id.in_(ids)).order_by(Certification.code)
                           .options(selectinload(Certification.blocks).selectinload(Block.competences))))


def review_queue(db: Session, tutor: User, limit: int = 200) -> list[Evidence]:
    """Submitted evidence of the tutor's apprentices, oldest first."""
    return list(db.scalars(
        select(Evidence).join(User, Evidence.apprentice_id == User.id)
        .where(User.tutor_id == tutor.id, Evidence.state == "submitted", Evidence.apprentice_id != tutor.id)
        .order_by(Evidence.submitted_at, Evidence.id).limit(limit)
        .options(joinedload(Evidence.activity), joinedload(Evidence.apprentice), joinedload(Evidence.competence))))


def review_queue_count(db: Session, tutor: User) -> int:
    return db.scalar(select(func.count()).select_from(Evidence).join(User, Evidence.apprentice_id == User.id)
                     .where(User.tutor_id == tutor.id, Evidence.state == "submitted"))


def recent_activities(db: Session, author: User, limit: int = 20, offset: int = 0) -> list[Activity]:
    return list(db.scalars(select(Activity).where(Activity.author_id == author.id)
                           .order_by(Activity.performed_at.desc(), Activity.id.desc()).limit(limit).offset(offset)
                           .options(selectinload(Activity.evidence).joinedload(Evidence.competence),
                                    selectinload(Activity.attachments))))


def count_activities(db: Session, author: User) -> int:
    return db.scalar(select(func.count()).select_from(Activity).where(Activity.author_id == author.id))


@dataclass
class ApprenticeOverview:
    apprentice: User
    counts: dict[str, int]
    covered: int
    total: int


def apprentice_overview(db: Session, tutor: User) -> list[ApprenticeOverview]:
    """One line per apprentice the tutor follows: evidence by state and competences covered."""
    apprentices = list(db.scalars(select(User).where(User.tutor_id == tutor.id, User.role == "apprentice")
                                  .order_by(User.full_name).options(selectinload(User.certifications))))
    if not apprentices:
        return []
    totals = dict(db.execute(select(Block.certification_id, func.count(Competence.id))
                             .join(Competence.block).group_by(Block.certification_id)).all())
    by_state = {a.id: dict.fromkeys(EVIDENCE_STATES, 0) for a in apprentices}
    covered = dict.fromkeys(by_state, 0)
    for (apprentice_id, _), states in state_counts(db, list(by_state)).items():
        covered[apprentice_id] += states["validated"] > 0
        for state, n in states.items():
            by_state[apprentice_id][state] += n
    return [ApprenticeOverview(a, by_state[a.id], covered[a.id], sum(totals.get(c.id, 0) for c in a.certifications))
            for a in apprentices]


def followed_certification_codes(db: Session, tutor: User) -> list[str]:
    """The certifications prepared by the tutor's apprentices, most common first."""
    return list(db.scalars(
        select(Certification.code).join(user_certification, user_certification.c.certification_id == Certification.id)
        .join(User, User.id == user_certification.c.user_id).where(User.tutor_id == tutor.id)
        .group_by(Certification.code).order_by(func.count().desc(), Certification.code)))


@dataclass
class Heatmap:
    certification: Certification
    apprentices: list[User]
    competences: list[Competence]
    validated: list[list[int]]      # rows: apprentices, columns: competences
    submitted: list[list[int]]


def tutor_heatmap(db: Session, tutor: User, certification: Certification) -> Heatmap:
    """Apprentices × competences of one certification at a glance."""
    apprentices = [a for a in db.scalars(select(User).where(User.tutor_id == tutor.id, User.role == "apprentice")
                                         .order_by(User.full_name).options(selectinload(User.certifications)))
                   if certification.id in {c.id for c in a.certifications}]
    competences = certification.competences
    counts = state_counts(db, [a.id for a in apprentices]) if apprentices else {}
    empty = dict.fromkeys(EVIDENCE_STATES, 0)
    validated = [[counts.get((a.id, c.id), empty)["validated"] for c in competences] for a in apprentices]
    submitted = [[counts.get((a.id, c.id), empty)["submitted"] for c in competences] for a in apprentices]
    return Heatmap(certification, apprentices, competences, validated, submitted)
