"""Finding master data by the codes people type or scan; unknown codes are a 422 on that field."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopfloor.errors import ValidationError
from modules.stock.models import Item, Location, Lot, Supplier


def item_by_sku(db: Session, sku: str, field: str = "sku") -> Item:
    code = (sku or "").strip().upper()  # SKUs and location codes are stored upper-case
    item = db.scalars(select(Item).where(Item.sku == code)).one_or_none() if code else None
    if item is None:
        raise ValidationError(f"Article « {code} » inconnu." if code else "La référence article est obligatoire.", field)
    return item


def location_by_code(db: Session, code: str, field: str = "location") -> Location:
    text = (code or "").strip().upper()
    location = db.scalars(select(Location).where(Location.code == text)).one_or_none() if text else None
    if location is None:
        raise ValidationError(f"Emplacement « {text} » inconnu." if text else "L'emplacement est obligatoire.", field)
    if not location.active:
        raise ValidationError(f"L'emplacement {text} est désactivé.", field)
    return location


def lot_by_number(db: Session, item: Item, number: str, field: str = "lot") -> Lot:
    text = (number or "").strip()
    lot = db.scalars(select(Lot).where(Lot.item_id == item.id, Lot.number == text)).one_or_none() if text else None
    if lot is None:
        raise ValidationError(f"Lot « {text} » inconnu pour {item.sku}." if text else "Le lot est obligatoire.", field)
    return lot


def supplier_by_name(db: Session, name: str, field: str = "supplier") -> Supplier:
    text = (name or "").strip()
    supplier = db.scalars(select(Supplier).where(func.lower(Supplier.name) == text.lower())).one_or_none() if text else None
    if supplier is None:
        raise ValidationError(f"Fournisseur « {text} » inconnu." if text else "Le fournisseur est obligatoire.", field)
    return supplier
