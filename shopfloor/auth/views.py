"""Login, logout, language, and the admin's user pages."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import unquote, urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session as cookie, url_for
from flask_login import login_user, logout_user
from sqlalchemy import select

from shopfloor import clock
from shopfloor.auth import services
from shopfloor.auth.models import ROLES, ApiToken, Cohort, User
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.db import session, side_transaction
from shopfloor.errors import DomainError
from shopfloor.forms import form_handler
from shopfloor.referential.services import certifications
from shopfloor.validation import parse_date

bp = Blueprint("auth", __name__)


def is_safe_path(target: str | None) -> bool:
    """A relative path on this site: one leading slash, no scheme or host, no backslash, no control,
    format (zero-width…) or whitespace character — checked on the text as given and once and twice percent-decoded."""
    if not target or len(target) > 2000:
        return False
    candidates = [target, unquote(target), unquote(unquote(target))]
    for text in candidates:
        if not text.startswith("/") or text.startswith("//") or "\\" in text:
            return False
        if any(c.isspace() or not c.isprintable() for c in text):
            return False
        parts = urlsplit(text)
        if parts.scheme or parts.netloc:
            return False
    return True


def _safe_next(target: str | None) -> str:
    return target if is_safe_path(target) else url_for("web.home")


def client_address() -> str | None:
    return request.remote_addr


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("auth/login.html", error=None)
    db = session()
    # The attempt commits apart, whatever the answer: a refused login keeps its failure count,
    # its lock-out and its audit line although the request answers an error.
    with side_transaction(db) as attempt:
        try:
            user_id = services.authenticate(
                attempt, request.form.get("username", ""), request.form.get("password", ""), clock.now(),
                max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                lockout=timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"]),
                address=client_address()).id
        except DomainError as error:
            refused = error
        else:
            refused = None
    if refused is not None:
        return render_template("auth/login.html", error=refused), refused.status
    cookie.clear()  # a new session: nothing carried over from before the login
    cookie.permanent = True  # expires after SESSION_IDLE_HOURS without a request
    login_user(db.get(User, user_id))
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/logout")
def logout():
    """Ends every session of this user (a copied cookie dies too); API tokens keep working."""
    user = current_actor()
    if user is not None:
        db = session()
        services.end_sessions(db, user)
        services.audit(db, "logout", clock.now(), actor=user, subject=user, address=client_address())
    logout_user()
    cookie.clear()
    return redirect(url_for("auth.login"))


def _password_page(error: DomainError | None = None) -> str:
    return render_template("auth/password.html", error=error)


@bp.route("/account/password", methods=["GET", "POST"])
@requires()
@form_handler(_password_page)
def change_password():
    if request.method == "GET":
        return _password_page()
    actor = current_actor()
    services.change_password(session(), actor, request.form.get("current_password", ""),
                             request.form.get("password", ""), clock.now(), client_address())
    if request.form.get("password") != request.form.get("confirm"):
        raise services.ValidationError("Les deux saisies du nouveau mot de passe diffèrent.", "confirm")
    login_user(actor)  # this session goes on with the new version
    flash("Mot de passe changé : vos autres sessions sont fermées.", "success")
    return redirect(url_for("web.home"))


@bp.post("/language")
@requires()
def language():
    services.set_locale(session(), current_actor(), request.form.get("locale", ""))
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


def _new_user_page(error: DomainError | None = None) -> str:
    return render_template("auth/user_form.html", user=None, form=request.form, error=error,
                           **_form_context(session()))


@bp.route("/admin/users/new", methods=["GET", "POST"])
@requires("admin")
@form_handler(_new_user_page)
def new_user():
    if request.method == "GET":
        return _new_user_page()
    user = services.create_user(session(), _user_input(request.form), actor=current_actor(), now=clock.now(),
                                address=client_address())
    flash(f"Utilisateur {user.username} créé.", "success")
    return redirect(url_for("auth.users"))


def _user_page(username: str, error: DomainError | None = None) -> str:
    db = session()
    user = services.get_user(db, username)
    tokens = list(db.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))
    return render_template("auth/user_form.html", user=user, form=request.form, error=error, tokens=tokens,
                           **_form_context(db))


@bp.route("/admin/users/<username>", methods=["GET", "POST"])
@requires("admin")
@form_handler(_user_page)
def edit_user(username: str):
    if request.method == "GET":
        return _user_page(username)
    db, actor = session(), current_actor()
    user = services.get_user(db, username)
    services.update_user(db, user, _user_input(request.form), actor=actor, now=clock.now(),
                         address=client_address())
    if user.id == actor.id:
        login_user(user)  # one's own new password: this session goes on, the others end
    flash(f"Utilisateur {user.username} enregistré.", "success")
    return redirect(url_for("auth.users"))


@bp.get("/admin/audit")
@requires("admin")
def audit():
    """The audit trail: log-ins, lock-outs, user and role changes, tokens, deactivations."""
    db = session()
    args = request.args
    since = parse_date(args["since"], "since") if args.get("since") else None
    until = parse_date(args["until"], "until") if args.get("until") else None
    events = services.audit_events(db, kind=args.get("kind") or None, username=args.get("username") or None,
                                   since=clock.day_bounds(since)[0] if since else None,
                                   until=clock.day_bounds(until)[1] if until else None)
    return render_template("auth/audit.html", events=events, kinds=services.AUDIT_KINDS, filters=args)
