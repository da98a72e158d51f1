"""Internal audits (QSE-8): programme, checklist from ISO clauses, findings, report, finding → NC or action."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from modules.improvement import services as improvement
from modules.qse.editing import can_change, editable
from modules.qse.models import (
    AUDIT_TYPES, FINDING_KINDS, OPEN_FINDING_KINDS, Audit, AuditQuestion, Finding, NonConformity, ProgrammeEntry)
from modules.qse.inputs import CompanyQuestion, NewAudit, NewFinding, NewProgrammeEntry
from modules.qse.pagination import Page, paginate
from modules.qse.standards import clause_titles, standards
from shopfloor import access, clock
from shopfloor.auth.models import User
from shopfloor.errors import Conflict, Forbidden, ValidationError
from shopfloor.evidence.activities import new_activity

FINDING_ORIGIN = "qse_finding"
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")


def clause_sort_key(number: str) -> tuple:
    return tuple(int(part) if part.isdigit() else 0 for part in (number or "0").split("."))


# -- creating an audit ------------------------------------------------------------------

def create_audit(db: Session, actor: User, spec: NewAudit, now: datetime) -> Audit:
    """An audit with its checklist: the chosen clauses (all sub-clauses of the standards by default)
    and the company's own questions."""
    today = clock.paris_day(now)
    performed_at = now if spec.audit_date == today else clock.paris_midnight(spec.audit_date) + timedelta(hours=8)
    audit = new_activity(
        Audit, actor, now, performed_at=performed_at, title=spec.title, process=spec.process, scope=spec.scope,
        criteria=spec.criteria, standards=list(spec.standards), audit_type=spec.audit_type,
        auditors=spec.auditors or actor.full_name, auditees=spec.auditees, audit_date=spec.audit_date,
        duration_hours=spec.duration_hours, status="in_progress")
    audit.questions = _checklist(spec)
    db.add(audit)
    db.flush()
    if spec.programme_entry is not None:
        _link_programme(db, spec.programme_entry, audit)
    return audit


def _checklist(spec: NewAudit) -> list[AuditQuestion]:
    rows: list[AuditQuestion] = []
    for key in spec.standards:
        for number, title in clause_titles([key]).items():
            if (spec.clauses is None and "." in number) or (spec.clauses is not None and number in spec.clauses):
                rows.append(AuditQuestion(position=len(rows) + 1, standard=key, clause=number,
                                          question=f"§ {number} {title} : l'exigence est-elle satisfaite ? Preuves ?"))
    for item in spec.questions:
        rows.append(AuditQuestion(position=len(rows) + 1, standard="", clause=item.clause, question=item.question))
    return rows


def _link_programme(db: Session, entry_id: int, audit: Audit) -> None:
    entry = db.get(ProgrammeEntry, entry_id)
    if entry is None:
        raise ValidationError(f"Ligne de programme n° {entry_id} introuvable.", "programme_entry")
    if entry.audit_id is not None:
        raise Conflict("Cet audit du programme est déjà réalisé.", "programme_entry")
    entry.audit_id = audit.id


def get_audit(db: Session, actor: User, audit_id: int) -> Audit:
    return access.visible(db, Audit, actor, audit_id, label="L'audit")


def audits_page(db: Session, actor: User, *, status: str = "", process: str = "", page: int = 1) -> Page:
    conditions = [access.visible_filter(Audit, actor)]
    if status:
        conditions.append(Audit.status == status)
    if process:
        conditions.append(Audit.process.ilike(f"%{process.strip()}%"))
    query = (select(Audit).options(joinedload(Audit.author)).where(*conditions)
             .order_by(Audit.audit_date.desc(), Audit.id.desc()))
    return paginate(db, query, page, select(func.count()).select_from(Audit).where(*conditions))


# -- checklist and findings -------------------------------------------------------------

def add_question(db: Session, actor: User, audit: Audit, item: CompanyQuestion) -> AuditQuestion:
    check_open(actor, audit)
    question = AuditQuestion(position=len(audit.questions) + 1, standard="", clause=item.clause,
                             question=item.question)
    audit.questions.append(question)
    db.flush()
    return question


def check_open(actor: User, audit: Audit) -> None:
    """The actor may still change the audit (the pages and the API check it before parsing the request)."""
    editable(actor, audit, "cet audit")
    if audit.status != "in_progress":
        raise Conflict("L'audit est terminé : rouvrez-le pour le modifier.", "status")


def known_clauses(audit: Audit) -> set[str]:
    """The clauses a finding may name: its standards' and its own questions'."""
    return set(clause_titles(audit.standards or list(standards()))) | {q.clause for q in audit.questions if q.clause}


