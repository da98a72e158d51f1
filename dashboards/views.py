"""Pages of the AIC boards: list, board of the day, trends, month export, meetings, indicators, screens."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from dashboards import exports, figures, inputs, meetings, read, screens, services
from dashboards import indicators as ind
from dashboards.models import LETTERS, LEVELS, Meeting
from modules.improvement import services as improvement
from shopfloor import access, clock
from shopfloor import validation as v
from shopfloor.auth.models import Team, User
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.db import session
from shopfloor.errors import DomainError, ValidationError
from shopfloor.forms import form_handler, on_error
from shopfloor.registry import registry_of

bp = Blueprint("dashboards", __name__, template_folder="templates", static_folder="static",
               static_url_path="/aic-static")
FORM_ROWS = 12
TREND_DAYS = (30, 90, 365)


def _json(figure) -> str:
    """A figure's JSON, safe inside a <script> element (user text may hold '</script>')."""
    return figure.to_json().replace("</", "<\\/")


# -- Boards -------------------------------------------------------------------------

@bp.get("/boards")
@requires()
def boards():
    return render_template("dashboards/boards.html", boards=services.list_boards(session()), levels=LEVELS)


def _board_form(error: DomainError | None = None) -> str:
    db = session()
    catalog = sorted(ind.catalog(db).values(), key=lambda i: (LETTERS.index(i.letter), i.label))
    return render_template("dashboards/board_form.html", form=request.form, error=error, catalog=catalog,
                           teams=list(db.scalars(select(Team).order_by(Team.name))),
                           boards=services.list_boards(db), form_rows=FORM_ROWS, levels=LEVELS)


@bp.route("/boards/new", methods=["GET", "POST"])
@requires("tutor", "admin")
@form_handler(_board_form)
def new_board():
    if request.method == "GET":
        return _board_form()
    spec = inputs.board_form(request.form, FORM_ROWS)
    board = services.create_board(session(), current_actor(), spec, clock.paris_day())
    flash("Tableau créé.", "success")
    return redirect(url_for("dashboards.board", board_id=board.id))


def _asked_day():
    """The day asked in the query string (default today), never a day to come."""
    today = clock.paris_day()
    day = v.date_field(request.args, "date", default=today)
    if day > today:
        raise ValidationError("Le tableau ne se consulte pas pour un jour à venir.", "date")
    return day


def _board_page(board_id: int, error: DomainError | None = None, form=None, day=None) -> str:
    """The board on `day` (default today); an error re-renders it on today with the message."""
    db = session()
    board = services.get_board(db, board_id)
    today = clock.paris_day()
    day = day or today
    view = _view_on(db, board, day, today)
    first = clock.month_start(day)
    pareto = services.problem_pareto(db, board.id, first, services.month_end(first))
    recent = meetings.recent_meetings(db, board.id)
    return render_template(
        "dashboards/board.html", board=board, view=view, day=day, today=today, error=error, form=form or {},
        pareto=_json(figures.pareto(pareto, f"Pareto des problèmes soulevés – {first:%m/%Y}")) if pareto else None,
        meetings=recent, problems=meetings.problems_of_meetings(db, [m.id for m in recent]),
        sent=meetings.sent_escalations(db, board.id), can_enter=services.can_enter(current_actor(), board),
        safety_levels=ind.SAFETY_LEVELS, safety_key=ind.SAFETY_KEY, mood_key=ind.MOOD_KEY,
        previous=day - timedelta(days=1), following=day + timedelta(days=1),
    )


def _view_on(db, board, day, today):
    """The month of `day` seen on that day: rows' values and statuses are those of `day`."""
    view = exports.month_view(db, board, clock.month_start(day), today)
    index = day.day - 1
    for row in view["rows"]:
        current = row["month"][index]
        row.update(value=current["value"], status=current["status"], symbol=ind.SYMBOLS[current["status"]])
    return view


@bp.get("/boards/<int:board_id>")
@requires()
def board(board_id: int):
    return on_error(lambda error: _board_page(board_id, error),
                    lambda: _board_page(board_id, day=_asked_day()))


@bp.post("/boards/<int:board_id>/entries")
@requires()
@form_handler(lambda board_id, error: _board_page(board_id, error, request.form))
def board_entry(board_id: int):
    db = session()
    board = services.get_board(db, board_id)
    services.check_may_enter(current_actor(), board)
    entry = services.record_entry(db, current_actor(), board, inputs.entry(request.form), clock.paris_day())
    flash(f"Valeur enregistrée pour le {entry.day:%d/%m/%Y}.", "success")
    return redirect(url_for("dashboards.board", board_id=board.id, date=entry.day.isoformat()))


