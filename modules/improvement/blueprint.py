"""The blueprint of the improvement pages (every views_*.py adds its routes to it) and the upload limit."""
from __future__ import annotations

from flask import Blueprint, current_app

bp = Blueprint("improvement", __name__, url_prefix="/improvement", template_folder="templates")


def upload_limit() -> int:
    return current_app.config["UPLOAD_MAX_BYTES"]
