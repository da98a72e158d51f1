"""What the stock API shares: the one API blueprint (/api/v1/stock/…)."""
from __future__ import annotations

from decimal import Decimal

from shopfloor.api import api_blueprint

bp = api_blueprint("stock_api", "/stock")

QTY = {"type": "number"}


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)
