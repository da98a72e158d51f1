"""Hostile input never gets a 500: every refusal is a 4xx naming the field, and nothing is written.

Through HTTP on both databases: integers beyond 64 bits in path ids, pages, offsets and bodies;
dates in year 0001; NUL bytes and lone surrogates; quantities finer than their column or above
what the item's unit allows; an image bomb. Then the backstop at flush, which holds whatever
path a value takes to the database."""
from __future__ import annotations

import json
import struct
import subprocess
import sys
import textwrap
import zlib
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, Numeric, String, func, select

from dashboards.models import IndicatorDefinition
from modules.qse.models import Audit, NonConformity
from modules.stock import inputs as stock_inputs, masterdata
from modules.stock.models import Item, Move, Reception, ReceptionLine, Supplier
from shopfloor import bounds
from shopfloor.errors import ValidationError
from shopfloor.evidence.models import Activity, Attachment
from tests.conftest import fresh, login

BIG = 2 ** 63
NC = {"title": "Colle époxy : viscosité hors tolérance", "source": "production", "severity": "major",
      "description": "Lot trop visqueux."}


def _count(db, model) -> int:
    fresh(db)
    return db.scalar(select(func.count()).select_from(model))


def _refused(answer, field: str, statuses=(400, 422)) -> None:
    assert answer.status_code in statuses, (answer.status_code, answer.get_data(as_text=True)[:300])
    assert answer.json["error"]["field"] == field, answer.json


def _raw(client, path: str, text: str, headers: dict):
    """POST a JSON body as typed, so escapes like \\ud800 reach the server's JSON parser."""
    return client.post(path, data=text.encode("ascii"), headers={**headers, "Content-Type": "application/json"})


