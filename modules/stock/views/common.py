"""What every stock page shares: the one page blueprint, the roles, paging."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, request

from shopfloor import validation as v

bp = Blueprint("stock", __name__, url_prefix="/stock", template_folder=str(Path(__file__).parent.parent / "templates"))
PAGE = 50
EVERYONE = ALL = ("admin", "tutor", "apprentice")


def page_number() -> int:
    return v.page_number(request.args)

