"""The QSE module's blueprints: the pages under /qse and the JSON API under /api/v1/qse."""
from __future__ import annotations

from flask import Blueprint

from shopfloor.api import api_blueprint

bp = Blueprint("qse", __name__, url_prefix="/qse", template_folder="templates")
api = api_blueprint("qse_api", "/qse")
