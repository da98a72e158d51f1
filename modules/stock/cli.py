"""`shopfloor stock …`: imports of master data from CSV or XLSX."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from modules.stock import importer, inputs
from shopfloor.commands import command_app, transaction

group = click.Group("stock", help="Magasin : imports et opérations.")


@group.command("import")
@click.argument("kind", type=click.Choice(["items", "locations"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(kind: str, file: Path):
    """Import items or locations from FILE (CSV or XLSX): all lines or none."""
    with transaction(command_app()) as db:
        report = importer.import_rows(db, kind, inputs.read_table(file.name, file.read_bytes()))
        if not report.ok:
            db.rollback()
            for line, field, message in report.errors:
                click.echo(f"ligne {line}{f' [{field}]' if field else ''} : {message}", err=True)
            click.echo(f"Rien n'a été importé : {len(report.errors)} erreur(s).", err=True)
            sys.exit(1)
    click.echo(f"Import réussi : {report.created} créé(s), {report.updated} mis à jour.")
