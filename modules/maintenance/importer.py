"""The import of the equipment register from a CSV or XLSX file: a handler, like a view (the page, the
CLI and the tests share it). It parses each line (modules.maintenance.inputs) and asks the service to
create it; all lines land, or none, the errors listed line by line."""
from __future__ import annotations

from sqlalchemy.orm import Session

from modules.maintenance import equipment, inputs
from modules.stock import services as stock
from shopfloor.auth.models import User
from shopfloor.errors import Conflict, NotFound, ValidationError


class ImportRefused(ValidationError):
    """The import was refused; `lines` lists each bad line's error for the report."""

    def __init__(self, lines: list[str]):
        super().__init__("Import refusé, rien n'a été enregistré. " + " ".join(lines), "file")
        self.lines = lines


IMPORT_COLUMNS = ("code", "name", "level", "parent", "technologies", "criticality", "maker", "model", "energies")


def import_equipment(db: Session, actor: User, content: bytes, filename: str) -> tuple[int, list[str]]:
    """CSV (; or ,) or XLSX with IMPORT_COLUMNS."""
    rows = list(enumerate(stock.read_table(filename, content), start=2))
    if not rows:
        raise ValidationError("Le fichier ne contient aucune ligne d'équipement sous l'en-tête.", "file")
    equipment.require_manager(actor)   # a 403 for a non-manager, whatever the lines hold
    errors: list[str] = []
    created = 0
    for number, row in rows:
        try:
            with db.begin_nested():
                spec = inputs.new_equipment({k: (row.get(k) or "").strip() for k in IMPORT_COLUMNS if row.get(k)})
                equipment.create_equipment(db, actor, spec)
            created += 1
        except (ValidationError, Conflict, NotFound) as error:
            errors.append(f"Ligne {number} : {error.message}")
    if errors:
        raise ImportRefused(errors)
    return created, errors