def bomb_png(width: int, height: int) -> bytes:
    """A valid greyscale PNG of width × height black pixels, built row by row (never in memory)."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
    packer, row, parts = zlib.compressobj(9), b"\x00" * (width + 1), []
    for _ in range(height):
        parts.append(packer.compress(row))
    parts.append(packer.flush())
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b""))


# -- path ids ----------------------------------------------------------------------------

def test_every_int_path_id_beyond_64_bits_is_a_404(app, client, people):
    headers = people.headers(people.admin)
    login(client, "admin", "clef-direction-2026")
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not any(type(c).__name__ == "Int64Converter"
                                                 for c in rule._converters.values()):
            continue
        if any(type(c).__name__ != "Int64Converter" for c in rule._converters.values()):
            continue
        for number in (2 ** 31, BIG, 10 ** 40):
            path = rule.rule
            for name in rule.arguments:
                path = path.replace(f"<int:{name}>", str(number))
            answer = client.get(path, headers=headers if path.startswith("/api/") else {})
            assert answer.status_code == 404, (path, answer.status_code)
        checked += 1
    assert checked > 50
    # the largest id a column holds names nothing: a 404 from the database, not an overflow
    assert client.get(f"/api/v1/qse/nonconformities/{2 ** 31 - 1}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/activities/{2 ** 31 - 1}", headers=headers).status_code == 404


# -- pages, offsets and ids in query strings and bodies ------------------------------------

def test_pages_offsets_and_body_ids_beyond_64_bits(client, people, db):
    headers = people.headers(people.admin)
    _refused(client.get(f"/api/v1/qse/nonconformities?page={BIG}", headers=headers), "page")
    _refused(client.get("/api/v1/qse/nonconformities?page=99999999999", headers=headers), "page")
    _refused(client.get(f"/api/v1/qse/risks?page={BIG}", headers=headers), "page")
    _refused(client.get(f"/api/v1/improvement/actions?offset={BIG}", headers=headers), "offset")
    _refused(client.get(f"/api/v1/maintenance/work-orders?offset={BIG}", headers=headers), "offset")
    _refused(client.get(f"/api/v1/maintenance/work-orders?limit={BIG}", headers=headers), "limit")
    assert client.get(f"/api/v1/maintenance/work-orders?offset={BIG - 1}", headers=headers).status_code == 200

    before = _count(db, NonConformity)
    _refused(client.post("/api/v1/qse/nonconformities", json={**NC, "reception_id": BIG}, headers=headers),
             "reception_id")
    _refused(client.post("/api/v1/indicators", json={"label": "Rebuts", "letter": "Q", "higher_is_better": False,
                                                      "team": BIG}, headers=headers), "team")
    _refused(client.post("/api/v1/indicators", json={"label": "Rebuts", "letter": "Q", "higher_is_better": False,
                                                      "team": str(BIG)}, headers=headers), "team")
    apprentice = people.headers(people.apprentice)
    _refused(client.post("/api/v1/evidence", json={"activity_id": BIG, "competence": "LOG-2"}, headers=apprentice),
             "activity_id")
    _refused(client.post("/api/v1/evidence", json={"activity_id": 10 ** 400, "competence": "LOG-2"},
                         headers=apprentice), "activity_id")
    assert _count(db, NonConformity) == before
    assert _count(db, IndicatorDefinition) == 0


def test_pages_with_hostile_query_strings(client, people):
    login(client, "appr", "clef-atelier-2026")
    assert client.get(f"/activities?page={BIG}").status_code == 422
    assert client.get(f"/qse/nonconformities?page={BIG}").status_code in (302, 422)  # flashed, back to page 1
    assert client.get(f"/stock/items?page={BIG}").status_code in (404, 422)
    assert client.get("/activities?page=2").status_code == 200


# -- dates ---------------------------------------------------------------------------------

def test_dates_outside_1900_2200_are_refused(client, people, db):
    headers = people.headers(people.apprentice)
    _refused(client.post("/api/v1/activities", json={"title": "Réception", "performed_at": "0001-01-01T00:00:00"},
                         headers=headers), "performed_at")
    _refused(client.post("/api/v1/activities", json={"title": "Réception", "performed_at": "9999-12-31T23:59:59Z"},
                         headers=headers), "performed_at")
    _refused(client.post("/api/v1/qse/nonconformities", json={**NC, "detected_at": "0001-01-01T00:00"},
                         headers=headers), "detected_at")
    _refused(client.post("/api/v1/qse/audits", json={"process": "Réception", "audit_date": "0001-01-01"},
                         headers=headers), "audit_date")
    assert _count(db, Activity) == 0


# -- text ------------------------------------------------------------------------------------

def test_nul_bytes_and_lone_surrogates_are_refused(client, people, db):
    headers = people.headers(people.apprentice)
    body = json.dumps({**NC, "title": "x"})
    _refused(_raw(client, "/api/v1/qse/nonconformities", body.replace('"x"', '"a\\ud800b"'), headers), "title", (400,))
    _refused(_raw(client, "/api/v1/qse/nonconformities", body.replace('"x"', '"a\\u0000b"'), headers), "title", (400,))
    _refused(_raw(client, "/api/v1/activities", '{"title": "ok", "performed_at": "2026-11-20T09:00", '
                                                '"\\udfff": 1}', headers), "\ufffd", (400,))
    _refused(_raw(client, "/api/v1/qse/audits", '{"process": "R", "questions": ["ok", "\\ud83d"]}', headers),
             "questions[1]", (400,))
    _refused(client.get("/api/v1/qse/nonconformities?q=a%00b", headers=headers), "q", (400,))
    _refused(client.get("/api/v1/maintenance/equipment/PR%00SSE", headers=headers), "code", (400,))
    assert client.post("/login", data={"username": "appr\x00", "password": "x"}).status_code == 400
    assert _count(db, NonConformity) == 0 and _count(db, Activity) == 0 and _count(db, Audit) == 0
    # a valid astral character (an emoji as a surrogate pair) is text like any other
    good = _raw(client, "/api/v1/qse/nonconformities", body.replace('"x"', '"colle \\ud83d\\ude00"'), headers)
    assert good.status_code == 201, good.json


def test_audit_standards_must_be_names(client, people, db):
    headers = people.headers(people.apprentice)
    _refused(client.post("/api/v1/qse/audits", json={"process": "Réception", "standards": [{}]}, headers=headers),
             "standards")
    _refused(client.post("/api/v1/qse/audits", json={"process": "Réception", "standards": [["iso9001"]]},
                         headers=headers), "standards")
    _refused(client.post("/api/v1/qse/audits", json={"process": "Réception", "duration_hours": "1e400"},
                         headers=headers), "duration_hours")
    assert _count(db, Audit) == 0


# -- quantities ------------------------------------------------------------------------------

@pytest.fixture
def supplier(db):
    masterdata.create_location(db, stock_inputs.location({"code": "QUAI-01", "kind": "reception"}))
    masterdata.create_supplier(db, stock_inputs.supplier({"name": "Colles Durand", "lead_time_days": 5}))
    masterdata.create_item(db, stock_inputs.item({"sku": "COL-100", "name": "Colle époxy", "unit": "u"}))
    masterdata.create_item(db, stock_inputs.item({"sku": "GRA-G", "name": "Graisse au gramme", "unit": "g"}))
    db.commit()
    return db.scalar(select(Supplier))


def _reception(sku: str, qty, **extra) -> dict:
    return {"supplier": "Colles Durand", "delivery_note": f"BL-{sku}-{qty}",
            "lines": [{"sku": sku, "qty": qty, "location": "QUAI-01", **extra}]}


def test_quantities_fit_their_column_and_their_unit(client, people, db, supplier):
    headers = people.headers(people.apprentice)
    _refused(client.post("/api/v1/stock/receptions", json=_reception("COL-100", "1.0001"), headers=headers),
             "lines[0].qty")
    _refused(client.post("/api/v1/stock/receptions", json=_reception("COL-100", 1e9), headers=headers),
             "lines[0].qty")
    _refused(client.post("/api/v1/stock/receptions", json=_reception("COL-100", 1_000_001), headers=headers),
             "lines[0].qty")
    _refused(client.post("/api/v1/stock/receptions", json=_reception("COL-100", str(BIG)), headers=headers),
             "lines[0].qty")
    _refused(client.post("/api/v1/stock/receptions", json=_reception("COL-100", "1e999999999"), headers=headers),
             "lines[0].qty")
    _refused(client.post("/api/v1/stock/receptions", json=_reception("COL-100", 5, note_qty="0.00001"),
                         headers=headers), "lines[0].note_qty")
    _refused(client.post("/api/v1/qse/nonconformities", json={**NC, "quantity": "2.0005"}, headers=headers),
             "quantity")
    _refused(client.post("/api/v1/qse/nonconformities", json={**NC, "cost": 1e13}, headers=headers), "cost")
    _refused(client.post("/api/v1/qse/nonconformities", json={**NC, "cost": "0.001"}, headers=headers), "cost")
    assert _count(db, Reception) == 0 and _count(db, ReceptionLine) == 0 and _count(db, Move) == 0
    assert _count(db, NonConformity) == 0
    # the unit allows it: two million grams of grease is a plausible delivery
    ok = client.post("/api/v1/stock/receptions", json=_reception("GRA-G", 2_000_000), headers=headers)
    assert ok.status_code == 201, ok.json
    fresh(db)
    assert db.scalar(select(Move.qty)) == Decimal(2_000_000)


# -- images ----------------------------------------------------------------------------------

def _activity(client, headers) -> int:
    answer = client.post("/api/v1/activities", json={"title": "Réception", "performed_at": "2026-11-20T09:00"},
                         headers=headers)
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


def _upload(client, activity_id, headers, data: bytes, name: str):
    import io
    return client.post(f"/api/v1/activities/{activity_id}/attachments", headers=headers,
                       data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_an_image_bomb_is_refused_before_it_is_decoded(app, client, people, db):
    from PIL import Image
    headers = people.headers(people.apprentice)
    activity_id = _activity(client, headers)
    bomb = bomb_png(12000, 12000)
    assert len(bomb) < 1024 * 1024
    _refused(_upload(client, activity_id, headers, bomb, "plan.png"), "file", (413,))

    import io
    frames = [Image.new("L", (10, 10)) for _ in range(320)]
    for index, frame in enumerate(frames):  # each frame differs from the last, so none is merged
        frame.putpixel((index % 10, index // 10 % 10), 255)
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=10)
    _refused(_upload(client, activity_id, headers, out.getvalue(), "anim.gif"), "file", (413,))

    assert _count(db, Attachment) == 0
    upload_dir = Path(app.instance_path) / "uploads"
    assert not upload_dir.exists() or not any(upload_dir.rglob("*.*"))

    photo = io.BytesIO()
    Image.new("RGB", (4000, 3000), (120, 80, 40)).save(photo, "JPEG")
    assert _upload(client, activity_id, headers, photo.getvalue(), "photo.jpg").status_code == 201
    assert _count(db, Attachment) == 1


def test_memory_stays_flat_when_a_bomb_is_uploaded(tmp_path):
    """Peak memory (ru_maxrss) of a process thumbnailing the bomb, against its baseline: printed,
    and far below the 430 MB that decoding 12000 × 12000 pixels would take."""
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(bomb_png(12000, 12000))
    script = textwrap.dedent(f"""
        import resource, sys
        from shopfloor.errors import DomainError
        from shopfloor.evidence import services
        data = open({str(bomb)!r}, "rb").read()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for _ in range(3):
            try:
                services._thumbnail(data)
            except DomainError as exc:
                status = exc.status
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(before, after, status)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr
    before, after, status = (int(x) for x in result.stdout.split())
    print(f"\nru_maxrss thumbnailing a 12000x12000 PNG 3 times: {before / 1024:.0f} MB before, "
          f"{after / 1024:.0f} MB after (+{(after - before) / 1024:.1f} MB), answer {status}")
    assert status == 413
    assert after - before < 50 * 1024  # KB: decoding it would take 144 MB at the very least


