"""The management review pack (QSE-7, ISO 9001 § 9.3): objectives and their indicators, audits and open findings,
non-conformities by severity and status, top risks and open QSE actions, in one DOCX."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from modules.improvement.services import OPEN_STATUSES, Action, ProblemSheet
from modules.qse import objectives as obj
from modules.qse.models import (
    AUDIT_STATUSES, FINDING_KINDS, NC_SEVERITIES, NC_STATUSES, OBJECTIVE_STATUSES, OPEN_FINDING_KINDS, POLICY_AXES,
    RISK_CATEGORIES, Audit, NonConformity, Risk)
from shopfloor import access
from shopfloor.auth.models import User

TOP_RISKS = 10
RECENT_AUDITS = 12
OPEN_ACTIONS = 100


@dataclass
class Pack:
    day: date
    objectives: list            # (Objective, [(indicator, last measurement or None)])
    audits: list                # (Audit, [open findings])
    nc_counts: dict             # (severity, status) → count
    risks: list
    actions: list


def gather(db: Session, actor: User, today: date) -> Pack:
    """Everything the review reads, limited to what `actor` may see (an admin: the whole site),
    in a handful of queries."""
    objectives = obj.objectives(db, actor)
    last = obj.last_measurements(db, [i.id for o in objectives for i in o.indicators])
    audits = list(db.scalars(select(Audit).options(selectinload(Audit.findings)).where(access.visible_filter(Audit, actor))
                             .order_by(Audit.audit_date.desc(), Audit.id.desc()).limit(RECENT_AUDITS)))
    counts = {(severity, status): count for severity, status, count in db.execute(
        select(NonConformity.severity, NonConformity.status, func.count()).where(access.visible_filter(NonConformity, actor))
        .group_by(NonConformity.severity, NonConformity.status))}
    risks = list(db.scalars(select(Risk).where(access.visible_filter(Risk, actor))
                            .order_by(Risk.score.desc(), Risk.id.desc()).limit(TOP_RISKS)))
    qse_sheets = select(ProblemSheet.id).where(ProblemSheet.origin_type.like("qse_%"))
    actions = list(db.scalars(
        select(Action).options(joinedload(Action.owner))
        .where(access.visible_filter(Action, actor), Action.status.in_(OPEN_STATUSES),
               or_(Action.origin_type.like("qse_%"),
                   (Action.origin_type == "problem") & Action.origin_id.in_(qse_sheets)))
        .order_by(Action.due, Action.id).limit(OPEN_ACTIONS)))
    return Pack(today, [(o, [(i, last.get(i.id)) for i in o.indicators]) for o in objectives],
                [(a, [f for f in a.findings if f.kind in OPEN_FINDING_KINDS and f.closed_at is None]) for a in audits],
                counts, risks, actions)


def _value(indicator, measurement) -> str:
    if measurement is None:
        return "pas de mesure"
    verdict = "dans la cible" if indicator.on_target(measurement.value) else "HORS CIBLE"
    return f"{measurement.value.normalize():f} {indicator.unit} au {measurement.measured_on:%d/%m/%Y} ({verdict})"


def _table(document, header: list[str], rows: list[list[str]]) -> None:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, label in zip(table.rows[0].cells, header):
        cell.text = label
        cell.paragraphs[0].runs[0].bold = True
    for row in rows:
        for cell, value in zip(table.add_row().cells, row):
            cell.text = value


def docx(pack: Pack) -> bytes:
    from docx import Document

    document = Document()
    document.add_heading(f"Revue de direction QSE – {pack.day:%d/%m/%Y}", 0)
    document.add_heading("1. Objectifs et indicateurs", 1)
    for objective, indicators in pack.objectives:
        document.add_heading(f"[{POLICY_AXES[objective.axis]}] {objective.title}", 2)
        document.add_paragraph(f"Cible : {objective.target} – échéance {objective.deadline:%d/%m/%Y} – pilote "
                               f"{objective.owner.full_name} – {OBJECTIVE_STATUSES[objective.status]}")
        for indicator, last in indicators:
            target = f"{'≥' if indicator.direction == 'higher' else '≤'} {indicator.target.normalize():f}"
            document.add_paragraph(f"{indicator.name} (cible {target} {indicator.unit}) : {_value(indicator, last)}",
                                   style="List Bullet")
        if not indicators:
            document.add_paragraph("Aucun indicateur rattaché.", style="List Bullet")
    if not pack.objectives:
        document.add_paragraph("Aucun objectif QSE défini.")
    document.add_heading("2. Audits internes et constats ouverts", 1)
    for audit, findings in pack.audits:
        document.add_heading(f"{audit.title} – {audit.audit_date:%d/%m/%Y} ({AUDIT_STATUSES[audit.status]})", 2)
        for finding in findings:
            document.add_paragraph(f"§ {finding.clause} – {FINDING_KINDS[finding.kind]} : {finding.evidence}",
                                   style="List Bullet")
        if not findings:
            document.add_paragraph("Aucun constat ouvert.", style="List Bullet")
    if not pack.audits:
        document.add_paragraph("Aucun audit réalisé.")
    document.add_heading("3. Non-conformités par gravité et statut", 1)
    _table(document, ["Gravité", *NC_STATUSES.values(), "Total"],
           [[label, *[str(pack.nc_counts.get((severity, status), 0)) for status in NC_STATUSES],
             str(sum(pack.nc_counts.get((severity, status), 0) for status in NC_STATUSES))]
            for severity, label in NC_SEVERITIES.items()])
    document.add_heading(f"4. Risques les plus cotés (top {TOP_RISKS})", 1)
    _table(document, ["Risque", "Catégorie", "Processus", "Cotation", "Résiduel"],
           [[risk.title, RISK_CATEGORIES[risk.category], risk.process, str(risk.score),
             "—" if risk.residual_score is None else str(risk.residual_score)] for risk in pack.risks])
    document.add_heading("5. Actions QSE ouvertes", 1)
    _table(document, ["Action", "Responsable", "Échéance", "Statut"],
           [[action.title, action.owner.full_name, f"{action.due:%d/%m/%Y}",
             "en retard" if action.is_late(pack.day) else action.status] for action in pack.actions])
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()

