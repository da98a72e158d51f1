"""The notifications page, its JSON twin, and the unread count shown in the header."""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for

from shopfloor import validation as v
from shopfloor.api import INTEGER, STRING, api_blueprint, array, body, doc, nullable, record
from shopfloor.auth.permissions import current_actor, requires
from shopfloor.db import session
from shopfloor import clock
from shopfloor.notifications import services

bp = Blueprint("notifications", __name__, template_folder="templates")
api = api_blueprint("notifications_api", "/notifications")


@bp.app_context_processor
def _unread():
    def unread_notifications() -> int:
        actor = current_actor()
        return services.unread_count(session(), actor) if actor is not None else 0
    return {"unread_notifications": unread_notifications}


@bp.get("/notifications")
@requires()
def index():
    actor = current_actor()
    return render_template("notifications/index.html", notifications=services.recent(session(), actor))


@bp.post("/notifications/read")
@requires()
def read_all():
    count = services.mark_read(session(), current_actor(), clock.now())
    flash(f"{count} notification(s) marquée(s) comme lue(s).", "success")
    return redirect(url_for("notifications.index"))


def _as_dict(n) -> dict:
    return {"id": n.id, "key": n.key, "message": n.message, "url": n.url,
            "created_at": n.created_at.isoformat(), "read_at": n.read_at.isoformat() if n.read_at else None}


@api.get("")
@requires()
@doc("My notifications, newest first (?unread=1 for unread only)",
     params={"unread": {"type": "boolean"}},
     response=record({"unread": INTEGER, "notifications": array(record({
         "id": INTEGER, "key": STRING, "message": STRING, "url": STRING, "created_at": STRING,
         "read_at": nullable(STRING)}))}))
def api_list():
    db, actor = session(), current_actor()
    rows = services.recent(db, actor, unread_only=v.boolean(request.args, "unread"))
    return jsonify({"unread": services.unread_count(db, actor), "notifications": [_as_dict(n) for n in rows]})


@api.post("/read")
@requires()
@doc("Mark one notification ({\"id\": n}) or all of mine ({}) read",
     body_schema={"type": "object", "properties": {"id": {"type": "integer"}}},
     response=record({"marked": INTEGER}))
def api_read():
    notification_id = v.identifier(body(), "id", required=False)
    return jsonify({"marked": services.mark_read(session(), current_actor(), clock.now(), notification_id)})
