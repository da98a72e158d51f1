"""Import of items and locations from CSV or XLSX: all lines or none, with a line-by-line report."""
import io
from decimal import Decimal

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from sqlalchemy import create_engine, func, select

from shopfloor.cli import main
from shopfloor.errors import ValidationError
from modules.stock import importer, inputs
from modules.stock.models import Item, Location

ITEMS_CSV = """sku;name;unit;category;strategy;lot_tracked;shelf_life_days;removal_margin_days;unit_weight_kg;supplier
COL-EPX-250;Colle époxy 250 ml;u;consommable;fefo;oui;365;30;0,30;Colles Durand
VIS-M8-25;Vis CHC M8x25;boîte;composant;fifo;non;;;0,8;
"""
BAD_ITEMS_CSV = """sku,name,strategy,shelf_life_days
COL-EPX-250,Colle époxy 250 ml,fefo,365
VIS-M8-25,Vis CHC M8x25,premier arrivé,
,Sans référence,fifo,
"""


def _count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_a_good_csv_imports_every_line(db, store):
    before = _count(db, Item)
    report = importer.import_rows(db, "items", inputs.read_table("articles.csv", ITEMS_CSV.encode()))
    assert report.ok and (report.created, report.updated) == (2, 0)
    glue = db.scalar(select(Item).where(Item.sku == "COL-EPX-250"))
    assert glue.strategy == "fefo" and glue.lot_tracked and glue.shelf_life_days == 365
    assert glue.supplier.name == "Colles Durand" and glue.unit_weight_kg == Decimal("0.3")
    assert _count(db, Item) == before + 2


def test_importing_again_updates_instead_of_duplicating(db, store):
    importer.import_rows(db, "items", inputs.read_table("a.csv", ITEMS_CSV.encode()))
    report = importer.import_rows(db, "items", inputs.read_table(
        "a.csv", ITEMS_CSV.replace("Vis CHC M8x25", "Vis CHC M8x25 zinguée").encode()))
    assert (report.created, report.updated) == (0, 2)
    assert db.scalar(select(Item.name).where(Item.sku == "VIS-M8-25")) == "Vis CHC M8x25 zinguée"


def test_one_bad_line_imports_nothing_and_reports_each_line_and_field(db, store):
    before = _count(db, Item)
    report = importer.import_rows(db, "items", inputs.read_table("a.csv", BAD_ITEMS_CSV.encode()))
    assert not report.ok and report.created == 0
    assert [(line, field) for line, field, _ in report.errors] == [(3, "strategy"), (4, "sku")]
    assert _count(db, Item) == before
    assert db.scalar(select(Item.id).where(Item.sku == "COL-EPX-250")) is None  # the good line 2 neither


def test_duplicate_codes_and_unknown_columns_are_reported(db, store):
    rows = inputs.read_table("l.csv", b"code,kind\nC-01-01-1,storage\nc-01-01-1,storage\n")
    assert importer.import_rows(db, "locations", rows).errors == [(3, "code", "C-01-01-1 figure déjà ligne 2.")]
    report = importer.import_rows(db, "items", inputs.read_table("i.csv", b"sku,name,colour\nX,Y,rouge\n"))
    assert report.errors[0][:2] == (1, "colour")


