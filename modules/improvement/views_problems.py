"""Pages of a problem sheet: creation (from a Pareto), the sheet step by step, the printable A3."""
from __future__ import annotations

import json

from flask import flash, redirect, render_template, request, url_for

from modules.improvement import figures, inputs, services
from modules.improvement.models import CATEGORIES_5M, METHODS, ProblemSheet
from shopfloor.origins import describe, origins, parse_origin
from modules.improvement.pareto import clean_items, pareto as pareto_bars
from modules.improvement.blueprint import bp
from shopfloor import access
from shopfloor import validation as v
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.auth.services import list_users
from shopfloor.db import session
from shopfloor import clock
from shopfloor.errors import ValidationError
from shopfloor.evidence.services import frozen_reason
from shopfloor.forms import on_error

SECTION_FIELDS = {"team": ("team_members",), "problem": ("qui", "quoi", "ou", "quand", "comment", "combien",
                                                         "pourquoi", "data_note"),
                  "whys": ("root_cause",), "standard": ("standardisation",), "effectiveness": ("effectiveness",)}


@bp.get("/problems")
@requires()
def problems():
    status = request.args.get("status") if request.args.get("status") in ("open", "closed") else None
    return render_template("improvement/problems.html", sheets=services.list_sheets(session(), current_actor(), status),
                           status=status)


def _pareto_from_form(form) -> dict | None:
    raw = form.get("pareto", "").strip()
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        raise ValidationError("Les données du Pareto sont illisibles.", "pareto") from None
    if not isinstance(data, dict):
        raise ValidationError("Les données du Pareto sont illisibles.", "pareto")
    if "items" in data:
        data["items"] = clean_items(data["items"])
    data["label"] = v.clean_text(str(data.get("label") or ""), "pareto")[:200]
    return data


@bp.route("/problems/new", methods=["GET", "POST"])
@requires()
def new_problem():
    db = session()
    form = request.form if request.method == "POST" else request.args
    read = {"pareto": None}   # the Pareto the page was opened from, shown again after an error

    def render(error=None):
        pareto = read["pareto"]
        bars = pareto_bars([tuple(i) for i in pareto["items"]]) if pareto and isinstance(pareto.get("items"), list) else []
        return render_template("improvement/problem_new.html", form=form, error=error, methods=METHODS,
                               origins=origins(db), pareto_json=form.get("pareto", ""), pareto=pareto, bars=bars,
                               figure=figures.pareto_figure(bars, pareto.get("label", "")) if bars else None)

    def create():
        read["pareto"] = _pareto_from_form(form)
        if request.method != "POST":
            return render()
        origin = None
        if form.get("origin_type"):
            origin = parse_origin((form.get("origin_type"), form.get("origin_id")))
        spec = inputs.new_problem(dict(form.items(), pareto=read["pareto"]))
        sheet = services.create_problem(db, current_actor(), spec, now=clock.now(), origin=origin)
        flash("Fiche problème ouverte : décrivez le problème, puis cherchez ses causes.", "success")
        return redirect(url_for("improvement.problem", problem_id=sheet.id))
    return on_error(render, create)


def _render_sheet(sheet, error=None) -> str:
    db, me = session(), current_actor()
    today = clock.paris_day()
    actions = services.sheet_actions(db, sheet)
    bars = pareto_bars([tuple(i) for i in sheet.pareto["items"]]) if sheet.pareto else []
    return render_template(
        "improvement/problem.html", sheet=sheet, error=error, today=today, actions=actions,
        follow=services.follow_up(actions, today), steps=services.steps(sheet), qqoqccp=services.QQOQCCP,
        families=CATEGORIES_5M, causes=services.ranked_causes(sheet), people=[u for u in list_users(db) if u.active],
        origin=describe(db, sheet.origin_type, sheet.origin_id), mine=me.id == sheet.author_id,
        editable=sheet.status == "open" and not _frozen(sheet), missing=services.closure_missing(db, sheet),
        ishikawa=figures.ishikawa_svg(sheet.quoi or sheet.title, sheet.causes, sheet.chosen_cause_id),
        pareto_figure=figures.pareto_figure(bars, sheet.pareto.get("label", "")) if bars else None,
        my_votes={vote.cause_id for c in sheet.causes for vote in c.votes if vote.voter_id == me.id
                  and not vote.voter_label})


def _frozen(sheet) -> bool:
    return frozen_reason(sheet) is not None


@bp.get("/problems/<int:problem_id>")
@requires()
def problem(problem_id: int):
    return _render_sheet(access.visible(session(), ProblemSheet, current_actor(), problem_id, field="problem_id"))


def _sheet_action(problem_id: int, work, success: str, anchor: str):
    """Run one change on the sheet; on a domain error, show the sheet again (as the database holds it after the
    rollback) with the error and its status."""
    db = session()
    sheet = access.visible(db, ProblemSheet, current_actor(), problem_id, field="problem_id")

    def change():
        work(db, sheet)
        flash(success, "success")
        return redirect(url_for("improvement.problem", problem_id=problem_id, _anchor=anchor))
    return on_error(lambda error: _render_sheet(sheet, error), change)


