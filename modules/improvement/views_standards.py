"""Pages of the standards (one-point lessons, operating procedures): steps with photos, validation, the
printable workstation sheet."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from modules.improvement import inputs, services
from modules.improvement.blueprint import bp, upload_limit
from modules.improvement.models import STANDARD_KINDS, Standard
from shopfloor import access, clock
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.db import session
from shopfloor.evidence.context import upload_dir
from shopfloor.forms import on_error


@bp.get("/standards")
@requires()
def standards():
    return render_template("improvement/standards.html", standards=services.list_standards(session(), current_actor()),
                           kinds=STANDARD_KINDS)


@bp.route("/standards/new", methods=["GET", "POST"])
@requires()
def new_standard():
    def render(error=None):
        return render_template("improvement/standard_form.html", form=request.form, error=error, kinds=STANDARD_KINDS)

    def create():
        standard = services.create_standard(session(), current_actor(), clock.now(), inputs.standard(request.form))
        flash("Standard créé : ajoutez ses étapes dans l'ordre, avec une photo.", "success")
        return redirect(url_for("improvement.standard", standard_id=standard.id))
    return on_error(render, create) if request.method == "POST" else render()


def _standard_page(standard, error=None) -> str:
    me = current_actor()
    return render_template("improvement/standard.html", standard=standard, error=error, kinds=STANDARD_KINDS,
                           mine=me.id == standard.author_id, can_validate=services.can_validate(me, standard))


@bp.get("/standards/<int:standard_id>")
@requires()
def standard(standard_id: int):
    return _standard_page(access.visible(session(), Standard, current_actor(), standard_id, field="standard_id"))


def _standard_change(standard_id: int, work, success: str):
    """Run one change on the standard; on a domain error, show it again (as the database holds it after the
    rollback) with the error and its status."""
    db = session()
    record = access.visible(db, Standard, current_actor(), standard_id, field="standard_id")

    def change():
        work(db, record)
        flash(success, "success")
        return redirect(url_for("improvement.standard", standard_id=standard_id))
    return on_error(lambda error: _standard_page(record, error), change)


@bp.post("/standards/<int:standard_id>/steps")
@requires()
def add_step(standard_id: int):
    def work(db, record):
        upload = request.files.get("photo")
        photo = (upload.filename, upload.read()) if upload and upload.filename else None
        services.check_step_addable(current_actor(), record)
        services.add_step(db, current_actor(), record, inputs.step(request.form), photo=photo, storage=upload_dir(),
                          max_bytes=upload_limit())
    return _standard_change(standard_id, work, "Étape ajoutée.")


@bp.post("/standards/<int:standard_id>/steps/<int:step_id>/<move>")
@requires()
def move_step(standard_id: int, step_id: int, move: str):
    def work(db, record):
        if move == "delete":
            services.remove_step(db, current_actor(), record, step_id)
        else:
            services.move_step(db, current_actor(), record, step_id, -1 if move == "up" else 1)
    return _standard_change(standard_id, work, "Étapes mises à jour.")


@bp.post("/standards/<int:standard_id>/validate")
@requires("tutor", "admin")
def validate_standard(standard_id: int):
    return _standard_change(standard_id, lambda db, record: services.validate_standard(db, current_actor(), record, clock.now()),
                            "Standard validé : nouvelle version en vigueur.")


@bp.get("/standards/<int:standard_id>/print")
@requires()
def print_standard(standard_id: int):
    return render_template("improvement/standard_print.html",
                           standard=access.visible(session(), Standard, current_actor(), standard_id,
                                                   field="standard_id"), kinds=STANDARD_KINDS)
