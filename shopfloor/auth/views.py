"""Login, logout, language, and the admin's user pages."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from shopfloor.auth import services
from shopfloor.auth.models import ROLES, ApiToken, Cohort
from shopfloor.auth.permissions import requires
from shopfloor.db import session, utcnow
from shopfloor.errors import DomainError
from shopfloor.referential.services import certifications

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("web.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        try:
            user = services.authenticate(
                session(), request.form.get("username", ""), request.form.get("password", ""), utcnow(),
                max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                lockout=timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"]))
        except DomainError as exc:
            session().commit()  # keep the failure count, whatever the answer
            error = exc
        else:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    status = error.status if error else 200
    return render_template("auth/login.html", error=error), status


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("auth.login"))


@bp.post("/language")
@requires()
def language():
    services.set_locale(session(), current_user, request.form.get("locale", ""))
    return redirect(_safe_next(request.form.get("next")))


def _user_input(form) -> services.UserInput:
    return services.UserInput(
        username=form.get("username", ""), full_name=form.get("full_name", ""), role=form.get("role", ""),
        password=form.get("password") or None, email=form.get("email") or None, tutor=form.get("tutor") or None,
        certifications=tuple(form.getlist("certifications")), cohort=(form.get("cohort") or "").strip() or None,
        locale=form.get("locale", "fr"), active="active" in form)


def _form_context(db):
    return {"roles": ROLES, "tutors": services.list_users(db, "tutor"), "certifications": certifications(db),
            "cohorts": list(db.scalars(select(Cohort).order_by(Cohort.name)))}


@bp.get("/admin/users")
@requires("admin")
def users():
    db = session()
    role = request.args.get("role") or None
    return render_template("auth/users.html", users=services.list_users(db, role), role=role, roles=ROLES)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@requires("admin")
def new_user():
    db = session()
    error = None
    if request.method == "POST":
        try:
            user = services.create_user(db, _user_input(request.form))
        except DomainError as exc:
            db.rollback()
            error = exc
        else:
            flash(f"Utilisateur {user.username} créé.", "success")
            return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", user=None, form=request.form, error=error,
                           **_form_context(db)), (error.status if error else 200)


@bp.route("/admin/users/<username>", methods=["GET", "POST"])
@requires("admin")
def edit_user(username: str):
    db = session()
    user = services.get_user(db, username)
    error = None
    if request.method == "POST":
        try:
            data = _user_input(request.form)
            if not data.active:
                services.set_active(db, current_user, user, False)
            services.update_user(db, user, data)
        except DomainError as exc:
            db.rollback()
            error = exc
        else:
            flash(f"Utilisateur {user.username} enregistré.", "success")
            return redirect(url_for("auth.users"))
    tokens = list(db.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))
    return render_template("auth/user_form.html", user=user, form=request.form, error=error, tokens=tokens,
                           **_form_context(db)), (error.status if error else 200)
