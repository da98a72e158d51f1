"""Pages: the module home, my actions, an action, plans with follow-up and Gantt, the Pareto, the idea box."""
from __future__ import annotations

import json
from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for

from modules.improvement import figures, inputs, services
from modules.improvement import pareto as pareto_rules
from shopfloor.origins import describe, pareto_counts, pareto_sources
from modules.improvement.models import (ACTION_KINDS, ACTION_STATUSES, PDCA_STAGES, Action, ActionPlan, Idea,
                                        ProblemSheet)
from modules.improvement.blueprint import bp
from shopfloor import validation as v
from shopfloor import access
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.auth.services import list_users
from shopfloor.db import session
from shopfloor import clock
from shopfloor.forms import on_error

STATUS_FILTERS = {"open": "Ouvertes", "late": "En retard", "done": "Faites", "all": "Toutes"}


@bp.get("/")
@requires()
def index():
    db, me, today = session(), current_actor(), clock.paris_day()
    return render_template("improvement/index.html", today=today,
                           late=services.my_actions(db, me, today, "late", 20),
                           open_actions=services.my_actions(db, me, today, "open", 20),
                           sheets=services.list_sheets(db, me, "open", 10), plans=services.list_plans(db, me, 10))


# -- actions ------------------------------------------------------------------------

@bp.get("/actions")
@requires()
def actions():
    db, me, today = session(), current_actor(), clock.paris_day()
    status = request.args.get("status", "open")
    if status not in STATUS_FILTERS:
        status = "open"
    scope = request.args.get("scope", "mine")
    if scope == "visible":
        rows = services.list_actions(db, me, today, status=status)
    else:
        rows = services.my_actions(db, me, today, status)
    return render_template("improvement/actions.html", rows=rows, today=today, status=status, scope=scope,
                           filters=STATUS_FILTERS)


def _people(db):
    return [u for u in list_users(db) if u.active]


@bp.route("/actions/new", methods=["GET", "POST"])
@requires()
def new_action():
    db, me = session(), current_actor()
    plan_id = v.query_int(request.values, "plan_id", minimum=1, maximum=v.ID_MAX)
    problem_id = v.query_int(request.values, "problem_id", minimum=1, maximum=v.ID_MAX)

    def render(error=None):
        return render_template("improvement/action_form.html", form=request.form, error=error, people=_people(db),
                               plan_id=plan_id, problem_id=problem_id, today=clock.paris_day(), kinds=ACTION_KINDS,
                               stages=PDCA_STAGES)

    def create():
        spec = inputs.new_action(request.form)
        owner = services.owner_by_username(db, request.form.get("owner", ""))
        if problem_id:
            sheet = access.visible(db, ProblemSheet, me, problem_id, field="problem_id")
            action = services.add_problem_action(db, me, sheet, spec, owner=owner, now=clock.now())
        else:
            action = services.create_action(db, me, spec, owner=owner, now=clock.now(), plan_id=plan_id)
        flash(f"Action « {action.title} » créée.", "success")
        if problem_id:
            return redirect(url_for("improvement.problem", problem_id=problem_id, _anchor="actions"))
        if plan_id:
            return redirect(url_for("improvement.plan", plan_id=plan_id))
        return redirect(url_for("improvement.action", action_id=action.id))
    return on_error(render, create) if request.method == "POST" else render()


@bp.route("/actions/<int:action_id>", methods=["GET", "POST"])
@requires()
def action(action_id: int):
    db, me = session(), current_actor()
    act = access.visible(db, Action, me, action_id, field="action_id")

    def render(error=None):   # after a rollback, `act` reads what the database holds
        return render_template("improvement/action.html", action=act, error=error, today=clock.paris_day(),
                               origin=describe(db, act.origin_type, act.origin_id), statuses=ACTION_STATUSES,
                               can_edit=services.can_edit_action(me, act), form=request.form)

    def change():
        effectiveness = None
        if request.form.get("eff_indicator", "").strip() or act.eff_indicator:
            effectiveness = inputs.effectiveness({key: request.form.get(f"eff_{key}", "")
                                                  for key in ("indicator", *inputs.EFFECTIVENESS_NUMBERS)})
        services.update_action(db, me, act, clock.now(), status=request.form.get("status") or None,
                               abandon_reason=request.form.get("abandon_reason", ""),
                               due=v.date_field(request.form, "due", required=False), effectiveness=effectiveness)
        flash("Action mise à jour.", "success")
        return redirect(url_for("improvement.action", action_id=act.id))
    return on_error(render, change) if request.method == "POST" else render()


