"""Pages of the AIC boards: list, board of the day, trends, month export, meetings, indicators, screens."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from dashboards import exports, figures, meetings, screens, services
from dashboards import indicators as ind
from dashboards.api import snapshot_store
from dashboards.models import LETTER_LABELS, LETTERS, LEVELS
from shopfloor import validation as v
from shopfloor.auth.models import Team, User
from shopfloor.auth.permissions import requires
from shopfloor.db import session
from shopfloor import clock
from shopfloor.errors import DomainError, ValidationError

bp = Blueprint("dashboards", __name__, template_folder="templates", static_folder="static",
               static_url_path="/aic-static")
FORM_ROWS = 12
TREND_DAYS = (30, 90, 365)


@bp.record_once
def _template_globals(state):
    state.app.jinja_env.globals.update(aic_symbols=ind.SYMBOLS, aic_status_labels=ind.STATUS_LABELS,
                                       aic_letter_labels=LETTER_LABELS, aic_letters=LETTERS)


def _user() -> User:
    return current_user._get_current_object()


def _json(figure) -> str:
    """A figure's JSON, safe inside a <script> element (user text may hold '</script>')."""
    return figure.to_json().replace("</", "<\\/")


def _today():
    return services.paris_today(clock.now())


# -- Boards -------------------------------------------------------------------------

@bp.get("/boards")
@requires()
def boards():
    return render_template("dashboards/boards.html", boards=services.list_boards(session()), levels=LEVELS)


def _board_form_values(form) -> dict:
    rows = []
    for i in range(FORM_ROWS):
        key = (form.get(f"indicator_{i}") or "").strip()
        if key:
            rows.append({"letter": form.get(f"letter_{i}"), "indicator": key,
                         "target": form.get(f"target_{i}"), "threshold": form.get(f"threshold_{i}")})
    level = v.integer(form, "level", minimum=1, maximum=3)
    parent = v.identifier(form, "parent", required=False)
    return {"name": v.text(form, "name", max_length=120), "level": level, "team": form.get("team") or None,
            "rows": rows, "parent_id": parent}


@bp.route("/boards/new", methods=["GET", "POST"])
@requires("tutor", "admin")
def new_board():
    db = session()
    error = None
    if request.method == "POST":
        try:
            board = services.create_board(db, _user(), today=_today(), **_board_form_values(request.form))
        except DomainError as exc:
            db.rollback()
            error = exc
        else:
            flash("Tableau créé.", "success")
            return redirect(url_for("dashboards.board", board_id=board.id))
    catalog = sorted(ind.catalog(db).values(), key=lambda i: (LETTERS.index(i.letter), i.label))
    return render_template("dashboards/board_form.html", form=request.form, error=error, catalog=catalog,
                           teams=list(db.scalars(select(Team).order_by(Team.name))),
                           boards=services.list_boards(db), form_rows=FORM_ROWS, levels=LEVELS), \
        (error.status if error else 200)


def _board_page(board_id: int, error: DomainError | None = None, form=None):
    db = session()
    board = services.get_board(db, board_id)
    today = _today()
    try:
        day = v.date_field(request.args, "date", default=today)
        if day > today:
            raise ValidationError("Le tableau ne se consulte pas pour un jour à venir.", "date")
        view = _view_on(db, board, day, today)
    except DomainError as exc:
        error, day = exc, today
        view = _view_on(db, board, today, today)
    first = services.month_start(day)
    pareto = services.problem_pareto(db, board.id, first, services.month_end(first))
    recent = meetings.recent_meetings(db, board.id)
    return render_template(
        "dashboards/board.html", board=board, view=view, day=day, today=today, error=error, form=form or {},
        pareto=_json(figures.pareto(pareto, f"Pareto des problèmes soulevés – {first:%m/%Y}")) if pareto else None,
        meetings=recent, problems=meetings.problems_of_meetings(db, [m.id for m in recent]),
        sent=meetings.sent_escalations(db, board.id), can_enter=services.can_enter(_user(), board),
        safety_levels=ind.SAFETY_LEVELS, safety_key=ind.SAFETY_KEY, mood_key=ind.MOOD_KEY,
        previous=day - timedelta(days=1), following=day + timedelta(days=1),
    ), (error.status if error else 200)


def _view_on(db, board, day, today):
    """The month of `day` seen on that day: rows' values and statuses are those of `day`."""
    view = exports.month_view(db, board, services.month_start(day), today, snapshot_store)
    index = day.day - 1
    for row in view["rows"]:
        current = row["month"][index]
        row.update(value=current["value"], status=current["status"], symbol=ind.SYMBOLS[current["status"]])
    return view


