"""The workshop screen: public, read-only, reachable only with its token, and only its boards."""
from __future__ import annotations

from flask import Blueprint, jsonify, make_response, render_template, request, url_for

from dashboards import read, screens
from shopfloor.db import session
from shopfloor import clock
from shopfloor.errors import NotFound

bp = Blueprint("dashboards_screen", __name__, template_folder="templates")
GONE = "Écran inconnu ou révoqué : demandez un nouveau lien à l'administrateur."


def _no_leak(response):
    """The token is in the URL: never send it elsewhere, never cache the board."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _boards(db, screen):
    boards = screens.screen_boards(db, screen)
    wanted = request.args.get("board", type=int)
    if "board" in request.args:
        boards = [b for b in boards if b.id == wanted]
    return boards


@bp.get("/screen/<token>")
def screen(token: str):
    db = session()
    found = screens.screen_for_token(db, token)
    if found is None or not _boards(db, found):
        raise NotFound(GONE)
    data_url = url_for("dashboards_screen.screen_data", token=token, **request.args)
    return _no_leak(make_response(render_template("dashboards/screen.html", screen=found, data_url=data_url)))


@bp.get("/screen/<token>/data")
def screen_data(token: str):
    db = session()
    found = screens.screen_for_token(db, token)
    boards = _boards(db, found) if found is not None else []
    if not boards:
        return _no_leak(jsonify({"error": {"code": "not_found", "message": GONE, "field": None}})), 404
    now = clock.now()
    today = clock.paris_day(now)
    return _no_leak(jsonify({
        "screen": {"name": found.name, "refresh_seconds": found.refresh_seconds, "cycle_seconds": found.cycle_seconds},
        "generated_at": now.isoformat(),
        "boards": [read.board_data(db, board, today, today) for board in boards]}))

