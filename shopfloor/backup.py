"""One archive for a whole site: a consistent database dump, the uploaded files and frozen reports,
the secret key, with a manifest of checksums; and its restore into an empty instance.

The archive is a gzip'd tar:
- `manifest.json`: format, when, the database kind, and the size and SHA-256 of every other member;
- `database.sqlite3` (SQLite's online backup API: consistent while the suite runs) or
  `database.pgdump` (`pg_dump --format=custom`, one snapshot);
- `secret_key`: the key sessions and tokens were signed with;
- `files/uploads/…`, `files/reports/…`: the instance's uploads (photos, documents) and frozen reports.

A restore checks every checksum before it writes anything, refuses members outside those names, and
refuses a database or an instance that already holds a site unless told to replace it."""
from __future__ import annotations

import glob
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

FORMAT = "shopfloor-backup/1"
FILE_FOLDERS = ("uploads", "reports")   # what the instance holds besides the database and the key
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}


class BackupError(Exception):
    """The backup or the restore cannot be done; the message says why (nothing was written)."""


@dataclass(frozen=True)
class Site:
    """Where a site lives: its database URL, its instance folder, its secret key."""

    database_url: str
    instance: Path
    secret_key: str

    @property
    def kind(self) -> str:
        return make_url(self.database_url).get_backend_name()


# -- Backup ------------------------------------------------------------------------------

def backup(site: Site, target: Path, now: datetime) -> dict:
    """Write the archive at `target` (refused if it exists); answers the manifest."""
    if target.exists():
        raise BackupError(f"{target} existe déjà : choisissez un autre nom de fichier.")
    with tempfile.TemporaryDirectory(prefix="shopfloor-backup-") as work:
        dump = Path(work) / DATABASE_MEMBERS[site.kind]
        _dump_database(site, dump)
        members = {dump.name: dump}
        key = Path(work) / "secret_key"
        key.write_text(site.secret_key)
        members["secret_key"] = key
        for folder in FILE_FOLDERS:
            root = site.instance / folder
            for path in sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else ():
                members[f"files/{folder}/{path.relative_to(root).as_posix()}"] = path
        manifest = {"format": FORMAT, "created_at": now.isoformat(), "database": site.kind,
                    "members": {name: {"size": path.stat().st_size, "sha256": _sha256(path)}
                                for name, path in members.items()}}
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            _add_bytes(archive, "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False).encode())
            for name, path in members.items():
                archive.add(path, arcname=name, recursive=False)
        partial.chmod(0o600)   # it holds the secret key and everyone's records
        partial.rename(target)
    return manifest


def _dump_database(site: Site, dump: Path) -> None:
    if site.kind == "sqlite":
        source = sqlite3.connect(_sqlite_path(site.database_url))   # a plain path: no URI quoting of ?, # or %
        copy = sqlite3.connect(dump)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        return
    url, env = _libpq(site.database_url)
    _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={dump}", url], env)


# -- Restore -----------------------------------------------------------------------------

def restore(site: Site, archive_path: Path, replace: bool = False) -> dict:
    """Restore the archive into `site` (its database and instance folder); answers the manifest."""
    with tempfile.TemporaryDirectory(prefix="shopfloor-restore-") as work:
        manifest, files = _unpack(archive_path, Path(work))
        if manifest["database"] != site.kind:
            raise BackupError(f"Cette sauvegarde vient d'une base {manifest['database']} : restaurez-la dans une "
                              f"base du même type (SHOPFLOOR_DATABASE_URL désigne une base {site.kind}).")
        if not replace:
            _refuse_an_existing_site(site)
        _restore_database(site, files[DATABASE_MEMBERS[site.kind]], replace)
        site.instance.mkdir(parents=True, exist_ok=True)
        for folder in FILE_FOLDERS:
            if replace:
                shutil.rmtree(site.instance / folder, ignore_errors=True)
        for name, path in files.items():
            if name.startswith("files/"):
                destination = site.instance / PurePosixPath(name).relative_to("files")
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, destination)
        key = site.instance / "secret_key"
        key.write_text(files["secret_key"].read_text())
        key.chmod(0o600)
    return manifest


