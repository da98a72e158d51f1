"""HTML form fields → the dicts the equipment and plan services validate (the same ones the API takes)."""
from __future__ import annotations

from werkzeug.datastructures import MultiDict

from shopfloor.errors import ValidationError

EQUIPMENT_TEXT = ("code", "name", "level", "parent", "criticality", "maker", "model", "location")
PLAN_TEXT = ("equipment", "kind", "title", "parameter", "threshold", "direction", "lead_days", "window_days",
             "anchor", "start", "tools", "consumables", "duration_min", "authorisation")


def _number(text: str, field: str, line: int) -> float:
    try:
        return float(text.replace(",", ".").replace(" ", ""))
    except ValueError:
        raise ValidationError(f"Ligne {line} : « {text} » n'est pas un nombre.", field) from None


def reference_values(text: str) -> dict:
    """One "paramètre = valeur" per line (the kilomètre-zéro values)."""
    values = {}
    for n, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValidationError(f"Ligne {n} : écrivez « paramètre = valeur ».", "reference_values")
        values[name.strip()[:40]] = _number(value.strip(), "reference_values", n)
    return values


def operations(text: str) -> list[dict]:
    """One operation per line: "libellé ; valeur attendue ; tolérance ± ; unité" (only the label is required)."""
    ops = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(";")] + ["", "", ""]
        op = {"label": parts[0], "unit": parts[3]}
        if not op["label"]:
            raise ValidationError(f"Ligne {n} : l'opération n'a pas de libellé.", "operations")
        if parts[1]:
            op["expected"] = _number(parts[1], "operations", n)
        if parts[2]:
            if not parts[1]:
                raise ValidationError(f"Ligne {n} : une tolérance demande une valeur attendue.", "operations")
            op["tolerance"] = _number(parts[2], "operations", n)
        ops.append(op)
    return ops


def equipment_data(form: MultiDict) -> dict:
    data = {k: form.get(k, "").strip() for k in EQUIPMENT_TEXT if form.get(k, "").strip()}
    for key in ("technologies", "energies", "meters"):
        data[key] = form.getlist(key)
    data["reference_values"] = reference_values(form.get("reference_values", ""))
    return data


def plan_data(form: MultiDict) -> dict:
    data = {k: form.get(k, "").strip() for k in PLAN_TEXT if form.get(k, "").strip()}
    unit, value = form.get("interval_unit", ""), form.get("interval", "").strip()
    if unit in ("days", "weeks", "months", "hours", "cycles") and value:
        data[f"interval_{unit}"] = value
    data["running_check"] = bool(form.get("running_check"))
    data["operations"] = operations(form.get("operations", ""))
    return data


def reference_text(values: dict) -> str:
    return "\n".join(f"{k} = {val:g}" for k, val in (values or {}).items())


def operations_text(ops: list[dict]) -> str:
    lines = []
    for op in ops or []:
        tol = ""
        if "expected" in op and "min" in op and "max" in op:
            tol = f"{(op['max'] - op['min']) / 2:g}"
        lines.append(" ; ".join([op["label"], f"{op['expected']:g}" if "expected" in op else "", tol,
                                 op.get("unit", "")]).rstrip(" ;"))
    return "\n".join(lines)
