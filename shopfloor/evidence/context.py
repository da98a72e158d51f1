"""What the evidence pages and endpoints read from the running app."""
from __future__ import annotations

from pathlib import Path

from flask import current_app, url_for

from shopfloor.db import session
from shopfloor import clock
from shopfloor.evidence import exports
from shopfloor.evidence.models import Activity
from shopfloor.urls import link


def upload_dir() -> Path:
    return Path(current_app.instance_path) / "uploads"


def report_dir() -> Path:
    return Path(current_app.instance_path) / "reports"


def activity_types() -> dict:
    return current_app.extensions["shopfloor_registry"].activity_types


def activity_labels() -> dict[str, str]:
    return {key: t.label for key, t in activity_types().items()}


def default_competences(activity: Activity, prepared: set[str]) -> list[str]:
    """The type's default competences that belong to a certification the apprentice prepares."""
    activity_type = activity_types().get(activity.type)
    defaults = activity.proposed_competences(activity_type.default_competences if activity_type else ())
    return [code for code in defaults if code.split("-")[0] in prepared]


def activity_url(activity: Activity) -> str:
    activity_type = activity_types().get(activity.type)
    if activity_type and activity_type.url:
        return activity_type.url(activity)
    return link("evidence.activity", activity_id=activity.id)


def make_report(apprentice, certification, fmt: str, include_submitted: bool, external: bool = False):
    def photo_url(photo):
        return url_for("evidence.attachment_file", stored_name=photo.path.name, _external=external)
    return exports.make_report(session(), apprentice, certification, fmt, now=clock.now(),
                               include_submitted=include_submitted, activity_labels=activity_labels(),
                               upload_dir=upload_dir(), photo_url=photo_url)