def add_finding(db: Session, actor: User, audit: Audit, spec: NewFinding, now: datetime) -> Finding:
    check_open(actor, audit)
    finding = Finding(clause=spec.clause, kind=spec.kind, evidence=spec.evidence, created_at=now,
                      closed_at=None if spec.kind in OPEN_FINDING_KINDS else now)
    audit.findings.append(finding)
    db.flush()
    return finding


def get_finding(db: Session, actor: User, audit: Audit, finding_id: int) -> Finding:
    finding = db.get(Finding, finding_id)
    if finding is None or finding.audit_id != audit.id:
        raise access.not_found(Finding, finding_id, "finding_id", label="Constat")
    return finding


def check_finishable(actor: User, audit: Audit) -> None:
    check_open(actor, audit)
    if not audit.findings:
        raise ValidationError("Un audit se termine avec au moins un constat.", "findings")


def finish(db: Session, actor: User, audit: Audit, conclusions: str) -> Audit:
    check_finishable(actor, audit)
    audit.conclusions = conclusions
    audit.status = "done"
    db.flush()
    return audit


def nonconformities_of_findings(db: Session, audit: Audit) -> dict[int, int]:
    """Finding id → the id of the non-conformity it opened, for the audit's findings that opened one."""
    ids = [f.id for f in audit.findings]
    if not ids:
        return {}
    return {finding_id: nc_id for nc_id, finding_id in
            db.execute(select(NonConformity.id, NonConformity.finding_id).where(NonConformity.finding_id.in_(ids)))}


def finding_draft(db: Session, actor: User, audit: Audit, finding: Finding) -> dict:
    """What the finding says of the audit non-conformity it opens (inputs.nonconformity's draft); then
    nonconformities.create_nonconformity(..., finding=finding) points it back to the finding."""
    if not can_change(actor, audit):
        raise Forbidden("Seuls l'auteur de l'audit, son tuteur ou un administrateur traitent ses constats.", "id")
    if finding.kind not in ("minor", "major", "observation"):
        raise ValidationError("Seuls une non-conformité ou une observation ouvrent une fiche de non-conformité.",
                              "kind")
    if db.scalar(select(NonConformity.id).where(NonConformity.finding_id == finding.id)):
        raise Conflict("Ce constat a déjà ouvert une non-conformité.", "finding_id")
    title = clause_titles(audit.standards).get(finding.clause, "")
    values = {"title": f"Audit {audit.process} – § {finding.clause} {title}"[:200], "source": "audit",
              "severity": "major" if finding.kind == "major" else "minor", "requirement": "standard",
              "description": f"Constat d'audit ({FINDING_KINDS[finding.kind]}) : {finding.evidence}",
              "place": audit.process}
    return values


def finding_to_action(db: Session, actor: User, audit: Audit, finding: Finding, *, owner: User, due: date,
                      now: datetime, title: str = "", deliverable: str = ""):
    if not can_change(actor, audit):
        raise Forbidden("Seuls l'auteur de l'audit, son tuteur ou un administrateur traitent ses constats.", "id")
    if finding.action_id is not None:
        raise Conflict("Ce constat a déjà son action.", "finding_id")
    spec = improvement.NewAction(title=title or f"§ {finding.clause} : {finding.evidence}"[:200],
                                 deliverable=deliverable or "Preuve de la mise en conformité", due=due)
    action = improvement.create_action(db, actor, spec, owner=owner, now=now, origin=(FINDING_ORIGIN, finding.id),
                                       team_id=audit.team_id)
    finding.action_id = action.id
    db.flush()
    return action


def close_finding(db: Session, actor: User, audit: Audit, finding: Finding, now: datetime) -> Finding:
    """A finding is closed when what it opened is done (its NC closed, its action done)."""
    if not can_change(actor, audit):
        raise Forbidden("Seuls l'auteur de l'audit, son tuteur ou un administrateur soldent ses constats.", "id")
    if finding.closed_at is not None:
        raise Conflict("Ce constat est déjà soldé.", "finding_id")
    nc_status = db.scalar(select(NonConformity.status).where(NonConformity.finding_id == finding.id))
    action = db.get(improvement.Action, finding.action_id) if finding.action_id else None
    if finding.kind in ("minor", "major") and nc_status is None and action is None:
        raise Conflict("Ouvrez une non-conformité ou une action avant de solder ce constat.", "finding_id")
    if nc_status not in (None, "closed"):
        raise Conflict("La non-conformité ouverte par ce constat n'est pas clôturée.", "finding_id")
    if action is not None and action.status not in ("done", "abandoned"):
        raise Conflict(f"L'action « {action.title} » n'est pas faite.", "finding_id")
    finding.closed_at = now
    db.flush()
    return finding


# -- the report --------------------------------------------------------------------------

@dataclass
class ClauseSection:
    clause: str
    title: str
    findings: list[Finding] = field(default_factory=list)