def _unpack(archive_path: Path, work: Path) -> tuple[dict, dict[str, Path]]:
    """The manifest and the members, extracted into `work` after every check passed."""
    try:
        archive = tarfile.open(archive_path, "r:gz")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{archive_path} n'est pas une sauvegarde Shopfloor lisible ({exc}).") from None
    with archive:
        try:
            manifest = json.load(archive.extractfile("manifest.json"))
        except (KeyError, ValueError, AttributeError):
            raise BackupError(f"{archive_path} n'a pas de manifeste lisible : ce n'est pas une sauvegarde Shopfloor.") from None
        if manifest.get("format") != FORMAT or manifest.get("database") not in DATABASE_MEMBERS:
            raise BackupError(f"{archive_path} : format de sauvegarde inconnu ({manifest.get('format')}).")
        expected = manifest.get("members", {})
        names = {m.name for m in archive.getmembers()} - {"manifest.json"}
        if names != set(expected):
            raise BackupError("La sauvegarde ne correspond pas à son manifeste (fichiers en trop ou manquants).")
        files: dict[str, Path] = {}
        for member in archive.getmembers():
            if member.name == "manifest.json":
                continue
            if not _allowed(member):
                raise BackupError(f"La sauvegarde contient un élément refusé : {member.name}")
            path = work / f"member-{len(files)}"
            with archive.extractfile(member) as source, open(path, "wb") as out:
                shutil.copyfileobj(source, out)
            if _sha256(path) != expected[member.name]["sha256"]:
                raise BackupError(f"La somme de contrôle de {member.name} ne correspond pas : sauvegarde abîmée.")
            files[member.name] = path
    for needed in (DATABASE_MEMBERS[manifest["database"]], "secret_key"):
        if needed not in files:
            raise BackupError(f"La sauvegarde n'a pas de {needed}.")
    return manifest, files


def _allowed(member: tarfile.TarInfo) -> bool:
    """A regular file named as backup() names them: no absolute path, no '..', no link."""
    path = PurePosixPath(member.name)
    if not member.isfile() or path.is_absolute() or ".." in path.parts:
        return False
    return (member.name in ("secret_key", *DATABASE_MEMBERS.values())
            or (len(path.parts) >= 3 and path.parts[0] == "files" and path.parts[1] in FILE_FOLDERS))


def _refuse_an_existing_site(site: Site) -> None:
    if _has_tables(site.database_url):
        raise BackupError("La base de destination contient déjà des tables : restaurez dans une base vide, "
                          "ou ajoutez --force pour la remplacer entièrement.")
    held = [folder for folder in FILE_FOLDERS if (site.instance / folder).is_dir() and any((site.instance / folder).iterdir())]
    if held:
        raise BackupError(f"Le dossier d'instance {site.instance} contient déjà des fichiers ({', '.join(held)}) : "
                          "restaurez dans un dossier vide, ou ajoutez --force pour les remplacer.")


def _has_tables(database_url: str) -> bool:
    if make_url(database_url).get_backend_name() == "sqlite" and not Path(_sqlite_path(database_url)).exists():
        return False
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return bool(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def _restore_database(site: Site, dump: Path, replace: bool) -> None:
    if site.kind == "sqlite":
        target = Path(_sqlite_path(site.database_url))
        target.parent.mkdir(parents=True, exist_ok=True)
        source, copy = sqlite3.connect(dump), sqlite3.connect(target)
        try:
            source.backup(copy)   # replaces every page of the target, its WAL included
        finally:
            copy.close()
            source.close()
        return
    if replace:
        engine = create_engine(site.database_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        finally:
            engine.dispose()
    url, env = _libpq(site.database_url)
    _run([_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
          f"--dbname={url}", str(dump)], env)


# -- Helpers -----------------------------------------------------------------------------

def _sqlite_path(database_url: str) -> str:
    return make_url(database_url).database


def _libpq(database_url: str) -> tuple[str, dict]:
    """The URL pg_dump understands, with the password passed in the environment, not the command line."""
    url = make_url(database_url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _pg_tool(name: str) -> str:
    """The newest installed pg_dump / pg_restore (a client at least as new as the server)."""
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    found = candidates[-1] if candidates else shutil.which(name)
    if not found:
        raise BackupError(f"{name} est introuvable : installez le client PostgreSQL (paquet postgresql-client).")
    return found


def _run(command: list[str], env: dict) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} a échoué : {done.stderr.strip()[-500:]}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))
