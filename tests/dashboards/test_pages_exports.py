"""Board pages, the month as XLSX (opened back) and as a printable page."""
import io
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import func, select

from dashboards import inputs, services
from dashboards.models import Board, DailyValue
from tests.conftest import fresh, login
from tests.dashboards.conftest import TODAY


def _fill(db, people, board):
    for n, (safety, mood) in enumerate([(0, 4), (1, 3), (2, 5)]):
        day = TODAY - timedelta(days=n)
        services.record_entry(db, people.tutor, board,
                              inputs.entry({"indicator": "aic.safety", "date": day, "value": safety}), TODAY)
        services.record_entry(db, people.tutor, board,
                              inputs.entry({"indicator": "aic.mood", "date": day, "value": mood}), TODAY)
    db.commit()


def test_month_xlsx(client, db, people, org):
    board = org.board(people.tutor)
    _fill(db, people, board)
    login(client, "appr", "clef-atelier-2026")
    response = client.get(f"/boards/{board.id}/export.xlsx?month=2026-11")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data))
    sheet = book["Indicateurs"]
    assert sheet["A2"].value == "Lettre" and sheet.cell(row=2, column=6 + 29).value == 30   # 30 days in November
    safety = [c.value for c in sheet[3]]
    assert safety[:5] == ["S", "Sécurité : événement du jour", None, 0, 1]
    assert safety[5 + 17:5 + 20] == [2, 1, 0]          # the 18th, 19th, 20th
    assert sheet.cell(row=3, column=5 + 18).fill.fgColor.rgb.endswith("FFA8A8")  # accident: red
    assert sheet.cell(row=3, column=5 + 20).fill.fgColor.rgb.endswith("B2F2BB")  # no event: green
    assert "Problèmes" in book.sheetnames
    assert client.get(f"/boards/{board.id}/export.xlsx?month=2026-12").status_code == 422
    assert client.get(f"/boards/{board.id}/export.xlsx?month=nov").status_code == 422


def test_board_page_print_trends_and_entry_form(client, db, people, org):
    board = org.board(people.tutor)
    _fill(db, people, board)
    login(client, "appr", "clef-atelier-2026")
    page = client.get(f"/boards/{board.id}").get_data(as_text=True)
    assert "Croix de sécurité" in page and "aic-cell-red" in page and "Le mois par lettre" in page
    assert client.get(f"/boards/{board.id}?date=2026-11-18").status_code == 200
    assert client.get(f"/boards/{board.id}?date=2026-12-01").status_code == 422
    printable = client.get(f"/boards/{board.id}/print?month=2026-11").get_data(as_text=True)
    assert "@page" not in printable and "Problèmes soulevés" in printable
    assert client.get(f"/boards/{board.id}/trends?days=365").status_code == 200
    response = client.post(f"/boards/{board.id}/entries", data={"indicator": "aic.mood", "date": "2026-11-20",
                                                                "value": "9"})
    assert response.status_code == 422 and "Humeur" in response.get_data(as_text=True)
    response = client.post(f"/boards/{board.id}/entries", data={"indicator": "aic.mood", "date": "2026-11-20",
                                                                "value": "5"})
    assert response.status_code == 302
    fresh(db)
    assert db.scalar(select(DailyValue.value).where(DailyValue.day == TODAY, DailyValue.indicator_key == "aic.mood")) == 5


def test_board_form(client, db, people, org):
    login(client, "tutor", "clef-formateur-2026")
    data = {"name": "Maintenance AIC", "level": "1", "team": str(org.maintenance.id),
            "letter_0": "S", "indicator_0": "aic.safety", "target_0": "0", "threshold_0": "1",
            "letter_1": "D", "indicator_1": "improvement.late_actions", "target_1": "0", "threshold_1": "2"}
    bad = client.post("/boards/new", data=data | {"threshold_1": "-1"})
    assert bad.status_code == 422 and "seuil" in bad.get_data(as_text=True)
    # the field is named as the page labels it, not by its machine name rows[1].threshold
    page = bad.get_data(as_text=True)
    assert "« Seuil d&#39;alerte (ligne 2) »" in page and "rows[1]" not in page
    assert client.post("/boards/new", data=data).status_code == 302
    fresh(db)
    assert [r.indicator_key for r in db.scalar(select(Board)).rows] == ["aic.safety", "improvement.late_actions"]
    assert db.scalar(select(func.count()).select_from(Board)) == 1