def findings_by_clause(audit: Audit) -> list[ClauseSection]:
    titles = clause_titles(audit.standards or list(standards()))
    sections: dict[str, ClauseSection] = {}
    for finding in audit.findings:
        section = sections.setdefault(finding.clause, ClauseSection(finding.clause, titles.get(finding.clause, "")))
        section.findings.append(finding)
    return [sections[k] for k in sorted(sections, key=clause_sort_key)]


def report_docx(audit: Audit) -> bytes:
    """The audit report: identification, findings by clause, conclusions, improvement opportunities."""
    from docx import Document

    document = Document()
    document.add_heading(f"Rapport d'audit interne – {audit.process}", 0)
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in identification(audit):
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value
    document.add_heading("Constats par article", 1)
    for section in findings_by_clause(audit):
        document.add_heading(f"§ {section.clause} {section.title}".strip(), 2)
        for finding in section.findings:
            paragraph = document.add_paragraph(style="List Bullet")
            paragraph.add_run(f"{FINDING_KINDS[finding.kind]} : ").bold = True
            paragraph.add_run(finding.evidence)
    document.add_heading("Conclusions", 1)
    document.add_paragraph(audit.conclusions or "Audit en cours : conclusions non rédigées.")
    document.add_heading("Pistes de progrès", 1)
    opportunities = [f for f in audit.findings if f.kind == "opportunity"]
    for finding in opportunities:
        document.add_paragraph(f"§ {finding.clause} : {finding.evidence}", style="List Bullet")
    if not opportunities:
        document.add_paragraph("Aucune piste de progrès relevée.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def identification(audit: Audit) -> list[tuple[str, str]]:
    counts = {label: sum(1 for f in audit.findings if f.kind == kind) for kind, label in FINDING_KINDS.items()}
    return [("Processus audité", audit.process), ("Date", audit.audit_date.strftime("%d/%m/%Y")),
            ("Durée", f"{audit.duration_hours.normalize():f} h"), ("Type", AUDIT_TYPES[audit.audit_type]),
            ("Référentiels", ", ".join(standards()[k]["label"] for k in audit.standards)),
            ("Champ", audit.scope or "—"), ("Critères", audit.criteria or "—"), ("Auditeurs", audit.auditors or "—"),
            ("Audités", audit.auditees or "—"),
            ("Bilan", ", ".join(f"{label} : {n}" for label, n in counts.items() if n) or "aucun constat")]


# -- the annual programme -------------------------------------------------------------------

def check_may_plan(actor: User) -> None:
    if actor.role == "apprentice" and "qse" not in [c.lower() for c in actor.certification_codes]:
        raise Forbidden("Le programme d'audit est tenu par le coordonnateur QSE, son tuteur ou un administrateur.",
                        "process")


def add_programme_entry(db: Session, actor: User, spec: NewProgrammeEntry) -> ProgrammeEntry:
    check_may_plan(actor)
    entry = ProgrammeEntry(year=spec.year, month=spec.month, process=spec.process, standard=spec.standard)
    db.add(entry)
    db.flush()
    return entry


def programme(db: Session, year: int) -> dict[str, list[list[ProgrammeEntry]]]:
    """Process → twelve months of planned (and realised) audits: the calendar view."""
    grid: dict[str, list[list[ProgrammeEntry]]] = {}
    for entry in db.scalars(select(ProgrammeEntry).options(joinedload(ProgrammeEntry.audit))
                            .where(ProgrammeEntry.year == year).order_by(ProgrammeEntry.process)):
        grid.setdefault(entry.process, [[] for _ in range(12)])[entry.month - 1].append(entry)
    return grid


def open_findings_count(db: Session, team_id: int | None) -> int:
    query = (select(func.count(Finding.id)).join(Audit, Audit.id == Finding.audit_id)
             .where(Finding.kind.in_(OPEN_FINDING_KINDS), Finding.closed_at.is_(None)))
    if team_id is not None:
        query = query.where(Audit.team_id == team_id)
    return db.scalar(query) or 0


def finding_json(finding: Finding) -> dict:
    return {"id": finding.id, "audit_id": finding.audit_id, "clause": finding.clause, "kind": finding.kind,
            "evidence": finding.evidence, "action_id": finding.action_id,
            "closed_at": finding.closed_at.isoformat() if finding.closed_at else None}


def audit_json(audit: Audit) -> dict:
    return {"id": audit.id, "title": audit.title, "process": audit.process, "audit_type": audit.audit_type,
            "standards": audit.standards, "audit_date": audit.audit_date.isoformat(), "status": audit.status,
            "auditors": audit.auditors, "auditees": audit.auditees, "scope": audit.scope, "criteria": audit.criteria,
            "checklist": [{"clause": q.clause, "standard": q.standard, "question": q.question}
                          for q in audit.questions],
            "findings": [finding_json(f) for f in audit.findings], "conclusions": audit.conclusions}


def month_label(month: int) -> str:
    return MONTHS[month - 1]

