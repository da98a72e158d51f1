"""The address of a page, inside a request or outside one (a job, the CLI, a mail, a label).

In a request it is Flask's `url_for`. Outside, the app's `BASE_URL` (SHOPFLOOR_PUBLIC_URL, the
address people reach the suite at) gives the host and path prefix, so a record's link is the
same whoever builds it."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for


def link(endpoint: str, external: bool = False, **values) -> str:
    """The URL of `endpoint` (a path unless `external`); needs an app context outside requests."""
    if has_request_context():
        return url_for(endpoint, _external=external, **values)
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path.rstrip("/") or "/",
                                       url_scheme=base.scheme or "http")
    return adapter.build(endpoint, values, force_external=external)
