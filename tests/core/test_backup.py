"""`shopfloor backup` then `shopfloor restore` round-trips a site with photos, on each database:
every row, every file, and the key the sessions and tokens were signed with."""
from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image
from sqlalchemy import create_engine, func, inspect, select, table

from shopfloor import create_app
from shopfloor.cli import main
from shopfloor.evidence.models import Attachment
from tests.conftest import login, pg_database

SECRET = "test-secret"


def _png(colour) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "PNG")
    return out.getvalue()


def _cli(database_url: str, instance: Path, *args: str):
    env = {"SHOPFLOOR_DATABASE_URL": database_url, "SHOPFLOOR_INSTANCE_PATH": str(instance),
           "SHOPFLOOR_SECRET_KEY": SECRET}
    return CliRunner().invoke(main, list(args), env=env)


def _rows(database_url: str) -> dict[str, int]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return {name: conn.scalar(select(func.count()).select_from(table(name)))
                    for name in inspect(conn).get_table_names()}
    finally:
        engine.dispose()


def _files(instance: Path) -> dict[str, bytes]:
    return {p.relative_to(instance).as_posix(): p.read_bytes()
            for folder in ("uploads", "reports") for p in (instance / folder).rglob("*") if p.is_file()}


@pytest.fixture
def site(app, client, people):
    """A site with an activity holding two photos, posted through the API."""
    headers = people.headers(people.apprentice)
    activity = client.post("/api/v1/activities", json={"title": "Réception du quai 2",
                                                      "performed_at": "2026-11-18T10:00:00+01:00"}, headers=headers).json
    for name, colour in (("palette.png", "red"), ("etiquette.png", "blue")):
        answer = client.post(f"/api/v1/activities/{activity['id']}/attachments", headers=headers,
                             data={"file": (io.BytesIO(_png(colour)), name)}, content_type="multipart/form-data")
        assert answer.status_code == 201, answer.json
    return Path(app.instance_path), headers, activity["id"]


@pytest.fixture
def empty_database_url(backend, tmp_path, request):
    if backend == "sqlite":
        (tmp_path / "restored").mkdir()
        yield f"sqlite:///{tmp_path / 'restored' / 'shopfloor.db'}"
        return
    with pg_database(request.getfixturevalue("postgres_server")) as url:
        yield url


def test_a_site_with_photos_round_trips(site, database_url, empty_database_url, tmp_path, backend):
    instance, headers, activity_id = site
    archive = tmp_path / "site.tar.gz"
    made = _cli(database_url, instance, "backup", str(archive))
    assert made.exit_code == 0, made.output
    assert oct(archive.stat().st_mode)[-3:] == "600"

    restored_instance = tmp_path / "restored-instance"
    done = _cli(empty_database_url, restored_instance, "restore", str(archive))
    assert done.exit_code == 0, done.output

    source_rows = _rows(database_url)
    assert source_rows["core_attachment"] == 2
    assert _rows(empty_database_url) == source_rows
    assert _files(restored_instance) == _files(instance) and len(_files(instance)) >= 2
    assert (restored_instance / "secret_key").read_text() == SECRET

    # the restored site serves the photos to the same token, and the records through its pages
    restored = create_app({"INSTANCE_PATH": str(restored_instance), "DATABASE_URL": empty_database_url,
                           "SECRET_KEY": SECRET, "TESTING": True, "WTF_CSRF_ENABLED": False})
    try:
        client = restored.test_client()
        detail = client.get(f"/api/v1/activities/{activity_id}", headers=headers)
        assert detail.status_code == 200 and len(detail.json["attachments"]) == 2
        login(client, "appr", "clef-atelier-2026")
        with restored.app_context():
            db = restored.extensions["shopfloor_sessions"].open(write=False)
            stored = [a.stored_name for a in db.scalars(select(Attachment).where(Attachment.activity_id == activity_id))]
            db.close()
        for name in stored:
            served = client.get(f"/files/{name}")
            body = served.data
            served.close()
            assert served.status_code == 200
            assert body == (instance / "uploads" / name).read_bytes()
    finally:
        restored.extensions["shopfloor_sessions"].engine.dispose()


def test_a_site_that_holds_data_is_not_overwritten_without_force(site, database_url, tmp_path):
    instance, _, _ = site
    archive = tmp_path / "site.tar.gz"
    assert _cli(database_url, instance, "backup", str(archive)).exit_code == 0
    before = _rows(database_url)
    refused = _cli(database_url, instance, "restore", str(archive))
    assert refused.exit_code == 1
    assert "Restauration refusée" in refused.output and "--force" in refused.output
    assert _rows(database_url) == before
    forced = _cli(database_url, instance, "restore", "--force", str(archive))
    assert forced.exit_code == 0, forced.output
    assert _rows(database_url) == before


def _rewrite(archive: Path, target: Path, change) -> None:
    with tarfile.open(archive, "r:gz") as source, tarfile.open(target, "w:gz") as out:
        members = {m.name: source.extractfile(m).read() for m in source.getmembers()}
        for name, data in change(members).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))


def _tampered_photo(members):
    name = next(n for n in members if n.startswith("files/uploads/"))
    return {**members, name: members[name] + b"x"}


def _escaping_member(members):
    manifest = json.loads(members["manifest.json"])
    manifest["members"]["../../evil"] = {"size": 1, "sha256": "0" * 64}
    return {**members, "manifest.json": json.dumps(manifest).encode(), "../../evil": b"x"}


@pytest.mark.parametrize(("change", "refusal"), [(_tampered_photo, "somme de contrôle"),
                                                 (_escaping_member, "élément refusé")])
def test_a_damaged_or_hostile_archive_is_refused_and_nothing_is_written(site, database_url, empty_database_url,
                                                                          tmp_path, change, refusal):
    instance, _, _ = site
    archive, bad = tmp_path / "site.tar.gz", tmp_path / "bad.tar.gz"
    assert _cli(database_url, instance, "backup", str(archive)).exit_code == 0
    _rewrite(archive, bad, change)
    target = tmp_path / "target-instance"
    refused = _cli(empty_database_url, target, "restore", str(bad))
    assert refused.exit_code == 1 and refusal in refused.output, refused.output
    assert not (target / "uploads").exists() and not (target / "secret_key").exists()
    assert not (tmp_path / "evil").exists()
    assert _rows(empty_database_url) == {}


def test_an_existing_archive_is_never_overwritten(site, database_url, tmp_path):
    instance, _, _ = site
    archive = tmp_path / "site.tar.gz"
    archive.write_bytes(b"keep me")
    refused = _cli(database_url, instance, "backup", str(archive))
    assert refused.exit_code == 1 and "existe déjà" in refused.output
    assert archive.read_bytes() == b"keep me"