@bp.get("/boards/<int:board_id>")
@requires()
def board(board_id: int):
    return _board_page(board_id)


@bp.post("/boards/<int:board_id>/entries")
@requires()
def board_entry(board_id: int):
    db = session()
    board = services.get_board(db, board_id)
    try:
        entry = services.record_entry(db, _user(), board, indicator=v.text(request.form, "indicator", max_length=80),
                                      day=v.date_field(request.form, "date"), value=request.form.get("value"),
                                      comment=v.text(request.form, "comment", required=False, max_length=2000),
                                      today=_today())
    except DomainError as exc:
        db.rollback()
        return _board_page(board_id, exc, request.form)
    flash(f"Valeur enregistrée pour le {entry.day:%d/%m/%Y}.", "success")
    return redirect(url_for("dashboards.board", board_id=board.id, date=entry.day.isoformat()))


@bp.get("/boards/<int:board_id>/trends")
@requires()
def trends(board_id: int):
    db = session()
    board = services.get_board(db, board_id)
    days = request.args.get("days", 90, type=int)
    days = days if days in TREND_DAYS else 90
    today = _today()
    catalog = ind.catalog(db)
    values = services.values_for(db, board, today - timedelta(days=days - 1), today, today, catalog, snapshot_store)
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
    first = exports.parse_month(request.args.get("month"), _today())
    content = exports.month_xlsx(db, board, first, _today(), snapshot_store)
    name = f"aic-{board.id}-{first:%Y-%m}.xlsx"
    return Response(content, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/boards/<int:board_id>/print")
@requires()
def print_month(board_id: int):
    db = session()
    board = services.get_board(db, board_id)
    first = exports.parse_month(request.args.get("month"), _today())
    return render_template("dashboards/print.html", board=board, first=first,
                           view=exports.month_view(db, board, first, _today(), snapshot_store),
                           problems=exports.month_problems(db, board, first))


# -- Manual indicators ----------------------------------------------------------------

@bp.route("/boards/indicators", methods=["GET", "POST"])
@requires("tutor", "admin")
def indicators_page():
    db = session()
    error = None
    if request.method == "POST":
        try:
            team = services.find_team(db, request.form.get("team") or None)
            definition = services.define_indicator(
                db, _user(), label=v.text(request.form, "label", max_length=120),
                letter=v.choice(request.form, "letter", LETTERS),
                unit=v.text(request.form, "unit", required=False, max_length=20),
                higher_is_better=request.form.get("direction") == "higher", team_id=team.id if team else None)
        except DomainError as exc:
            db.rollback()
            error = exc
        else:
            flash(f"Indicateur {definition.key} créé : ajoutez-le à un tableau.", "success")
            return redirect(url_for("dashboards.indicators_page"))
    catalog = sorted(ind.catalog(db).values(), key=lambda i: (LETTERS.index(i.letter), i.key))
    return render_template("dashboards/indicators.html", catalog=catalog, error=error, form=request.form,
                           teams=list(db.scalars(select(Team).order_by(Team.name)))), (error.status if error else 200)


# -- Meetings, problems, escalations -----------------------------------------------------

@bp.route("/boards/<int:board_id>/meetings/new", methods=["GET", "POST"])
@requires()
def new_meeting(board_id: int):
    db = session()
    board = services.get_board(db, board_id)
    error = None
    if request.method == "POST":
        try:
            meeting = meetings.create_meeting(
                db, _user(), board, performed_at=v.datetime_field(request.form, "performed_at"), now=clock.now(),
                participants=request.form.get("participants", ""), reviewed=request.form.getlist("reviewed"),
                led=v.boolean(request.form, "led"),
                duration_minutes=v.integer(request.form, "duration_minutes", minimum=1, maximum=240),
                description=v.text(request.form, "description", required=False, max_length=5000))
        except DomainError as exc:
            db.rollback()
            error = exc
        else:
            flash("Réunion enregistrée : notez les problèmes soulevés.", "success")
            return redirect(url_for("dashboards.meeting", meeting_id=meeting.id))
    return render_template("dashboards/meeting_form.html", board=board, form=request.form, error=error,
                           rows=services.sorted_rows(board), catalog=ind.catalog(db),
                           now=v.to_paris(clock.now())), (error.status if error else 200)


def _meeting_page(meeting_id: int, error: DomainError | None = None, form=None):
    db = session()
    meeting = meetings.visible_meeting(db, _user(), meeting_id)
    categories = sorted({c for (c,) in db.execute(select(meetings.Problem.category).distinct().limit(200))})
    people = list(db.scalars(select(User).where(User.active.is_(True)).order_by(User.full_name)))
    return render_template("dashboards/meeting.html", meeting=meeting, board=meeting.board, error=error,
                           form=form or {}, categories=categories, people=people, treatments=meetings.TREATMENTS,
                           methods=_methods(), today=_today(),
                           may_edit=meetings.may_edit_meeting(db, _user(), meeting),
                           can_enter=services.can_enter(_user(), meeting.board)), (error.status if error else 200)


def _methods() -> tuple[str, ...]:
    try:
        from modules.improvement.models import METHODS
    except ImportError:
        return ("QRQC",)
    return METHODS


@bp.get("/boards/meetings/<int:meeting_id>")
@requires()
def meeting(meeting_id: int):
    return _meeting_page(meeting_id)


@bp.post("/boards/meetings/<int:meeting_id>/problems")
@requires()
def add_problem(meeting_id: int):
    db = session()
    meeting_row = meetings.visible_meeting(db, _user(), meeting_id)
    form = request.form
    try:
        treatment = v.choice(form, "treatment", tuple(meetings.TREATMENTS))
        owner = None
        if treatment == "action":
            username = v.text(form, "owner", max_length=64)
            owner = db.scalar(select(User).where(User.username == username.lower(), User.active.is_(True)))
            if owner is None:
                raise ValidationError(f"Responsable inconnu : {username}.", "owner")
        meetings.add_problem(db, _user(), meeting_row, title=v.text(form, "title"),
                             letter=v.choice(form, "letter", LETTERS), category=v.text(form, "category", max_length=80),
                             treatment=treatment, now=clock.now(), owner=owner,
                             due=v.date_field(form, "due") if treatment == "action" else None,
                             deliverable=v.text(form, "deliverable", required=False, max_length=500),
                             method=form.get("method") or "QRQC")
    except DomainError as exc:
        db.rollback()
        return _meeting_page(meeting_id, exc, form)
    flash("Problème noté.", "success")
    return redirect(url_for("dashboards.meeting", meeting_id=meeting_id))


@bp.post("/boards/problems/<int:problem_id>/escalate")
@requires()
def escalate(problem_id: int):
    db = session()
    problem = meetings.get_problem(db, problem_id)
    try:
        escalation = meetings.escalate(db, _user(), problem, reason=request.form.get("reason", ""), now=clock.now())
    except DomainError as exc:
        db.rollback()
        return _meeting_page(problem.meeting_id, exc, request.form)
    flash(f"Problème remonté au tableau « {escalation.to_board.name} ».", "success")
    return redirect(url_for("dashboards.meeting", meeting_id=problem.meeting_id))


@bp.post("/boards/escalations/<int:escalation_id>/answer")
@requires()
def answer(escalation_id: int):
    db = session()
    escalation = meetings.get_escalation(db, escalation_id)
    try:
        meetings.answer_escalation(db, _user(), escalation, answer=request.form.get("answer", ""), now=clock.now())
    except DomainError as exc:
        db.rollback()
        return _board_page(escalation.to_board_id, exc, request.form)
    flash("Réponse enregistrée : la remontée quitte le tableau.", "success")
    return redirect(url_for("dashboards.board", board_id=escalation.to_board_id))


# -- Screens (admin) ---------------------------------------------------------------------

@bp.route("/screens", methods=["GET", "POST"])
@requires("admin")
def screens_page():
    db = session()
    error, created = None, None
    if request.method == "POST":
        try:
            screen, token = screens.create_screen(
                db, _user(), name=v.text(request.form, "name", max_length=120),
                board_ids=request.form.getlist("boards"),
                refresh_seconds=v.integer(request.form, "refresh_seconds", minimum=10, maximum=3600),
                cycle_seconds=v.integer(request.form, "cycle_seconds", minimum=5, maximum=3600))
        except DomainError as exc:
            db.rollback()
            error = exc
        else:
            created = (screen, token, url_for("dashboards_screen.screen", token=token, _external=True))
    return render_template("dashboards/screens.html", screens=screens.list_screens(db), created=created,
                           boards=services.list_boards(db), error=error, form=request.form), \
        (error.status if error else 200)


@bp.post("/screens/<int:screen_id>/revoke")
@requires("admin")
def revoke_screen(screen_id: int):
    db = session()
    screen = screens.revoke_screen(db, screens.get_screen(db, screen_id), clock.now())
    flash(f"Écran « {screen.name} » révoqué : il s'arrête à sa prochaine actualisation.", "success")
    return redirect(url_for("dashboards.screens_page"))
