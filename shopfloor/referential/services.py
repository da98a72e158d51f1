"""Loading and reading the competence referential."""
from __future__ import annotations

import json
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shopfloor.errors import NotFound
from shopfloor.referential.models import CRITERION_HEADINGS, Block, Certification, Competence, Criterion


def shipped_referential() -> dict:
    return json.loads(resources.files("shopfloor.referential").joinpath("cqpm.json").read_text("utf-8"))


def load_referential(db: Session, data: dict | None = None) -> None:
    """Create or update the referential from the shipped data; a second run changes nothing.

    Rows are matched by their natural keys (certification code, block number, competence
    code, criterion heading and position) so ids, and the reviews pointing at them, stay."""
    data = data or shipped_referential()
    certs = {c.code: c for c in db.scalars(select(Certification).options(
        selectinload(Certification.blocks).selectinload(Block.competences).selectinload(Competence.criteria)))}
    for cert_data in data["certifications"]:
        cert = certs.get(cert_data["code"]) or Certification(code=cert_data["code"])
        _assign(cert, title=cert_data["title"], reference=cert_data.get("reference"))
        db.add(cert)
        blocks = {b.number: b for b in cert.blocks}
        for block_data in cert_data["blocks"]:
            block = blocks.get(block_data["number"]) or Block(number=block_data["number"], certification=cert)
            _assign(block, code=block_data.get("code"), title=block_data["title"],
                    knowledge=list(block_data.get("knowledge", [])))
            db.add(block)
            for comp_data in block_data["competences"]:
                _load_competence(db, block, cert.code, comp_data)
    db.flush()


def _load_competence(db: Session, block: Block, cert_code: str, data: dict) -> None:
    code = f"{cert_code}-{data['number']}"
    comp = db.scalar(select(Competence).where(Competence.code == code)) or Competence(code=code)
    _assign(comp, block=block, number=data["number"], title=data["title"],
            conditions=data.get("conditions", ""), expected_results=list(data["expected_results"]))
    db.add(comp)
    existing = {(c.heading, c.position): c for c in comp.criteria}
    positions: dict[str, int] = {}
    for crit in data["criteria"]:
        heading = crit["heading"]
        positions[heading] = positions.get(heading, 0) + 1
        key = (heading, positions[heading])
        criterion = existing.get(key) or Criterion(competence=comp, heading=heading, position=key[1])
        _assign(criterion, text=crit["text"], heading_order=CRITERION_HEADINGS.index(heading))
        db.add(criterion)


def _assign(obj, **values) -> None:
    for name, value in values.items():
        if getattr(obj, name, None) != value:
            setattr(obj, name, value)


def certifications(db: Session) -> list[Certification]:
    """The whole tree, loaded in four queries."""
    return list(db.scalars(select(Certification).order_by(Certification.id).options(
        selectinload(Certification.blocks).selectinload(Block.competences).selectinload(Competence.criteria))))


def certification(db: Session, code: str) -> Certification:
    cert = db.scalar(select(Certification).where(Certification.code == code.upper()))
    if cert is None:
        raise NotFound(f"Certification inconnue : {code}", field="certification")
    return cert


def competence(db: Session, code: str) -> Competence:
    comp = db.scalar(select(Competence).where(Competence.code == code.upper()).options(
        selectinload(Competence.criteria)))
    if comp is None:
        raise NotFound(f"Compétence inconnue : {code}", field="competence")
    return comp


def referential_as_dict(db: Session) -> dict:
    return {"certifications": [{
        "code": cert.code, "title": cert.title, "reference": cert.reference,
        "blocks": [{
            "code": block.code, "number": block.number, "title": block.title, "knowledge": block.knowledge,
            "competences": [competence_as_dict(comp) for comp in block.competences],
        } for block in cert.blocks],
    } for cert in certifications(db)]}


def competence_as_dict(comp: Competence) -> dict:
    return {
        "code": comp.code, "number": comp.number, "title": comp.title, "conditions": comp.conditions,
        "criteria": [{"id": c.id, "heading": c.heading, "text": c.text} for c in comp.criteria],
        "expected_results": comp.expected_results,
    }
