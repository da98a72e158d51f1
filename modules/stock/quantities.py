"""How much of an item one operation may carry: the one table of quantity bounds.

An item's `unit` is free text (Item.unit, String(12): "u" pieces by default, "m" for hoses and
cables, sometimes "kg", "L", "g"…). Above 1,000,000 of one item in one reception, pick, count
or call is a typing error in a workshop store, unless the unit is a small one that counts
high (grams, millilitres, millimetres): those units, and only those, allow more. Every
quantity also fits its column, QTY = Numeric(14, 3): three decimals at most.
"""
from __future__ import annotations

from decimal import Decimal

from shopfloor.errors import ValidationError

QTY_PLACES = 3  # the scale of QTY = Numeric(14, 3)
DEFAULT_MAX_QTY = Decimal(1_000_000)
MAX_QTY_BY_UNIT = {"g": Decimal(1_000_000_000), "mg": Decimal(10_000_000_000), "ml": Decimal(1_000_000_000),
                   "mm": Decimal(1_000_000_000), "cm": Decimal(100_000_000)}
ANY_UNIT_MAX = max(MAX_QTY_BY_UNIT.values())  # the bound inputs.parse_qty applies before the unit is known


def max_qty(unit: str | None) -> Decimal:
    """The largest quantity of an item counted in this unit that one operation may carry."""
    return MAX_QTY_BY_UNIT.get((unit or "u").strip().lower(), DEFAULT_MAX_QTY)


def check_qty(item, qty: Decimal | None, field: str = "qty") -> Decimal | None:
    """The quantity, or a 422 naming the field when the item's unit does not allow that much."""
    if qty is None:
        return qty
    limit = max_qty(item.unit)
    if qty > limit:
        raise ValidationError(f"Le champ « {field} » dépasse {limit:,.0f} {item.unit or 'u'} pour {item.sku} : "
                              f"vérifiez la quantité ou l'unité de l'article.".replace(",", " "), field)
    if qty != qty.quantize(Decimal(1).scaleb(-QTY_PLACES)):
        raise ValidationError(f"Le champ « {field} » admet au plus {QTY_PLACES} décimales.", field)
    return qty