# -- the backstop at flush ---------------------------------------------------------------------

def test_the_flush_backstop_names_the_field_on_both_databases(db, supplier):
    item = db.scalar(select(Item).where(Item.sku == "COL-100"))
    for attribute, value, field in [("shelf_life_days", 2 ** 31, "shelf_life_days"),
                                    ("name", "x" * 201, "name"), ("name", "a\x00b", "name"),
                                    ("name", "a\udc00b", "name"), ("unit_cost", Decimal(10) ** 10, "unit_cost"),
                                    ("unit_cost", Decimal("NaN"), "unit_cost")]:
        setattr(item, attribute, value)
        with pytest.raises(ValidationError) as refused:
            db.flush()
        assert refused.value.field == field, (attribute, value)
        db.rollback()
    # finer decimals are rounded to the column's scale, half away from zero, as PostgreSQL does
    item = db.scalar(select(Item).where(Item.sku == "COL-100"))
    item.unit_cost = Decimal("2.00005")
    item.shelf_life_days = 2 ** 31 - 1
    db.commit()
    fresh(db)
    stored = db.scalar(select(Item).where(Item.sku == "COL-100"))
    assert stored.unit_cost == Decimal("2.0001") and stored.shelf_life_days == 2 ** 31 - 1


def test_the_backstop_checks_dates_and_json_and_uses_the_column_label(db, people):
    from shopfloor.evidence.models import Activity as ActivityModel
    activity = ActivityModel(author_id=people.apprentice.id, title="Réception",
                             performed_at=datetime(1, 1, 1, tzinfo=timezone.utc))
    db.add(activity)
    with pytest.raises(ValidationError) as refused:
        db.flush()
    assert refused.value.field == "performed_at"
    db.rollback()
    labelled = Column("qty", Numeric(6, 2), info={"label": "Quantité reçue"})
    with pytest.raises(ValidationError, match="Quantité reçue"):
        bounds.check_value(None, labelled, "qty", Decimal("12345"))
    with pytest.raises(ValidationError, match="« code »"):
        bounds.check_value(None, Column("code", String(4)), "code", "ABCDE")
    with pytest.raises(ValidationError):
        bounds.check_value(None, Column("n", Integer), "n", -2 ** 31 - 1)
    bounds.check_value(None, Column("n", Integer), "n", -2 ** 31)
    bounds.check_value(None, Column("d", String(10)), "d", date(1900, 1, 1).isoformat())


