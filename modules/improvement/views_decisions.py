"""Pages of the decision matrices: weighted criteria, options with cost and gain, the ranking."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from modules.improvement import inputs, services
from modules.improvement.blueprint import bp
from modules.improvement.models import DecisionStudy
from shopfloor import access
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.db import session
from shopfloor import clock
from shopfloor.forms import on_error

CRITERIA_ROWS, OPTION_ROWS = 6, 5


# -- decisions ------------------------------------------------------------------------

@bp.get("/decisions")
@requires()
def decisions():
    return render_template("improvement/decisions.html", studies=services.list_decisions(session(), current_actor()))


def matrix_from_form(form) -> tuple[list[dict], list[dict]]:
    """Criteria and options typed in the grid; blank rows are skipped."""
    criteria, columns = [], []
    for i in range(CRITERIA_ROWS):
        if form.get(f"c{i}_name", "").strip():
            criteria.append({"name": form[f"c{i}_name"], "weight": form.get(f"c{i}_weight", "")})
            columns.append(i)
    options = []
    for j in range(OPTION_ROWS):
        if form.get(f"o{j}_name", "").strip():
            options.append({"name": form[f"o{j}_name"], "scores": [form.get(f"o{j}_s{i}", "") for i in columns],
                            "cost": form.get(f"o{j}_cost") or None, "gain": form.get(f"o{j}_gain") or None})
    return criteria, options


def matrix_to_form(study) -> dict:
    values = {"title": study.title, "question": study.question, "chosen": study.chosen}
    for i, criterion in enumerate(study.criteria):
        values[f"c{i}_name"], values[f"c{i}_weight"] = criterion["name"], f"{criterion['weight']:g}"
    for j, option in enumerate(study.options):
        values[f"o{j}_name"] = option["name"]
        values[f"o{j}_cost"] = "" if option.get("cost") is None else f"{option['cost']:g}"
        values[f"o{j}_gain"] = "" if option.get("gain") is None else f"{option['gain']:g}"
        for i, score in enumerate(option["scores"]):
            values[f"o{j}_s{i}"] = f"{score:g}"
    return values


@bp.route("/decisions/new", methods=["GET", "POST"], defaults={"study_id": None})
@bp.route("/decisions/<int:study_id>", methods=["GET", "POST"])
@requires()
def decision(study_id: int | None):
    db, me = session(), current_actor()
    study = access.visible(db, DecisionStudy, me, study_id, field="decision_id") if study_id else None

    def render(error=None):   # after a rollback, `study` reads what the database holds
        form = request.form if request.method == "POST" else (matrix_to_form(study) if study else {})
        ranked = services.ranking(study.criteria, study.options) if study else []
        return render_template("improvement/decision.html", study=study, form=form, error=error, ranked=ranked,
                               criteria_rows=CRITERIA_ROWS, option_rows=OPTION_ROWS,
                               mine=study is None or study.author_id == me.id)

    def save():
        if study is None:
            spec = inputs.decision_form(request.form, *matrix_from_form(request.form))
            saved = services.create_decision(db, me, clock.now(), spec)
        else:
            services.check_may_change(me, study)
            saved = services.update_decision(db, me, study,
                                             inputs.decision_matrix(request.form, *matrix_from_form(request.form)))
        flash("Matrice de décision enregistrée.", "success")
        return redirect(url_for("improvement.decision", study_id=saved.id))
    return on_error(render, save) if request.method == "POST" else render()
