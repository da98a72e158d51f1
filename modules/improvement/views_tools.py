"""Pages of the decision matrices and of the standards (with the printable workstation sheet)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from modules.improvement import services
from modules.improvement.evidence_files import upload_dir
from modules.improvement.models import STANDARD_KINDS
from modules.improvement.web import bp, upload_limit, user
from shopfloor.auth.permissions import requires
from shopfloor.db import session
from shopfloor import clock
from shopfloor.errors import DomainError

CRITERIA_ROWS, OPTION_ROWS = 6, 5


# -- decisions ------------------------------------------------------------------------

@bp.get("/decisions")
@requires()
def decisions():
    return render_template("improvement/decisions.html", studies=services.visible_decisions(session(), user()))


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
    db, me, error = session(), user(), None
    study = services.visible_decision(db, me, study_id) if study_id else None
    if request.method == "POST":
        try:
            criteria, options = matrix_from_form(request.form)
            if study is None:
                study = services.create_decision(db, me, title=request.form.get("title", ""), criteria=criteria,
                                                 options=options, question=request.form.get("question", ""),
                                                 chosen=request.form.get("chosen", ""), now=clock.now())
            else:
                services.update_decision(db, me, study, criteria=criteria, options=options,
                                         question=request.form.get("question", ""),
                                         chosen=request.form.get("chosen", ""))
        except DomainError as exc:
            db.rollback()
            error = exc
            study = services.visible_decision(db, me, study_id) if study_id else None
        else:
            flash("Matrice de décision enregistrée.", "success")
            return redirect(url_for("improvement.decision", study_id=study.id))
    form = request.form if request.method == "POST" else (matrix_to_form(study) if study else {})
    ranked = services.ranking(study.criteria, study.options) if study else []
    return render_template("improvement/decision.html", study=study, form=form, error=error, ranked=ranked,
                           criteria_rows=CRITERIA_ROWS, option_rows=OPTION_ROWS,
                           mine=study is None or study.author_id == me.id), (error.status if error else 200)


# -- standards ------------------------------------------------------------------------

@bp.get("/standards")
@requires()
def standards():
    return render_template("improvement/standards.html", standards=services.visible_standards(session(), user()),
                           kinds=STANDARD_KINDS)


@bp.route("/standards/new", methods=["GET", "POST"])
@requires()
def new_standard():
    db, error = session(), None
    if request.method == "POST":
        try:
            standard = services.create_standard(db, user(), title=request.form.get("title", ""),
                                                kind=request.form.get("kind", ""),
                                                workstations=request.form.get("workstations", ""),
                                                safety=request.form.get("safety", ""), now=clock.now())
        except DomainError as exc:
            db.rollback()
            error = exc
        else:
            flash("Standard créé : ajoutez ses étapes dans l'ordre, avec une photo.", "success")
            return redirect(url_for("improvement.standard", standard_id=standard.id))
    return render_template("improvement/standard_form.html", form=request.form, error=error, kinds=STANDARD_KINDS), \
        (error.status if error else 200)


def _standard_page(standard, error=None):
    me = user()
    return render_template("improvement/standard.html", standard=standard, error=error, kinds=STANDARD_KINDS,
                           mine=me.id == standard.author_id, can_validate=services.can_validate(me, standard)), \
        (error.status if error else 200)


@bp.get("/standards/<int:standard_id>")
@requires()
def standard(standard_id: int):
    return _standard_page(services.visible_standard(session(), user(), standard_id))


def _standard_change(standard_id: int, work, success: str):
    db = session()
    record = services.visible_standard(db, user(), standard_id)
    try:
        work(db, record)
    except DomainError as exc:
        db.rollback()
        return _standard_page(services.visible_standard(db, user(), standard_id), exc)
    flash(success, "success")
    return redirect(url_for("improvement.standard", standard_id=standard_id))


@bp.post("/standards/<int:standard_id>/steps")
@requires()
def add_step(standard_id: int):
    def work(db, record):
        upload = request.files.get("photo")
        photo = (upload.filename, upload.read()) if upload and upload.filename else None
        services.add_step(db, user(), record, step_text=request.form.get("text", ""),
                          key_point=request.form.get("key_point", ""), photo=photo, storage=upload_dir(),
                          max_bytes=upload_limit())
    return _standard_change(standard_id, work, "Étape ajoutée.")


@bp.post("/standards/<int:standard_id>/steps/<int:step_id>/<move>")
@requires()
def move_step(standard_id: int, step_id: int, move: str):
    def work(db, record):
        if move == "delete":
            services.remove_step(db, user(), record, step_id)
        else:
            services.move_step(db, user(), record, step_id, -1 if move == "up" else 1)
    return _standard_change(standard_id, work, "Étapes mises à jour.")


@bp.post("/standards/<int:standard_id>/validate")
@requires("tutor", "admin")
def validate_standard(standard_id: int):
    return _standard_change(standard_id, lambda db, record: services.validate_standard(db, user(), record, clock.now()),
                            "Standard validé : nouvelle version en vigueur.")


@bp.get("/standards/<int:standard_id>/print")
@requires()
def print_standard(standard_id: int):
    return render_template("improvement/standard_print.html",
                           standard=services.visible_standard(session(), user(), standard_id), kinds=STANDARD_KINDS)