# -- the one error handler ---------------------------------------------------------------------

def test_a_database_overflow_the_backstop_missed_is_a_422_never_a_500(own_app, people, db):
    from sqlalchemy import text

    from shopfloor.db import session

    @own_app.post("/api/v1/_overflow")
    def _overflow():
        session().execute(text("SELECT CAST(:n AS INTEGER)"), {"n": BIG * BIG})  # overflows either driver
        return {"reached": True}

    answer = own_app.test_client().post("/api/v1/_overflow", json={})
    assert answer.status_code == 422, answer.get_data(as_text=True)[:300]
    assert answer.json["error"]["code"] == "invalid"


# -- meaningful ranges of a manual AIC indicator --------------------------------------------------

def test_manual_indicator_values_keep_to_their_unit(db, people, now):
    from dashboards import inputs, services as boards
    from dashboards.models import DailyValue
    today = date(2026, 11, 20)
    errors = boards.define_indicator(db, people.tutor, label="Erreurs de picking", letter="Q", unit="erreurs",
                                     higher_is_better=False, team_id=None)
    share = boards.define_indicator(db, people.tutor, label="Tri des déchets", letter="C", unit="%",
                                    higher_is_better=True, team_id=None)
    board = boards.create_board(db, people.tutor, inputs.new_board({"name": "Atelier", "level": 2, "rows": [
        {"letter": "Q", "indicator": errors.key, "target": 0, "threshold": 2},
        {"letter": "C", "indicator": share.key, "target": 90, "threshold": 80}]}), today)
    db.commit()
    for key, value in [(errors.key, "2.5"), (errors.key, -1), (share.key, "100.5"), (share.key, -3),
                       (errors.key, "1e400")]:
        with pytest.raises(ValidationError) as refused:
            boards.record_entry(db, people.tutor, board, inputs.entry({"indicator": key, "date": today, "value": value}),
                                today)
        assert refused.value.field == "value", (key, value)
    db.rollback()
    assert _count(db, DailyValue) == 0
    boards.record_entry(db, people.tutor, board, inputs.entry({"indicator": errors.key, "date": today, "value": 3}),
                        today)
    boards.record_entry(db, people.tutor, board, inputs.entry({"indicator": share.key, "date": today, "value": "97,5"}),
                        today)
    db.commit()
    assert _count(db, DailyValue) == 2
