"""`shopfloor maintenance …`: one generation pass at a given time, import of the equipment register."""
from __future__ import annotations

from pathlib import Path

import click

from modules.maintenance import importer, schedule
from shopfloor import clock
from shopfloor.auth.permissions import act_as, current_actor
from shopfloor.auth.services import get_user
from shopfloor.commands import command_app, transaction
from shopfloor.validation import parse_datetime

group = click.Group("maintenance", help="Maintenance : génération des OT, import du parc.")


@group.command("generate")
@click.option("--now", "now_text", default=None, help="Date et heure ISO (défaut : maintenant).")
def generate(now_text):
    """Run one pass of the preventive work-order generation."""
    with transaction(command_app()) as db:
        result = schedule.run(db, parse_datetime(now_text, "now") if now_text else clock.now())
    click.echo(f"{len(result.created)} OT créé(s), {result.skipped} occurrence(s) sautée(s), "
               f"{result.replanned} replanifié(s), {result.late} en retard.")


@group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "username", required=True, help="Tuteur ou administrateur qui importe.")
def import_equipment(file: Path, username: str):
    """Import equipment from FILE (CSV or XLSX): all lines or none, errors listed line by line."""
    with transaction(command_app()) as db:
        act_as(get_user(db, username))
        created, _ = importer.import_equipment(db, current_actor(), file.read_bytes(), file.name)
    click.echo(f"{created} équipement(s) importé(s).")
