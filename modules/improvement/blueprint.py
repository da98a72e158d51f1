"""The blueprint of the improvement pages (every views_*.py adds its routes to it) and the upload limit."""
from __future__ import annotations

from flask import Blueprint, current_app
from flask_login import current_user

from modules.improvement import actions as action_rules
from modules.improvement.ideas import IDEA_LABELS
from modules.improvement.models import CATEGORY_LABELS

bp = Blueprint("improvement", __name__, url_prefix="/improvement", template_folder="templates")


@bp.record_once
def _globals(state):
    state.app.jinja_env.globals.update(
        action_status_labels=action_rules.STATUS_LABELS, pdca_labels=action_rules.PDCA_LABELS,
        action_kind_labels=action_rules.KIND_LABELS, cause_family_labels=CATEGORY_LABELS, idea_labels=IDEA_LABELS)


def user():
    return current_user._get_current_object()


def upload_limit() -> int:
    return current_app.config["UPLOAD_MAX_BYTES"]
