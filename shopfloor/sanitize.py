"""Hostile input stopped at the door, for every page and endpoint alike.

- Path ids: the app's `int` URL converter refuses values outside the id columns' range (32-bit
  Integer, never more than 64 bits), so `/…/<int:id>` with 2^63 is a plain 404 instead of an
  overflow in the database driver.
- Text: a path, query-string, form or JSON string (a JSON key too) holding a NUL byte or a lone
  surrogate is refused with a 400 naming the field, before any view reads it: neither
  database can store those characters, and no honest client sends them.
"""
from __future__ import annotations

from flask import Flask, request
from werkzeug.routing import IntegerConverter
from werkzeug.routing import ValidationError as NoMatch

from shopfloor.errors import BadRequest
from shopfloor.validation import ID_MAX, INT64_MAX, UNSAFE_TEXT, unsafe_text

MAX_JSON_DEPTH = 64


class Int64Converter(IntegerConverter):
    """`<int:…>` limited to what an id column can hold (beyond it: no route, a 404). Never more
    than 64 bits; and since every id column of the suite is an Integer (32 bits on PostgreSQL,
    where comparing it with a larger number is a DataError), ID_MAX by default."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = ID_MAX,
                 signed: bool = False) -> None:
        bound = INT64_MAX if max is None or max > INT64_MAX else max
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=bound, signed=signed)

    def to_python(self, value: str):
        if len(value.lstrip("-")) > 19:  # more digits than 2^63: not an id (and int() would be slow)
            raise NoMatch()
        return super().to_python(value)


def init_app(app: Flask) -> None:
    """Install both guards; call before any blueprint is registered (rules bind their converters)."""
    app.url_map.converters["int"] = Int64Converter
    app.before_request(check_request_text)


def _check(field: str, value: str) -> None:
    reason = unsafe_text(value)
    if reason:
        shown = UNSAFE_TEXT.sub("\ufffd", field)[:80]  # the name itself may be the hostile string
        raise BadRequest(f"Le champ « {shown} » contient {reason}.", shown)


def _walk(value, path: str, depth: int = 0) -> None:
    if depth > MAX_JSON_DEPTH:
        raise BadRequest("Le corps de la requête est imbriqué trop profondément.", path or None)
    if isinstance(value, str):
        _check(path or "body", value)
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if isinstance(key, str):
                _check(name, key)
            _walk(item, name, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, f"{path}[{index}]", depth + 1)


def check_request_text() -> None:
    """Before every request: no NUL or lone surrogate in the path, query string, form or JSON body."""
    for key, value in (request.view_args or {}).items():
        if isinstance(value, str):
            _check(key, value)
    for source in (request.args, request.form):
        for key, values in source.lists():
            _check(key, key)
            for value in values:
                _check(key, value)
    for key, upload in request.files.items(multi=True):
        if upload.filename:
            _check(key, upload.filename)
    if request.is_json:
        _walk(request.get_json(silent=True), "")
