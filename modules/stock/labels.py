"""Printable labels: locations and lots, with a Code 128 barcode (python-barcode) or a QR code (qrcode).

The SVG is inlined in the label sheet, so a sheet prints with no other request and no network.
A location label encodes the location code; a lot label encodes the item reference and the lot
number separately, as the count and pick screens scan them one after the other.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import lru_cache

import barcode
import qrcode
import qrcode.image.svg
from barcode.writer import SVGWriter
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shopfloor.errors import ValidationError
from modules.stock.inputs import LABEL_FORMATS
from modules.stock.models import LOCATION_KINDS, Item, Location, Lot

FORMATS = LABEL_FORMATS
MAX_LABELS = 240  # ten A4 sheets of 24
_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.S)
CODE128_OPTIONS = {"module_width": 0.3, "module_height": 11.0, "quiet_zone": 3.0, "font_size": 0,
                   "text_distance": 0, "write_text": False, "compress": False}


@lru_cache(maxsize=4096)
def code128_svg(data: str) -> str:
    """A Code 128 barcode of `data` as an inline <svg> element (bars as <rect> in millimetres)."""
    if not data or any(ord(ch) > 126 or ord(ch) < 32 for ch in data):
        raise ValidationError(f"« {data} » ne peut pas être codé en Code 128 (ASCII imprimable uniquement).", "code")
    out = io.BytesIO()
    barcode.get("code128", data, writer=SVGWriter()).write(out, options=CODE128_OPTIONS)
    return _PROLOGUE.sub("", out.getvalue().decode("utf-8"), count=1)


@lru_cache(maxsize=4096)
def qr_svg(data: str) -> str:
    """A QR code of `data` as an inline <svg> element (one path)."""
    if not data:
        raise ValidationError("Rien à coder dans le QR code.", "code")
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    return image.to_string(encoding="unicode")


def symbol(data: str, fmt: str) -> str:
    """`fmt` a key of FORMATS (inputs.label_sheet checks it)."""
    return qr_svg(data) if fmt == "qr" else code128_svg(data)


@dataclass
class Label:
    title: str
    subtitle: str
    codes: list[tuple[str, str]]  # (caption, svg)


def location_labels(db: Session, prefix: str, fmt: str) -> list[Label]:
    """Labels of the active locations whose code is `prefix` (upper case, from inputs.label_sheet) or starts
    with `prefix-` (all when empty)."""
    query = select(Location).where(Location.active.is_(True)).order_by(Location.code).limit(MAX_LABELS)
    if prefix:
        query = query.where(or_(Location.code == prefix, Location.code.like(prefix + "-%")))
    locations = list(db.scalars(query))
    if prefix and not locations:
        raise ValidationError(f"Aucun emplacement ne commence par « {prefix} ».", "prefix")
    return [Label(loc.code, _kind_label(loc.kind), [(loc.code, symbol(loc.code, fmt))]) for loc in locations]


def lot_labels(db: Session, sku: str, fmt: str) -> list[Label]:
    """Labels of an item's lots, latest first; `sku` upper case, from inputs.label_sheet."""
    item = db.scalars(select(Item).where(Item.sku == sku)).one_or_none() if sku else None
    if item is None:
        raise ValidationError(f"Article « {sku} » inconnu." if sku else "Indiquez la référence article.", "sku")
    lots = list(db.scalars(select(Lot).where(Lot.item_id == item.id).order_by(Lot.received_at.desc(), Lot.id.desc())
                           .limit(MAX_LABELS)))
    if not lots:
        raise ValidationError(f"{item.sku} n'a encore aucun lot.", "sku")
    return [Label(f"{item.sku} — lot {lot.number}",
                  item.name + (f" · DLUO {lot.expiry.strftime('%d/%m/%Y')}" if lot.expiry else ""),
                  [(item.sku, symbol(item.sku, fmt)), (lot.number, symbol(lot.number, fmt))]) for lot in lots]


def _kind_label(kind: str) -> str:
    return LOCATION_KINDS.get(kind, kind)