def test_xlsx_written_with_openpyxl_is_read_back(db, store):
    book = Workbook()
    sheet = book.active
    sheet.append(["code", "kind", "max_weight_kg", "hazardous_ok", "temp_min", "temp_max", "categories"])
    sheet.append(["C-01-01-1", "storage", 250, "oui", None, None, "composant,consommable"])
    sheet.append(["C-01-01-2", "storage", 120.5, "non", 2, 8, ""])
    sheet.append([None, None, None, None, None, None, None])  # Excel leaves blank rows behind
    sheet.append(["QUAR-09", "quarantine", None, None, None, None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    rows = inputs.read_table("emplacements.XLSX", buffer.getvalue())
    assert [r["code"] for r in rows] == ["C-01-01-1", "C-01-01-2", "QUAR-09"]
    report = importer.import_rows(db, "locations", rows)
    assert report.ok and report.created == 3
    cold = db.scalar(select(Location).where(Location.code == "C-01-01-2"))
    assert (cold.zone, cold.aisle, cold.rack, cold.level) == ("C", "01", "01", "2")
    assert float(cold.max_weight_kg) == 120.5 and float(cold.temp_max) == 8
    rack = db.scalar(select(Location).where(Location.code == "C-01-01-1"))
    assert rack.hazardous_ok and rack.categories == "composant,consommable"


def test_a_damaged_file_or_an_unknown_format_is_refused(db, store):
    with pytest.raises(ValidationError) as bad_xlsx:
        inputs.read_table("a.xlsx", b"not a zip")
    with pytest.raises(ValidationError) as bad_name:
        inputs.read_table("a.pdf", b"%PDF")
    assert bad_xlsx.value.field == bad_name.value.field == "file"


def test_import_refuses_changing_the_kind_of_a_location_holding_stock(db, store):
    store.receive("VIS-M8", "40", location="A-01-02-1")
    rows = inputs.read_table("l.csv", b"code,kind\nB-02-01-1,quarantine\nA-01-02-1,quarantine\n")
    report = importer.import_rows(db, "locations", rows)
    assert report.errors == [(3, "kind", "L'emplacement A-01-02-1 contient du stock : videz-le avant de changer "
                                         "sa nature.")]
    db.rollback()
    kinds = dict(db.execute(select(Location.code, Location.kind).where(Location.code.in_(["A-01-02-1", "B-02-01-1"]))).all())
    assert kinds == {"A-01-02-1": "storage", "B-02-01-1": "storage"}  # the empty one was not changed either
    # the empty location may change kind
    assert importer.import_rows(db, "locations", [{"code": "B-02-01-1", "kind": "quarantine"}]).ok
    assert db.scalar(select(Location.kind).where(Location.code == "B-02-01-1")) == "quarantine"


# -- The command line -----------------------------------------------------------------------

@pytest.fixture
def run(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPFLOOR_DATABASE_URL", database_url)
    monkeypatch.setenv("SHOPFLOOR_INSTANCE_PATH", str(tmp_path / "instance"))
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)
    return invoke


def _skus(url) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        skus = set(conn.scalars(select(Item.sku)))
    engine.dispose()
    return skus


def test_cli_imports_a_good_file_and_exits_0(run, database_url, tmp_path):
    good = tmp_path / "articles.csv"
    good.write_text(ITEMS_CSV.replace(";Colles Durand", ";"), encoding="utf-8")
    result = run("stock", "import", "items", str(good))
    assert result.exit_code == 0, result.output
    assert "2 créé(s)" in result.output
    assert _skus(database_url) == {"COL-EPX-250", "VIS-M8-25"}


def test_cli_reports_a_bad_file_line_by_line_and_exits_1(run, database_url, tmp_path):
    bad = tmp_path / "articles.csv"
    bad.write_text(BAD_ITEMS_CSV, encoding="utf-8")
    result = run("stock", "import", "items", str(bad))
    assert result.exit_code == 1
    assert "ligne 3 [strategy]" in result.output and "ligne 4 [sku]" in result.output
    assert "Rien n'a été importé : 2 erreur(s)." in result.output
    assert _skus(database_url) == set()


def test_cli_imports_locations_from_xlsx(run, database_url, tmp_path):
    book = Workbook()
    book.active.append(["code", "kind"])
    book.active.append(["D-01-01-1", "storage"])
    book.active.append(["L9", "line"])
    path = tmp_path / "emplacements.xlsx"
    book.save(path)
    result = run("stock", "import", "locations", str(path))
    assert result.exit_code == 0, result.output
    engine = create_engine(database_url)
    with engine.connect() as conn:
        assert dict(conn.execute(select(Location.code, Location.kind)).all()) == {"D-01-01-1": "storage", "L9": "line"}
    engine.dispose()
