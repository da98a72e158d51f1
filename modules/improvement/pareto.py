"""The Pareto itself (bars and cumulative percentage) and the items typed or sent by hand.

The sources modules declare (failures by cause, anomalies by supplier…) are in shopfloor.origins."""
from __future__ import annotations

from dataclasses import dataclass

from shopfloor.errors import ValidationError

@dataclass(frozen=True)
class ParetoBar:
    category: str
    value: float
    cumulative_pct: float


def pareto(items: list[tuple[str, float]]) -> list[ParetoBar]:
    """Bars sorted from biggest to smallest with the cumulative percentage (0 values dropped)."""
    rows = sorted(((str(c), float(v)) for c, v in items if float(v) > 0), key=lambda r: (-r[1], r[0]))
    total = sum(v for _, v in rows)
    bars, running = [], 0.0
    for category, value in rows:
        running += value
        bars.append(ParetoBar(category, value, round(100 * running / total, 1)))
    return bars


def parse_manual(raw: str) -> list[tuple[str, float]]:
    """Lines 'catégorie ; valeur' (or tab / last comma) typed by hand."""
    items = []
    for number, line in enumerate((raw or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        for sep in (";", "\t", ","):
            if sep in line:
                category, _, value = line.rpartition(sep)
                break
        else:
            raise ValidationError(f"Ligne {number} : écrivez « catégorie ; valeur ».", "values")
        try:
            amount = float(value.strip().replace(",", "."))
        except ValueError:
            raise ValidationError(f"Ligne {number} : « {value.strip()} » n'est pas un nombre.", "values") from None
        if amount < 0 or amount != amount or amount in (float("inf"),):
            raise ValidationError(f"Ligne {number} : la valeur doit être positive.", "values")
        if not category.strip():
            raise ValidationError(f"Ligne {number} : la catégorie est vide.", "values")
        items.append((category.strip()[:120], amount))
    if len(items) > 200:
        raise ValidationError("200 catégories au plus.", "values")
    return items


def clean_items(value, field: str = "pareto") -> list[list]:
    """Pareto items from JSON ([[category, value]] or [{"category", "value"}])."""
    if not isinstance(value, list) or len(value) > 200:
        raise ValidationError("Le Pareto doit être une liste de 200 [catégorie, valeur] au plus.", field)
    items = []
    for item in value:
        if isinstance(item, dict):
            item = [item.get("category"), item.get("value")]
        if not isinstance(item, (list, tuple)) or len(item) != 2 or not isinstance(item[0], str) or not item[0].strip():
            raise ValidationError("Chaque ligne du Pareto est [catégorie, valeur].", field)
        try:
            amount = float(item[1])
        except (TypeError, ValueError):
            raise ValidationError(f"Valeur invalide pour « {item[0]} ».", field) from None
        if not 0 <= amount < 1e12:
            raise ValidationError(f"Valeur hors limites pour « {item[0]} ».", field)
        items.append([item[0].strip()[:120], amount])
    return items
