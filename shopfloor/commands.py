"""What a command of the `shopfloor` CLI needs, core or module: the app, and one transaction.

Importing this file builds nothing and adds no command, so a module's CLI group imports it at
the top (shopfloor.cli, which adds the modules' groups, imports the modules only when it runs)."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator

import click
from flask import Flask
from sqlalchemy.orm import Session

from shopfloor.app import create_app
from shopfloor.errors import DomainError


def command_app() -> Flask:
    """The app a command works on, configured from the environment (SHOPFLOOR_*)."""
    return create_app()


@contextmanager
def transaction(app: Flask) -> Iterator[Session]:
    """One command, one transaction, inside the app's context (so current_actor(), links and the
    configuration work as in a request): commit at the end, roll back and exit 1 on a domain error."""
    with app.app_context():
        db = app.extensions["shopfloor_sessions"].open(write=True)
        try:
            yield db
            db.commit()
        except DomainError as exc:
            db.rollback()
            field = f" [{exc.field}]" if exc.field else ""
            click.echo(f"Erreur{field} : {exc.message}", err=True)
            sys.exit(1)
        finally:
            db.close()
