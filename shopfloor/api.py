"""JSON API plumbing: bearer-token auth, request bodies, and the OpenAPI document."""
from __future__ import annotations

import re

from flask import Blueprint, current_app, g, jsonify, request

from shopfloor.auth.permissions import requires
from shopfloor.auth.services import user_for_token
from shopfloor.db import session, utcnow
from shopfloor.errors import BadRequest
from shopfloor.validation import json_object


def api_blueprint(name: str, url_prefix: str = "") -> Blueprint:
    """A blueprint for JSON endpoints under /api/v1 (+ url_prefix); CSRF does not apply (token auth)."""
    return Blueprint(name, __name__, url_prefix="/api/v1" + url_prefix)


def load_api_user() -> None:
    """Before each /api/ request: the user behind `Authorization: Bearer <token>`, if any."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer ") and len(header) > 7:
        g.api_user = user_for_token(session(), header[7:].strip(), utcnow())


def body() -> dict:
    """The JSON object sent with the request, or a 400 naming the problem."""
    payload = request.get_json(silent=True)
    if payload is None and request.data:
        raise BadRequest("Le corps de la requête n'est pas du JSON valide.", None)
    return json_object(payload if payload is not None else {})


def doc(summary: str, *, body_schema: dict | None = None, response: dict | None = None, params: dict | None = None):
    """Attach the OpenAPI description of an endpoint to its view function."""
    def decorator(view):
        view.openapi = {"summary": summary, "body": body_schema, "response": response, "params": params or {}}
        return view
    return decorator


ERROR_SCHEMA = {"type": "object", "properties": {"error": {"type": "object", "properties": {
    "code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": ["string", "null"]}}}}}


def openapi_document() -> dict:
    paths: dict = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        view = current_app.view_functions[rule.endpoint]
        spec = getattr(view, "openapi", None) or getattr(getattr(view, "__wrapped__", None), "openapi", {})
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            op = {"summary": spec.get("summary", rule.endpoint), "operationId": f"{rule.endpoint}_{method.lower()}",
                  "security": [{"bearer": []}], "responses": {
                      "200": {"description": "OK", "content": {"application/json": {"schema": spec.get("response") or {"type": "object"}}}},
                      "4XX": {"description": "Error", "content": {"application/json": {"schema": ERROR_SCHEMA}}}}}
            params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in rule.arguments]
            params += [{"name": n, "in": "query", "required": False, "schema": s} for n, s in spec.get("params", {}).items()]
            if params:
                op["parameters"] = params
            if spec.get("body") and method in ("POST", "PATCH", "PUT"):
                op["requestBody"] = {"required": True, "content": {"application/json": {"schema": spec["body"]}}}
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.0.3",
        "info": {"title": "Shopfloor API", "version": "1"},
        "servers": [{"url": "/"}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": dict(sorted(paths.items())),
    }


core_api = api_blueprint("core_api")


@core_api.get("/me")
@requires()
@doc("The user behind the token", response={"type": "object", "properties": {
    "username": {"type": "string"}, "role": {"type": "string"}, "certifications": {"type": "array"}}})
def me():
    user = g.api_user
    return jsonify({"username": user.username, "full_name": user.full_name, "role": user.role,
                    "certifications": user.certification_codes,
                    "tutor": user.tutor.username if user.tutor else None})
