"""The `shopfloor` command: init, demo, serve, scheduler, users, tokens, jobs; modules add groups."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import create_engine, inspect, select, text, true
from sqlalchemy.engine import make_url

from shopfloor import backup as backup_module
from shopfloor import clock, scheduler
from shopfloor import config as config_module
from shopfloor.auth.models import User
from shopfloor.auth.services import UserInput, create_token, create_user, get_user, revoke_tokens
from shopfloor.commands import command_app, transaction
from shopfloor.config import ConfigError, enabled_modules, module_registration
from shopfloor.demo import load_demo
from shopfloor.errors import DomainError
from shopfloor.migrate import upgrade
from shopfloor.referential.services import load_referential
from shopfloor.validation import parse_datetime



def init_database(app: Flask) -> None:
    upgrade(app.config["DATABASE_URL"])
    with transaction(app) as db:
        load_referential(db)


class _Main(click.Group):
    """The `shopfloor` command. The modules' command groups are added when it runs (listing or
    finding a command), never when this file is imported."""

    _modules_added = False

    def _add_module_commands(self) -> None:
        if self._modules_added:
            return
        self._modules_added = True
        for name in enabled_modules():
            registration = module_registration(name)
            if registration.cli is not None:
                self.add_command(registration.cli)

    def main(self, *args, **kwargs):
        try:
            return super().main(*args, **kwargs)
        except ConfigError as exc:   # a SHOPFLOOR_* value that cannot be used: say which, no traceback
            click.echo(f"Configuration : {exc}", err=True)
            sys.exit(2)

    def list_commands(self, ctx):
        self._add_module_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx, name):
        self._add_module_commands()
        return super().get_command(ctx, name)


@click.group(cls=_Main)
def main():
    """Shopfloor: a shop-floor suite for industrial apprenticeships (CQPM)."""


@main.command()
def init():
    """Create or upgrade the database schema and load the CQPM referential (safe to run twice)."""
    app = command_app()
    init_database(app)
    click.echo(f"Base prête : {_safe_url(app.config['DATABASE_URL'])}")


def real_user_count(url: str) -> int:
    """How many users of this database the demo did not create (0 for a new database)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("core_user")} \
                if inspect(conn).has_table("core_user") else None
            if columns is None:
                return 0
            where = " WHERE NOT demo" if "demo" in columns else ""  # before 0004 no user was marked
            return conn.scalar(text(f"SELECT count(*) FROM core_user{where}"))
    finally:
        engine.dispose()


@main.command()
@click.option("--force", is_flag=True, help="Load the demo even into a database that holds real users.")
def demo(force: bool):
    """Initialise, load demo data (once) and print the demo logins (refused on a real site)."""
    app = command_app()
    real = real_user_count(app.config["DATABASE_URL"])
    if real and not force:
        click.echo(f"Refusé : cette base ({_safe_url(app.config['DATABASE_URL'])}) contient {real} utilisateur(s) "
                   "que la démonstration n'a pas créé(s). La démonstration ajoute des comptes aux mots de passe "
                   "publics : elle ne s'installe jamais sur un site réel. Rien n'a été écrit. Utilisez une base "
                   "vide (SHOPFLOOR_DATABASE_URL ou SHOPFLOOR_INSTANCE_PATH), ou --force en connaissance de cause.",
                   err=True)
        sys.exit(1)
    init_database(app)
    with transaction(app) as db:
        before = set(db.scalars(select(User.id)))
        logins = load_demo(app, db, clock.now())
        for user in db.scalars(select(User).where(User.id.not_in(before) if before else true())):
            user.demo = True  # created by this run: a later `shopfloor demo` recognises them
    click.echo("Données de démonstration chargées. Connexions de DÉMONSTRATION (mots de passe publics, "
               "pour essayer seulement ; jamais sur un site réel) :")
    for line in logins:
        click.echo(f"  [démo] {line}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-scheduler", is_flag=True, help="Do not run scheduled jobs in this process.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, no_scheduler: bool, threads: int):
    """Serve the suite with waitress (and run the scheduled jobs)."""
    from waitress import serve as waitress_serve  # only the serving process needs it
    app = command_app()
    if not no_scheduler:
        scheduler.start(app)
    click.echo(f"Shopfloor sur http://{host}:{port}/  (Ctrl+C pour arrêter)")
    waitress_serve(app, host=host, port=port, threads=threads, ident="shopfloor")


def _site(with_key: bool = True) -> "backup_module.Site":
    """The site the environment names; a restore reads no key (it would make one in the instance)."""
    instance = config_module.instance_path()
    key = config_module.secret_key(instance) if with_key else ""
    return backup_module.Site(config_module.database_url(instance), instance, key)


@main.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path):
    """Write one archive of the site: database dump, uploads, frozen reports, secret key, checksums."""
    try:
        manifest = backup_module.backup(_site(), path, clock.now())
    except backup_module.BackupError as exc:
        click.echo(f"Sauvegarde refusée : {exc}", err=True)
        sys.exit(1)
    files = sum(1 for name in manifest["members"] if name.startswith("files/"))
    click.echo(f"Sauvegarde écrite : {path} (base {manifest['database']}, {files} fichier(s), clé secrète). "
               "Elle contient la clé et toutes les données : gardez-la à l'abri.")


