"""The import of items or locations from a CSV or XLSX file: a handler, like a view. It parses every
row (modules.stock.inputs), finds each item's supplier, refuses duplicates, then asks the master data
service to write all rows or none; the page, the CLI and the tests share it."""
from __future__ import annotations

from sqlalchemy.orm import Session

from shopfloor.errors import ValidationError
from modules.stock import inputs, masterdata
from modules.stock.masterdata import ImportReport


def import_rows(db: Session, kind: str, rows: list[dict]) -> ImportReport:
    """Create or update every row, or nothing at all: all rows are validated before the first write."""
    report = ImportReport(kind)
    if kind not in ("items", "locations"):
        raise ValidationError("Import de « items » ou de « locations » uniquement.", "kind")
    if not rows:
        report.errors.append((1, None, "Le fichier ne contient aucune ligne de données."))
        return report
    columns = inputs.ITEM_COLUMNS if kind == "items" else inputs.LOCATION_COLUMNS
    unknown = sorted(set(rows[0]) - set(columns))
    if unknown:
        report.errors.append((1, unknown[0], f"Colonne(s) inconnue(s) : {', '.join(unknown)} "
                                             f"(attendu : {', '.join(columns)})."))
        return report
    valid, lines = _valid_rows(db, kind, rows, columns[0], report)
    return report if report.errors else masterdata.save_rows(db, report, valid, lines)


def _valid_rows(db: Session, kind: str, rows: list[dict], key: str,
                report: ImportReport) -> tuple[list[dict], dict]:
    valid, seen = [], {}
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        try:
            values = (masterdata.item_columns(db, inputs.item(row)) if kind == "items"
                      else inputs.location(row).columns())
        except ValidationError as exc:
            report.errors.append((number, exc.field, exc.message))
            continue
        if values[key] in seen:
            report.errors.append((number, key, f"{values[key]} figure déjà ligne {seen[values[key]]}."))
            continue
        seen[values[key]] = number
        valid.append(values)
    return valid, seen