@bp.get("/boards/<int:board_id>/trends")
@requires()
def trends(board_id: int):
    db = session()
    board = services.get_board(db, board_id)
    days = request.args.get("days", 90, type=int)
    days = days if days in TREND_DAYS else 90
    today = clock.paris_day()
    catalog = ind.catalog(db)
    values = read.values_for(db, board, today - timedelta(days=days - 1), today, today, catalog)
    charts = []
    for row in services.sorted_rows(board):
        info = catalog.get(row.indicator_key)
        if info is None:
            charts.append((row, None))
            continue
        points = [(today - timedelta(days=n), values.get((row.indicator_key, today - timedelta(days=n))))
                  for n in range(days - 1, -1, -1)]
        charts.append((row, _json(figures.trend(info.label, info.unit, points, row.target, row.threshold,
                                                info.higher_is_better))))
    return render_template("dashboards/trends.html", board=board, charts=charts, days=days, choices=TREND_DAYS)


@bp.get("/boards/<int:board_id>/export.xlsx")
@requires()
def export_xlsx(board_id: int):
    db = session()
    board = services.get_board(db, board_id)
    first = inputs.month(request.args, clock.paris_day())
    content = exports.month_xlsx(db, board, first, clock.paris_day())
    name = f"aic-{board.id}-{first:%Y-%m}.xlsx"
    return Response(content, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/boards/<int:board_id>/print")
@requires()
def print_month(board_id: int):
    db = session()
    board = services.get_board(db, board_id)
    first = inputs.month(request.args, clock.paris_day())
    return render_template("dashboards/print.html", board=board, first=first,
                           view=exports.month_view(db, board, first, clock.paris_day()),
                           problems=exports.month_problems(db, board, first))


# -- Manual indicators ----------------------------------------------------------------

def _indicators_page(error: DomainError | None = None) -> str:
    db = session()
    catalog = sorted(ind.catalog(db).values(), key=lambda i: (LETTERS.index(i.letter), i.key))
    return render_template("dashboards/indicators.html", catalog=catalog, error=error, form=request.form,
                           teams=list(db.scalars(select(Team).order_by(Team.name))))


@bp.route("/boards/indicators", methods=["GET", "POST"])
@requires("tutor", "admin")
@form_handler(_indicators_page)
def indicators_page():
    if request.method == "GET":
        return _indicators_page()
    db = session()
    team = services.find_team(db, inputs.team(request.form.get("team")))
    definition = services.define_indicator(
        db, current_actor(), label=v.text(request.form, "label", max_length=120),
        letter=v.choice(request.form, "letter", LETTERS),
        unit=v.text(request.form, "unit", required=False, max_length=20),
        higher_is_better=request.form.get("direction") == "higher", team_id=team.id if team else None)
    flash(f"Indicateur {definition.key} créé : ajoutez-le à un tableau.", "success")
    return redirect(url_for("dashboards.indicators_page"))


# -- Meetings, problems, escalations -----------------------------------------------------

def _meeting_form(board_id: int, error: DomainError | None = None) -> str:
    db = session()
    board = services.get_board(db, board_id)
    return render_template("dashboards/meeting_form.html", board=board, form=request.form, error=error,
                           rows=services.sorted_rows(board), catalog=ind.catalog(db),
                           now=v.to_paris(clock.now()))


@bp.route("/boards/<int:board_id>/meetings/new", methods=["GET", "POST"])
@requires()
@form_handler(_meeting_form)
def new_meeting(board_id: int):
    db = session()
    board = services.get_board(db, board_id)
    if request.method == "GET":
        return _meeting_form(board_id)
    meeting = meetings.create_meeting(
        db, current_actor(), board, performed_at=v.datetime_field(request.form, "performed_at"), now=clock.now(),
        participants=request.form.get("participants", ""), reviewed=request.form.getlist("reviewed"),
        led=v.boolean(request.form, "led"),
        duration_minutes=v.integer(request.form, "duration_minutes", minimum=1, maximum=240),
        description=v.text(request.form, "description", required=False, max_length=5000))
    flash("Réunion enregistrée : notez les problèmes soulevés.", "success")
    return redirect(url_for("dashboards.meeting", meeting_id=meeting.id))


def _visible_meeting(db, meeting_id: int) -> Meeting:
    return access.visible(db, Meeting, current_actor(), meeting_id, field="meeting_id")


def _meeting_page(meeting_id: int, error: DomainError | None = None, form=None) -> str:
    db = session()
    actor = current_actor()
    meeting = _visible_meeting(db, meeting_id)
    categories = sorted({c for (c,) in db.execute(select(meetings.Problem.category).distinct().limit(200))})
    people = list(db.scalars(select(User).where(User.active.is_(True)).order_by(User.full_name)))
    return render_template("dashboards/meeting.html", meeting=meeting, board=meeting.board, error=error,
                           form=form or {}, categories=categories, people=people, treatments=meetings.TREATMENTS,
                           methods=_methods(), today=clock.paris_day(),
                           may_edit=meetings.may_edit_meeting(db, actor, meeting),
                           can_enter=services.can_enter(actor, meeting.board))


def _methods() -> tuple[str, ...]:
    return improvement.METHODS if registry_of(session()).has("improvement") else ("QRQC",)


@bp.get("/boards/meetings/<int:meeting_id>")
@requires()
def meeting(meeting_id: int):
    return _meeting_page(meeting_id)


@bp.post("/boards/meetings/<int:meeting_id>/problems")
@requires()
@form_handler(lambda meeting_id, error: _meeting_page(meeting_id, error, request.form))
def add_problem(meeting_id: int):
    db = session()
    meeting_row = _visible_meeting(db, meeting_id)
    form = request.form
    treatment = v.choice(form, "treatment", tuple(meetings.TREATMENTS))
    owner = None
    if treatment == "action":
        username = v.text(form, "owner", max_length=64)
        owner = db.scalar(select(User).where(User.username == username.lower(), User.active.is_(True)))
        if owner is None:
            raise ValidationError(f"Responsable inconnu : {username}.", "owner")
    meetings.add_problem(db, current_actor(), meeting_row, title=v.text(form, "title"),
                         letter=v.choice(form, "letter", LETTERS), category=v.text(form, "category", max_length=80),
                         treatment=treatment, now=clock.now(), owner=owner,
                         due=v.date_field(form, "due") if treatment == "action" else None,
                         deliverable=v.text(form, "deliverable", required=False, max_length=500),
                         method=v.choice(form, "method", _methods(), default="QRQC"))
    flash("Problème noté.", "success")
    return redirect(url_for("dashboards.meeting", meeting_id=meeting_id))


@bp.post("/boards/problems/<int:problem_id>/escalate")
@requires()
def escalate(problem_id: int):
    db = session()
    problem = meetings.get_problem(db, problem_id)
    meeting_id = problem.meeting_id

    def send():
        escalation = meetings.escalate(db, current_actor(), problem, reason=request.form.get("reason", ""),
                                       now=clock.now())
        flash(f"Problème remonté au tableau « {escalation.to_board.name} ».", "success")
        return redirect(url_for("dashboards.meeting", meeting_id=meeting_id))
    return on_error(lambda error: _meeting_page(meeting_id, error, request.form), send)


@bp.post("/boards/escalations/<int:escalation_id>/answer")
@requires()
def answer(escalation_id: int):
    db = session()
    escalation = meetings.get_escalation(db, escalation_id)
    board_id = escalation.to_board_id

    def send():
        meetings.answer_escalation(db, current_actor(), escalation, answer=request.form.get("answer", ""),
                                   now=clock.now())
        flash("Réponse enregistrée : la remontée quitte le tableau.", "success")
        return redirect(url_for("dashboards.board", board_id=board_id))
    return on_error(lambda error: _board_page(board_id, error, request.form), send)


# -- Screens (admin) ---------------------------------------------------------------------

def _screens_page(error: DomainError | None = None, created=None) -> str:
    db = session()
    return render_template("dashboards/screens.html", screens=screens.list_screens(db), created=created,
                           boards=services.list_boards(db), error=error, form=request.form)


@bp.route("/screens", methods=["GET", "POST"])
@requires("admin")
@form_handler(_screens_page)
def screens_page():
    if request.method == "GET":
        return _screens_page()
    screen, token = screens.create_screen(session(), current_actor(), inputs.screen(request.form))
    return _screens_page(created=(screen, token, url_for("dashboards_screen.screen", token=token, _external=True)))


@bp.post("/screens/<int:screen_id>/revoke")
@requires("admin")
def revoke_screen(screen_id: int):
    db = session()
    screen = screens.revoke_screen(db, screens.get_screen(db, screen_id), clock.now())
    flash(f"Écran « {screen.name} » révoqué : il s'arrête à sa prochaine actualisation.", "success")
    return redirect(url_for("dashboards.screens_page"))