@main.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the database and the files of a site that already holds data.")
def restore_command(path: Path, force: bool):
    """Restore an archive made by `shopfloor backup` into an empty database and instance folder."""
    try:
        manifest = backup_module.restore(_site(with_key=False), path, replace=force)
    except backup_module.BackupError as exc:
        click.echo(f"Restauration refusée : {exc} Rien n'a été écrit.", err=True)
        sys.exit(1)
    click.echo(f"Sauvegarde du {manifest['created_at']} restaurée ; lancez `shopfloor init` pour mettre le schéma à jour.")


@main.command("scheduler")
def scheduler_command():
    """Run the scheduled jobs in this process only (when `serve --no-scheduler` runs elsewhere)."""
    click.echo("Planificateur démarré (Ctrl+C pour arrêter).")
    scheduler.start(command_app(), blocking=True)


@main.group()
def user():
    """Manage users."""


@user.command("create")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "tutor", "apprentice"]))
@click.option("--full-name", default=None, help="Defaults to the username.")
@click.option("--tutor", default=None, help="Username of the tutor (apprentices only).")
@click.option("--certification", "certifications", multiple=True, help="LEAN, LOG, INDUS, QSE or MAINT; repeatable.")
@click.option("--cohort", default=None)
def user_create(username, password, role, full_name, tutor, certifications, cohort):
    """Create a user."""
    with transaction(command_app()) as db:
        created = create_user(db, UserInput(username=username, full_name=full_name or username, role=role,
                                            password=password, tutor=tutor, certifications=certifications,
                                            cohort=cohort), now=clock.now(), address="cli")
        click.echo(f"Utilisateur créé : {created.username} ({created.role})")


@main.group()
def token():
    """Manage API tokens."""


@token.command("create")
@click.argument("username")
def token_create(username):
    """Create an API token; it is printed alone on the last line, and only once."""
    with transaction(command_app()) as db:
        value = create_token(db, get_user(db, username), now=clock.now(), address="cli")
    click.echo(f"Jeton créé pour {username} (il ne sera plus affiché) :")
    click.echo(value)


@token.command("revoke")
@click.argument("username")
@click.option("--token", "value", default=None, help="Revoke only this token (or its first 10 characters).")
def token_revoke(username, value):
    """Revoke a user's API tokens (all of them unless --token is given)."""
    with transaction(command_app()) as db:
        count = revoke_tokens(db, get_user(db, username), clock.now(), value, address="cli")
    click.echo(f"{count} jeton(s) révoqué(s) pour {username}.")


@main.group()
def jobs():
    """Scheduled jobs."""


@jobs.command("run")
@click.option("--now", "now_text", default=None, help="ISO 8601 time to run the jobs as of (default: now).")
def jobs_run(now_text):
    """Run every scheduled job once, as if at --now."""
    try:
        now = parse_datetime(now_text, "now") if now_text else clock.now()
    except DomainError as exc:
        raise click.BadParameter(exc.message, param_hint="--now") from None
    app = command_app()
    results = scheduler.run_all(app, now)
    for result in results:
        click.echo(f"{'ok ' if result.ok else 'ERR'} {result.name}: {result.detail}")
    click.echo(f"{len(results)} tâche(s) exécutée(s) à {now.isoformat()}.")
    if not all(r.ok for r in results):
        sys.exit(1)


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