@bp.post("/problems/<int:problem_id>/edit/<section>")
@requires()
def edit_problem(problem_id: int, section: str):
    fields = SECTION_FIELDS.get(section)
    if fields is None:
        raise ValidationError(f"Section inconnue : {section}.", "section")

    def work(db, sheet):
        changes = {key: request.form.get(key, "") for key in fields}
        if section == "effectiveness":
            verdict = request.form.get("effective", "")
            changes["effective"] = {"yes": True, "no": False}.get(verdict)
        services.check_may_edit(current_actor(), sheet)
        services.update_problem(db, current_actor(), sheet, inputs.sheet_changes(changes))
    return _sheet_action(problem_id, work, "Fiche enregistrée.", section)


@bp.post("/problems/<int:problem_id>/causes")
@requires()
def add_cause(problem_id: int):
    def work(db, sheet):
        services.check_participant(db, current_actor(), sheet)
        services.add_cause(db, current_actor(), sheet, inputs.cause(request.form))
    return _sheet_action(problem_id, work, "Cause ajoutée à l'Ishikawa.", "ishikawa")


@bp.post("/problems/<int:problem_id>/causes/<int:cause_id>/vote")
@requires()
def vote(problem_id: int, cause_id: int):
    def work(db, sheet):
        cause = services.sheet_cause(sheet, cause_id)
        if request.form.get("remove"):
            services.unvote(db, current_actor(), sheet, cause, inputs.voter(request.form))
        else:
            services.vote(db, current_actor(), sheet, cause, clock.now(), inputs.voter(request.form))
    return _sheet_action(problem_id, work, "Vote enregistré.", "ishikawa")


@bp.post("/problems/<int:problem_id>/causes/<int:cause_id>/choose")
@requires()
def choose_cause(problem_id: int, cause_id: int):
    return _sheet_action(problem_id, lambda db, sheet: services.choose_cause(db, current_actor(), sheet, cause_id),
                         "Cause choisie : déroulez les 5 pourquoi.", "whys")


@bp.post("/problems/<int:problem_id>/causes/<int:cause_id>/remove")
@requires()
def remove_cause(problem_id: int, cause_id: int):
    return _sheet_action(problem_id, lambda db, sheet: services.remove_cause(
        db, current_actor(), sheet, services.sheet_cause(sheet, cause_id)), "Cause retirée.", "ishikawa")


@bp.post("/problems/<int:problem_id>/whys")
@requires()
def add_why(problem_id: int):
    def work(db, sheet):
        services.check_why_addable(current_actor(), sheet)
        why = inputs.why(request.form)
        services.add_why(db, current_actor(), sheet, why.answer, why.question)
    return _sheet_action(problem_id, work, "Pourquoi ajouté.", "whys")


@bp.post("/problems/<int:problem_id>/whys/clear")
@requires()
def clear_whys(problem_id: int):
    return _sheet_action(problem_id, lambda db, sheet: services.clear_whys(db, current_actor(), sheet),
                         "Chaîne des pourquoi effacée.", "whys")


@bp.post("/problems/<int:problem_id>/actions")
@requires()
def add_action(problem_id: int):
    def work(db, sheet):
        spec = inputs.new_action(request.form)
        services.add_problem_action(db, current_actor(), sheet, spec,
                                    owner=services.owner_by_username(db, request.form.get("owner", "")), now=clock.now())
    return _sheet_action(problem_id, work, "Action planifiée.", "actions")


@bp.post("/problems/<int:problem_id>/close")
@requires()
def close_problem(problem_id: int):
    return _sheet_action(problem_id, lambda db, sheet: services.close_problem(db, current_actor(), sheet, clock.now()),
                         "Fiche clôturée.", "closure")


@bp.post("/problems/<int:problem_id>/reopen")
@requires()
def reopen_problem(problem_id: int):
    return _sheet_action(problem_id, lambda db, sheet: services.reopen_problem(db, current_actor(), sheet),
                         "Fiche rouverte.", "closure")


@bp.get("/problems/<int:problem_id>/a3")
@requires()
def a3(problem_id: int):
    db = session()
    sheet = access.visible(db, ProblemSheet, current_actor(), problem_id, field="problem_id")
    today = clock.paris_day()
    actions = services.sheet_actions(db, sheet)
    bars = pareto_bars([tuple(i) for i in sheet.pareto["items"]]) if sheet.pareto else []
    return render_template("improvement/a3.html", sheet=sheet, actions=actions, today=today,
                           follow=services.follow_up(actions, today), qqoqccp=services.QQOQCCP,
                           origin=describe(db, sheet.origin_type, sheet.origin_id),
                           ishikawa=figures.ishikawa_svg(sheet.quoi or sheet.title, sheet.causes,
                                                         sheet.chosen_cause_id),
                           pareto_figure=figures.pareto_figure(bars, sheet.pareto.get("label", "")) if bars else None)
