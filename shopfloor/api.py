"""JSON API plumbing: bearer-token auth, request bodies, and the OpenAPI document."""
from __future__ import annotations

import re

from flask import Blueprint, current_app, g, jsonify, request

from shopfloor.auth.permissions import current_actor, requires
from shopfloor.auth.services import user_for_token
from shopfloor.db import session
from shopfloor import clock
from shopfloor.errors import BadRequest
from shopfloor.validation import ID_MAX, json_object


def api_blueprint(name: str, url_prefix: str = "") -> Blueprint:
    """A blueprint for JSON endpoints under /api/v1 (+ url_prefix); CSRF does not apply (token auth)."""
    return Blueprint(name, __name__, url_prefix="/api/v1" + url_prefix)


def load_api_user() -> None:
    """Before each /api/ request: the user behind `Authorization: Bearer <token>`, if any."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer ") and len(header) > 7:
        g.api_user = user_for_token(session(), header[7:].strip(), clock.now())


def body() -> dict:
    """The JSON object sent with the request, or a 400 naming the problem."""
    payload = request.get_json(silent=True)
    if payload is None and request.data:
        raise BadRequest("Le corps de la requête n'est pas du JSON valide.", None)
    return json_object(payload if payload is not None else {})


def doc(summary: str, *, body_schema: dict | None = None, response: dict | None = None, params: dict | None = None,
        status: int = 200, media: dict | None = None, methods: dict | None = None,
        body_media: str = "application/json"):
    """Attach the OpenAPI description of an endpoint to its view function.

    `status` is the code of a success (201 for a creation, 204 for no body), `response` the schema of its JSON
    body, `media` the body by content type when it is not JSON (a file). `params` are the query parameters,
    and the schemas of path parameters that are not integers (`<int:…>` ones are 64-bit integers). `methods`
    overrides any of these for one method of a route that has several ({"GET": {"response": …}}).
    `body_media` is the content type of the request body (multipart/form-data for an upload)."""
    def decorator(view):
        view.openapi = {"summary": summary, "body": body_schema, "response": response, "params": params or {},
                        "status": status, "media": media, "methods": methods or {}, "body_media": body_media}
        return view
    return decorator


STRING, INTEGER, NUMBER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "boolean"}
OBJECT, ARRAY = {"type": "object"}, {"type": "array"}


def nullable(schema: dict) -> dict:
    """The same schema, or null."""
    return {**schema, "type": [schema["type"], "null"]}


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


def record(properties: dict, optional: tuple = ()) -> dict:
    """A response object: every property is always there (but the optional ones), others may be added."""
    return {"type": "object", "required": [name for name in properties if name not in optional],
            "properties": properties}



ID = {"type": "integer", "minimum": 1, "maximum": ID_MAX}  # what the <int:> converter routes (sanitize.py)
ERROR_SCHEMA = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message", "field"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string", "nullable": True}}}}}


# What the request sanitiser lets through (shopfloor.validation.UNSAFE_TEXT): no NUL, no control character
# but tab and line breaks, no lone surrogate (JSON cannot carry one anyway).
SAFE_TEXT = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\ufffe\\uffff]*$"


def _openapi_schema(schema, request: bool = False):
    """JSON Schema as written in the doc() calls → OpenAPI 3.0: `"type": [T, "null"]` becomes nullable.
    In a request, a free string says which characters it may hold."""
    if isinstance(schema, list):
        return [_openapi_schema(item, request) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if request and "string" in (schema.get("type") if isinstance(schema.get("type"), list) else [schema.get("type")]) \
            and not {"format", "enum", "pattern"} & set(schema):
        schema = {**schema, "pattern": SAFE_TEXT}
    out = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, list):
            kinds = [kind for kind in value if kind != "null"]
            if len(kinds) < len(value):
                out["nullable"] = True
            if len(kinds) == 1:
                out["type"] = kinds[0]
            else:
                out.setdefault("anyOf", [{"type": kind} for kind in kinds])
        elif key in ("properties", "patternProperties"):
            out[key] = {name: _openapi_schema(sub, request) for name, sub in value.items()}
        elif key in ("example", "enum", "required", "default"):
            out[key] = value
        else:
            out[key] = _openapi_schema(value, request)
    return out


def _path_parameter(rule, name: str, spec: dict) -> dict:
    converter = rule._converters.get(name)
    if name in spec.get("params", {}):
        schema = spec["params"][name]
    elif type(converter).__name__.lower().startswith("int"):
        schema = dict(ID, minimum=0)
    else:
        schema = {"type": "string", "minLength": 1, "pattern": SAFE_TEXT.replace("[^", "[^/").replace("*$", "+$")}
    return {"name": name, "in": "path", "required": True, "schema": _openapi_schema(schema, request=True)}


def _links(operations: dict) -> None:
    """OpenAPI links from each creation (201 with an id) to the operations on what it created:
    POST /x → GET/PATCH/POST /x/{x_id}…, the new parameter read from the created body."""
    for (path, method), op in operations.items():
        created = op["responses"].get("201", {}).get("content", {}).get("application/json", {}).get("schema", {})
        properties = created.get("properties", {})
        links = {}
        for (other_path, other_method), other in operations.items():
            match = re.fullmatch(re.escape(path) + r"/\{([^}]+)\}(?:/.*)?", other_path)
            if not match:
                continue
            name = match.group(1)
            if name in properties:
                source = name
            elif name.endswith("_id") and "id" in properties:
                source = "id"
            else:
                continue
            parameters = {name: f"$response.body#/{source}"}
            for earlier in re.findall(r"\{([^}]+)\}", path):
                parameters[earlier] = f"$request.path.{earlier}"
            if set(re.findall(r"\{([^}]+)\}", other_path)) != set(parameters):
                continue
            links[other["operationId"]] = {"operationId": other["operationId"], "parameters": parameters}
        if links:
            op["responses"]["201"]["links"] = links


def openapi_document() -> dict:
    operations: dict = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        view = current_app.view_functions[rule.endpoint]
        route_spec = getattr(view, "openapi", None) or getattr(getattr(view, "__wrapped__", None), "openapi", {})
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            spec = {**route_spec, **route_spec.get("methods", {}).get(method, {})}
            status = spec.get("status", 200)
            if status == 201 and method != "POST":   # GET and DELETE of a route that creates with POST
                status = 200
            success = {"description": {200: "OK", 201: "Created", 204: "No content"}.get(status, "OK")}
            if spec.get("media"):
                success["content"] = {kind: {"schema": _openapi_schema(schema)} for kind, schema in spec["media"].items()}
            elif status != 204:
                success["content"] = {"application/json": {"schema": _openapi_schema(spec.get("response")
                                                                                     or {"type": "object"})}}
            op = {"summary": spec.get("summary", rule.endpoint), "operationId": f"{rule.endpoint}_{method.lower()}",
                  "security": [{"bearer": []}], "responses": {
                      str(status): success,
                      "4XX": {"description": "Error", "content": {"application/json": {"schema": ERROR_SCHEMA}}}}}
            params = [_path_parameter(rule, name, spec) for name in sorted(rule.arguments)]
            params += [{"name": n, "in": "query", "required": False, "schema": _openapi_schema(s, request=True)}
                       for n, s in spec.get("params", {}).items() if n not in rule.arguments]
            if params:
                op["parameters"] = params
            if spec.get("body") and method in ("POST", "PATCH", "PUT"):
                media_type = spec.get("body_media", "application/json")
                op["requestBody"] = {"required": True,
                                     "content": {media_type: {"schema": _openapi_schema(spec["body"], request=True)}}}
            operations[(path, method.lower())] = op
    _links(operations)
    paths: dict = {}
    for (path, method), op in sorted(operations.items()):
        paths.setdefault(path, {})[method] = op
    return {
        "openapi": "3.0.3",
        "info": {"title": "Shopfloor API", "version": "1"},
        "servers": [{"url": "/"}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    }


core_api = api_blueprint("core_api")


@core_api.get("/me")
@requires()
@doc("The user behind the token", response=record({
    "username": STRING, "full_name": STRING, "role": {"type": "string", "enum": ["admin", "tutor", "apprentice"]},
    "certifications": array(STRING), "tutor": nullable(STRING)}))
def me():
    user = current_actor()
    return jsonify({"username": user.username, "full_name": user.full_name, "role": user.role,
                    "certifications": user.certification_codes,
                    "tutor": user.tutor.username if user.tutor else None})