# -- plans --------------------------------------------------------------------------

@bp.get("/plans")
@requires()
def plans():
    return render_template("improvement/plans.html", plans=services.list_plans(session(), current_actor()))


@bp.route("/plans/new", methods=["GET", "POST"])
@requires()
def new_plan():
    def render(error=None):
        return render_template("improvement/plan_form.html", form=request.form, error=error)

    def create():
        spec = inputs.plan(request.form)
        plan = services.create_plan(session(), current_actor(), title=spec.title, objective=spec.objective,
                                    scope=spec.scope, now=clock.now())
        flash("Plan d'actions créé : ajoutez ses actions.", "success")
        return redirect(url_for("improvement.plan", plan_id=plan.id))
    return on_error(render, create) if request.method == "POST" else render()


@bp.get("/plans/<int:plan_id>")
@requires()
def plan(plan_id: int):
    db, today = session(), clock.paris_day()
    record = access.visible(db, ActionPlan, current_actor(), plan_id, field="plan_id")
    follow = services.plan_follow_up(db, record, today)
    return render_template("improvement/plan.html", plan=record, follow=follow, today=today,
                           gantt=figures.gantt_figure(follow.actions, today) if follow.actions else None)


# -- Pareto ---------------------------------------------------------------------------

@bp.get("/pareto")
@requires()
def pareto():
    db, today = session(), clock.paris_day()
    sources = pareto_sources(db)
    args = request.args
    drawn = {"start": None, "end": None, "items": [], "label": ""}   # what was read before an error

    def render(error=None):
        start, end, label = drawn["start"], drawn["end"], drawn["label"]
        bars = pareto_rules.pareto(drawn["items"])
        payload = None
        if bars:
            payload = json.dumps({"label": label,
                                  "source": args.get("source", "") if args.get("mode") != "manual" else "",
                                  "start": start.isoformat() if start else "", "end": end.isoformat() if end else "",
                                  "items": [[b.category, b.value] for b in bars]}, ensure_ascii=False)
        return render_template("improvement/pareto.html", sources=sources, args=args, error=error, bars=bars,
                               label=label, figure=figures.pareto_figure(bars, label) if bars else None,
                               payload=payload, start=start or today - timedelta(days=90), end=end or today)

    def draw():
        drawn["start"] = start = v.date_field(args, "start", default=today - timedelta(days=90))
        drawn["end"] = end = v.date_field(args, "end", default=today)
        if args.get("mode") == "manual":
            drawn["items"] = pareto_rules.parse_manual(args.get("values", ""))
            drawn["label"] = args.get("label") or "Saisie manuelle"
        elif args.get("source"):
            team_id = current_actor().team_id if args.get("team") == "mine" else None
            drawn["items"] = pareto_counts(db, args["source"], start, end, team_id)
            drawn["label"] = sources[args["source"]].label
        return render()
    return on_error(render, draw)


# -- idea box -------------------------------------------------------------------------

@bp.route("/ideas", methods=["GET", "POST"])
@requires()
def ideas():
    db, me = session(), current_actor()

    def render(error=None):
        return render_template("improvement/ideas.html", ideas=services.list_ideas(db, me), error=error,
                               form=request.form)

    def submit():
        services.submit_idea(db, me, clock.now(), inputs.idea(request.form))
        flash("Merci ! Votre idée est déposée.", "success")
        return redirect(url_for("improvement.ideas"))
    return on_error(render, submit) if request.method == "POST" else render()


@bp.post("/ideas/<int:idea_id>/answer")
@requires("tutor", "admin")
def answer_idea(idea_id: int):
    db = session()
    idea = access.visible(db, Idea, current_actor(), idea_id, field="idea_id")
    services.answer_idea(db, current_actor(), idea, inputs.idea_answer(request.form))
    flash("Réponse enregistrée.", "success")
    return redirect(url_for("improvement.ideas"))
