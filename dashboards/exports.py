"""A board's month: the grid behind the calendar views, the printable page and the XLSX export."""
from __future__ import annotations

import io
from datetime import date, timedelta

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboards import indicators as ind
from dashboards import read, services
from dashboards.models import LETTER_LABELS, Board, Meeting, Problem

FILLS = {"green": "B2F2BB", "orange": "FFD8A8", "red": "FFA8A8", "grey": "E9ECEF"}

# The safety cross: day n of the month sits at CROSS[n - 1] = (row, column) of a 7 × 7 grid.
CROSS = ([(0, c) for c in (2, 3, 4)] + [(1, c) for c in (2, 3, 4)]
         + [(r, c) for r in (2, 3, 4) for c in range(7)]
         + [(5, c) for c in (2, 3, 4)] + [(6, c) for c in (2, 3, 4)])


def month_view(db: Session, board: Board, first: date, today: date) -> dict:
    """The board over a whole month: every day of it (days to come are grey, without value)."""
    last = services.month_end(first)
    data = read.board_data(db, board, min(last, today), today)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    for row in data["rows"]:
        row["month"] += [{"date": d.isoformat(), "value": None, "status": "grey", "future": True}
                         for d in days[len(row["month"]):]]
    for letter, statuses in data["letters"].items():
        data["letters"][letter] = statuses + ["grey"] * (len(days) - len(statuses))
    data["days"] = days
    data["first"] = first
    data["safety_cross"] = safety_cross(data, days)
    data["calendars"] = {letter: calendar(days, statuses) for letter, statuses in data["letters"].items()}
    return data


def safety_cross(data: dict, days: list[date]) -> list[dict] | None:
    """The S letter laid out as the classic cross: the safety indicator's days, else the S row's worst."""
    safety = next((r for r in data["rows"] if r["indicator"] == ind.SAFETY_KEY), None)
    if safety is not None:
        statuses = [d["status"] for d in safety["month"]]
    elif "S" in data["letters"]:
        statuses = data["letters"]["S"]
    else:
        return None
    cells = []
    for index, (row, col) in enumerate(CROSS):
        day = days[index] if index < len(days) else None
        cells.append({"row": row + 1, "col": col + 1, "day": day.day if day else None,
                      "status": statuses[index] if day else "none"})
    return cells


def calendar(days: list[date], statuses: list[str]) -> list[list[dict | None]]:
    """Weeks (Monday first) of {day, status} cells; None pads the first and last week."""
    weeks, week = [], [None] * days[0].weekday()
    for day, status in zip(days, statuses):
        week.append({"day": day.day, "status": status, "symbol": ind.SYMBOLS[status]})
        if len(week) == 7:
            weeks.append(week)
            week = []
    if week:
        weeks.append(week + [None] * (7 - len(week)))
    return weeks


def month_problems(db: Session, board: Board, first: date) -> list[Problem]:
    return list(db.scalars(select(Problem).join(Meeting, Meeting.id == Problem.meeting_id)
                           .where(Problem.board_id == board.id,
                                  Problem.raised_on.between(first, services.month_end(first)))
                           .order_by(Problem.raised_on, Problem.id)))


def month_xlsx(db: Session, board: Board, first: date, today: date) -> bytes:
    """The month as a workbook: one sheet of values coloured by status (with symbols), one of problems."""
    data = month_view(db, board, first, today)
    wb = Workbook()
    sheet = wb.active
    sheet.title = "Indicateurs"
    sheet.append([f"Tableau AIC : {board.name}", "", "", "", "", f"Mois : {first:%m/%Y}"])
    sheet["A1"].font = Font(bold=True, size=14)
    header = ["Lettre", "Indicateur", "Unité", "Objectif", "Seuil"] + [d.day for d in data["days"]]
    sheet.append(header)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in data["rows"]:
        sheet.append([row["letter"], row["label"], row["unit"], row["target"], row["threshold"]]
                     + [d["value"] for d in row["month"]])
        excel_row = sheet.max_row
        for offset, day in enumerate(row["month"]):
            cell = sheet.cell(row=excel_row, column=6 + offset)
            if not day.get("future"):
                cell.fill = PatternFill("solid", fgColor=FILLS[day["status"]])
                cell.alignment = Alignment(horizontal="center")
    sheet.append([])
    sheet.append(["Statut du jour par lettre (le plus mauvais indicateur)"])
    for letter, statuses in data["letters"].items():
        sheet.append([letter, LETTER_LABELS[letter], "", "", ""] + [ind.SYMBOLS[s] if s != "grey" else ""
                                                                    for s in statuses])
        for offset, status in enumerate(statuses):
            if status != "grey":
                sheet.cell(row=sheet.max_row, column=6 + offset).fill = PatternFill("solid", fgColor=FILLS[status])
    sheet.append([])
    sheet.append(["Légende", "✔ objectif atteint", "▲ entre objectif et seuil", "✖ au-delà du seuil", "– pas de donnée"])
    sheet.column_dimensions["B"].width = 42
    for col in range(6, 6 + len(data["days"])):
        sheet.column_dimensions[get_column_letter(col)].width = 6
    sheet.freeze_panes = "F3"

    problems = wb.create_sheet("Problèmes")
    problems.append(["Date", "Lettre", "Catégorie", "Problème", "Action", "Fiche problème", "Remonté"])
    for cell in problems[1]:
        cell.font = Font(bold=True)
    for p in month_problems(db, board, first):
        problems.append([p.raised_on, p.letter, p.category, p.title, p.action_id, p.problem_sheet_id,
                         "oui" if p.escalations else "non"])
        problems.cell(row=problems.max_row, column=1).number_format = "DD/MM/YYYY"
    problems.column_dimensions["D"].width = 60
    problems.column_dimensions["C"].width = 24
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
