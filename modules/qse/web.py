"""Shared plumbing of the QSE pages: the blueprints, labels for templates, the acting user."""
from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from modules.qse import models
from shopfloor import validation as v
from shopfloor.api import api_blueprint

bp = Blueprint("qse", __name__, url_prefix="/qse", template_folder="templates")
api = api_blueprint("qse_api", "/qse")


@bp.record_once
def _globals(state):
    state.app.jinja_env.globals.update(
        qse_labels={"source": models.NC_SOURCES, "severity": models.NC_SEVERITIES,
                    "requirement": models.NC_REQUIREMENTS, "status": models.NC_STATUSES,
                    "audit_type": models.AUDIT_TYPES, "finding": models.FINDING_KINDS,
                    "risk_category": models.RISK_CATEGORIES, "risk_kind": models.RISK_KINDS,
                    "event": models.EVENT_KINDS, "domain": models.REG_DOMAINS, "compliance": models.REG_COMPLIANCE,
                    "axis": models.POLICY_AXES, "objective_status": models.OBJECTIVE_STATUSES,
                    "frequency": models.FREQUENCIES, "direction": models.DIRECTIONS, "visual": models.VISUALS,
                    "party_priority": models.PARTY_PRIORITIES})


def user():
    return current_user._get_current_object()


def page_arg() -> int:
    return v.page_number(request.args)
