"""The non-conformity register (QSE-9): create, contain (quarantine the suspect lots), analyse, close."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from modules.improvement import services as improvement
from modules.qse.inputs import Effectiveness, LotReference, NewNonConformity, ReceptionReference
from modules.qse.models import NC_SEVERITIES, NC_STATUSES, Finding, NonConformity, NonConformityLot
from modules.qse.pagination import Page, paginate
from modules.qse.editing import can_change, editable
from modules.stock import services as stock
from shopfloor import access, clock
from shopfloor.auth.models import User
from shopfloor.db import lock
from shopfloor.errors import Conflict, Forbidden, NotFound, ValidationError
from shopfloor.evidence.activities import new_activity



ORIGIN = "qse_nonconformity"
# Suspect stock is pulled back from wherever it is still free to use; stock already in
# quarantine, scrap, waste or on the shipping dock is out of the flow.
CONTAINED_KINDS = ("storage", "reception", "line")


# -- creating --------------------------------------------------------------------------

def resolve_lots(db: Session, references: tuple[LotReference, ...]) -> list:
    """The named lots; each must exist and be unambiguous."""
    lots = []
    for ref in references:
        found = stock.find_lots(db, ref.number, ref.sku, limit=2)
        if not found:
            raise ValidationError(f"Lot introuvable : {ref.label}.", "lots")
        if len(found) > 1:
            raise ValidationError(f"Le lot {ref.number} existe pour plusieurs articles : écrivez « ARTICLE:{ref.number} ».",
                                  "lots")
        if found[0] not in lots:
            lots.append(found[0])
    return lots


def create_nonconformity(db: Session, actor: User, spec: NewNonConformity, now: datetime, *, reception=None,
                         finding: Finding | None = None) -> NonConformity:
    nc = new_activity(
        NonConformity, actor, now, performed_at=spec.detected_at, title=spec.title, detected_at=spec.detected_at,
        source=spec.source, severity=spec.severity, requirement=spec.requirement, description=spec.description,
        place=spec.place, quantity=spec.quantity, cost=spec.cost, status="open",
        reception_id=reception.id if reception else None, finding_id=finding.id if finding else None)
    nc.lots = [NonConformityLot(lot_id=lot.id) for lot in resolve_lots(db, spec.lots)]
    db.add(nc)
    db.flush()
    return nc


def find_reception(db: Session, reference: ReceptionReference):
    """A reception by its number or by its delivery note (what a scanner reads on the BL)."""
    if reference.number is not None:
        reception = stock.reception(db, reference.number)
    else:
        reception = stock.reception_by_delivery_note(db, reference.delivery_note)
    if reception is None:
        raise NotFound(f"Réception introuvable : {reference.label}.", "reception")
    return reception


def reception_draft(db: Session, reception_id: int) -> tuple:
    """The reception and what its anomalies say of a supplier non-conformity (inputs.nonconformity's draft);
    the lots of the anomalous lines are the suspect lots."""
    reception = stock.reception(db, reception_id)
    if reception is None:
        raise NotFound(f"Réception n° {reception_id} introuvable.", "reception")
    if not reception.anomalies:
        raise ValidationError(f"La réception n° {reception_id} n'a aucune anomalie.", "reception")
    described = "\n".join(f"- {stock.anomaly_label(a.kind)}{' (' + a.item.sku + ')' if a.item else ''} : {a.note}"
                          for a in reception.anomalies)
    # quantity and paperwork anomalies do not make goods suspect; quality ones do
    lines = {a.line_id for a in reception.anomalies if a.line_id and a.kind in stock.QUARANTINE_BY_DEFAULT}
    lots = [f"{line.item.sku}:{line.lot.number}" for line in reception.lines if line.id in lines]
    values = {"title": f"NC fournisseur {reception.supplier.name} – BL {reception.delivery_note}",
              "source": "supplier", "severity": "minor", "requirement": "contractual",
              "description": f"Anomalies constatées à la réception n° {reception.id} :\n{described}",
              "place": "Réception", "lots": lots}
    return reception, values


# -- reading --------------------------------------------------------------------------

def get_nonconformity(db: Session, actor: User, nc_id: int) -> NonConformity:
    return access.visible(db, NonConformity, actor, nc_id, label="La non-conformité")


def register(db: Session, actor: User, *, status: str = "", severity: str = "", source: str = "", q: str = "",
             page: int = 1) -> Page:
    """The register, newest first, filtered (as inputs.nc_filters reads them) and paginated."""
    query = select(NonConformity).options(joinedload(NonConformity.author))
    conditions = [access.visible_filter(NonConformity, actor)]
    if status == "active":
        conditions.append(NonConformity.status != "closed")
    elif status:
        conditions.append(NonConformity.status == status)
    if severity:
        conditions.append(NonConformity.severity == severity)
    if source:
        conditions.append(NonConformity.source == source)
    if q:
        conditions.append(NonConformity.title.ilike(f"%{q.strip()}%"))
    query = query.where(*conditions).order_by(NonConformity.detected_at.desc(), NonConformity.id.desc())
    return paginate(db, query, page, select(func.count()).select_from(NonConformity).where(*conditions))


def problem_sheets(db: Session, nc: NonConformity) -> list:
    sheet = improvement.ProblemSheet
    return list(db.scalars(select(sheet).where(sheet.origin_type == ORIGIN, sheet.origin_id == nc.id)
                           .order_by(sheet.id)))


def nc_actions(db: Session, nc: NonConformity, sheets: list | None = None) -> list:
    """The NC's own actions and those planned on its problem sheets."""
    sheets = problem_sheets(db, nc) if sheets is None else sheets
    actions = improvement.origin_actions(db, ORIGIN, nc.id)
    for sheet in sheets:
        actions += improvement.sheet_actions(db, sheet)
    return actions


# -- containment ---------------------------------------------------------------------

def contain(db: Session, actor: User, nc: NonConformity, now: datetime, note: str = "") -> NonConformity:
    """Move the free stock of the named lots to quarantine, in one transaction. Reserved stock (promised
    to a pick list) is not moved: the ledger never takes reserved units; it is reported as left to block."""
    lock(db, nc)  # of two containments sent together, the second waits, then finds it contained
    editable(actor, nc, "cette non-conformité")
    if nc.status != "open":
        raise Conflict(f"La non-conformité est déjà {NC_STATUSES[nc.status].lower()}.", "status")
    if not nc.lots and not note:
        raise ValidationError("Aucun lot à mettre en quarantaine : décrivez l'action immédiate.", "immediate_action")
    done = stock.quarantine_lots(db, actor, [named.lot for named in nc.lots], now, kinds=CONTAINED_KINDS,
                                 activity_id=nc.id, note=f"Non-conformité n° {nc.id}")
    for named in nc.lots:
        named.qty_moved, named.reserved_left = done[named.lot_id]
    db.flush()
    held = stock.quarantined_qty(db, [n.lot_id for n in nc.lots])
    moved = ", ".join(f"{n.lot.number} : {n.qty_moved.normalize():f} déplacé(s), {held.get(n.lot_id, 0):f} en "
                      f"quarantaine" for n in nc.lots)
    nc.immediate_action = note or f"Lots suspects mis en quarantaine ({moved})."
    nc.status, nc.contained_at = "contained", now
    db.flush()
    return nc


# -- analysis, effectiveness, closure -------------------------------------------------------

def check_open(db: Session, actor: User, nc: NonConformity) -> None:
    """The NC may still be changed by the actor (the pages and the API check it before parsing the request)."""
    lock(db, nc)
    editable(actor, nc, "cette non-conformité")
    if nc.status == "closed":
        raise Conflict("La non-conformité est clôturée.", "status")


def set_cost(db: Session, actor: User, nc: NonConformity, cost: Decimal) -> NonConformity:
    check_open(db, actor, nc)
    nc.cost = cost
    db.flush()
    return nc


def record_effectiveness(db: Session, actor: User, nc: NonConformity, check: Effectiveness,
                         now: datetime) -> NonConformity:
    check_open(db, actor, nc)
    nc.effectiveness, nc.effective = check.effectiveness, check.effective
    nc.effectiveness_checked_at = now
    db.flush()
    return nc


def closure_missing(db: Session, nc: NonConformity) -> list[str]:
    """What still prevents closing the NC, in words."""
    missing = []
    sheets = problem_sheets(db, nc)
    actions = nc_actions(db, nc, sheets)
    if nc.severity in ("major", "critical"):
        if not sheets:
            missing.append("aucune analyse des causes (fiche problème) pour une non-conformité "
                           + NC_SEVERITIES[nc.severity].lower())
        if not any(a.kind == "corrective" for a in actions):
            missing.append("aucune action corrective planifiée")
    still_open = [a for a in actions if a.status in improvement.OPEN_STATUSES]
    if still_open:
        missing.append(f"{len(still_open)} action(s) encore ouverte(s) : "
                       + ", ".join(f"« {a.title} »" for a in still_open[:5]))
    if not nc.effectiveness.strip() or nc.effective is None:
        missing.append("l'efficacité n'est pas enregistrée")
    elif nc.effective is False:
        missing.append("l'efficacité est jugée insuffisante : planifiez de nouvelles actions puis vérifiez à nouveau")
    return missing


def close(db: Session, actor: User, nc: NonConformity, now: datetime) -> NonConformity:
    lock(db, nc)  # closure and the changes it checks (actions, effectiveness) queue up on the NC
    editable(actor, nc, "cette non-conformité")
    if nc.status == "closed":
        raise Conflict("La non-conformité est déjà clôturée.", "status")
    missing = closure_missing(db, nc)
    if missing:
        raise Conflict("Clôture impossible : " + " ; ".join(missing) + ".", "status")
    nc.status, nc.closed_at = "closed", now
    if nc.finding_id is not None:
        finding = db.get(Finding, nc.finding_id)
        if finding is not None and finding.closed_at is None:
            finding.closed_at = now
    db.flush()
    return nc


def plan_action(db: Session, actor: User, nc: NonConformity, spec: improvement.NewAction, *, owner: User,
                now: datetime) -> improvement.Action:
    """A corrective (or containment) action whose origin is the NC."""
    if not can_change(actor, nc):
        raise Forbidden("Seuls l'auteur, son tuteur ou un administrateur planifient les actions de cette NC.", "id")
    lock(db, nc)
    if nc.status == "closed":
        raise Conflict("La non-conformité est clôturée.", "status")
    return improvement.create_action(db, actor, replace(spec, pdca="do"), owner=owner, now=now,
                                     origin=(ORIGIN, nc.id), team_id=nc.team_id)


def as_json(nc: NonConformity) -> dict:
    return {"id": nc.id, "status": nc.status, "title": nc.title, "source": nc.source, "severity": nc.severity,
            "requirement": nc.requirement, "description": nc.description, "place": nc.place,
            "quantity": float(nc.quantity) if nc.quantity is not None else None, "cost": float(nc.cost or 0),
            "detected_at": nc.detected_at.isoformat(), "reception_id": nc.reception_id, "finding_id": nc.finding_id,
            "immediate_action": nc.immediate_action,
            "lots": [{"lot": n.lot.number, "sku": n.lot.item.sku,
                      "moved_to_quarantine": float(n.qty_moved) if n.qty_moved is not None else None,
                      "reserved_left": float(n.reserved_left) if n.reserved_left is not None else None}
                     for n in nc.lots],
            "effectiveness": nc.effectiveness, "effective": nc.effective,
            "closed_at": nc.closed_at.isoformat() if nc.closed_at else None}


def in_period(start, end):
    first, after = clock.days_bounds(start, end)
    return NonConformity.detected_at >= first, NonConformity.detected_at < after
