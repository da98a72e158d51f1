"""Equipment register and preventive plans: created from the typed values of modules.maintenance.inputs."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from modules.maintenance.inputs import EquipmentChange, NewEquipment, NewPlan
from modules.maintenance.lookup import get_equipment
from modules.maintenance.models import Equipment, Plan
from modules.maintenance.schedule import add_interval, initial_state
from shopfloor.auth.models import User
from shopfloor.errors import Conflict, Forbidden

MANAGERS = ("tutor", "admin")


def require_manager(actor: User) -> None:
    if actor.role not in MANAGERS:
        raise Forbidden("Seuls un tuteur ou un administrateur gèrent le parc d'équipements.", "code")


def create_equipment(db: Session, actor: User, spec: NewEquipment) -> Equipment:
    require_manager(actor)
    if db.scalar(select(Equipment.id).where(Equipment.code == spec.code)):
        raise Conflict(f"Le code équipement « {spec.code} » existe déjà.", "code")
    parent = get_equipment(db, spec.parent) if spec.parent else None
    eq = Equipment(
        code=spec.code, name=spec.name, level=spec.level, parent=parent, technologies=spec.technologies,
        criticality=spec.criticality, maker=spec.maker, model=spec.model, location=spec.location,
        energies=spec.energies, meters=spec.meters, reference_values=spec.reference_values, site_id=actor.site_id,
        team_id=parent.team_id if parent and parent.team_id else actor.team_id)
    if spec.team_id is not None:
        eq.team_id = spec.team_id
    db.add(eq)
    db.flush()
    return eq


EDITABLE = ("name", "technologies", "criticality", "maker", "model", "location", "energies", "meters",
            "reference_values")


def update_equipment(db: Session, actor: User, eq: Equipment, change: EquipmentChange) -> Equipment:
    """Change the description of an equipment (its code, level and place in the tree stay)."""
    require_manager(actor)
    for field in EDITABLE:
        setattr(eq, field, getattr(change, field))
    db.flush()
    return eq


# -- Plans ------------------------------------------------------------------------

def create_plan(db: Session, actor: User, spec: NewPlan) -> Plan:
    if actor.role not in MANAGERS:
        raise Forbidden("Seuls un tuteur ou un administrateur créent des plans de maintenance.", "equipment")
    eq = get_equipment(db, spec.equipment)
    plan = Plan(equipment=eq, kind=spec.kind, title=spec.title or f"Préventif {eq.name}", start=spec.start,
                operations=spec.operations, lead_days=spec.lead_days, anchor=spec.anchor, tools=spec.tools,
                consumables=spec.consumables, duration_min=spec.duration_min, authorisation=spec.authorisation,
                running_check=spec.running_check, **spec.kind_fields)
    if plan.kind == "calendar":
        add_interval(plan.start, plan)  # validates the unit
    initial_state(plan)
    db.add(plan)
    db.flush()
    return plan
