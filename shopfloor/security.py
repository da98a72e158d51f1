"""Browser protections on every response: a Content-Security-Policy with a per-request nonce for
scripts, framing refused, no MIME sniffing, a same-origin referrer, and the camera only where
apprentices scan or photograph.

Templates give every <script> tag `nonce="{{ csp_nonce() }}"`; inline event handlers are not
allowed (shopfloor/static/shopfloor.js handles `data-print`, `data-confirm` and `data-back`).
Styles may stay inline (`style=""` attributes, and plotly injects its own)."""
from __future__ import annotations

import base64
import hashlib
import re
import secrets

from flask import Flask, g, request
from markupsafe import Markup

# Pages that scan a code or take a photo: the camera is allowed there (same origin only).
CAMERA_PATHS = ("/stock", "/maintenance", "/qse/nonconformities", "/activities", "/improvement/standards")
# Workshop screens may be framed by a page of this same site (a signage page cycling screens).
FRAMEABLE_PATHS = ("/screen/",)
# The print button of the candidate's report (evidence/report_print.html): that page is rendered
# outside Flask and frozen as a file, so it cannot carry a nonce; its one script is allowed by hash.
REPORT_PRINT_SCRIPT = ('document.getElementById("print-report").addEventListener("click", '
                       'function () { window.print(); });')
STATIC_SCRIPT_HASHES = tuple(
    "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
    for script in (REPORT_PRINT_SCRIPT,))


def csp_nonce() -> str:
    """This request's script nonce (one per request, unguessable)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


_SCRIPT_WITHOUT_NONCE = re.compile(r"<script(?![^>]*\bnonce=)(?=[\s>])")


def with_nonce(html) -> Markup:
    """HTML made by a library (plotly's `to_html`) with this request's nonce on each <script>."""
    return Markup(_SCRIPT_WITHOUT_NONCE.sub(f'<script nonce="{csp_nonce()}"', str(html)))


def content_security_policy(nonce: str, frameable: bool) -> str:
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}' " + " ".join(STATIC_SCRIPT_HASHES),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'" if frameable else "frame-ancestors 'none'",
    ])


def init_security_headers(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.filters["with_nonce"] = with_nonce

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        path = request.path
        frameable = path.startswith(FRAMEABLE_PATHS)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "SAMEORIGIN" if frameable else "DENY")
        camera = "(self)" if path.startswith(CAMERA_PATHS) else "()"
        headers.setdefault("Permissions-Policy",
                           f"camera={camera}, microphone=(), geolocation=(), payment=(), usb=()")
        if response.mimetype == "text/html":
            headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce(), frameable))
        elif "Content-Security-Policy" not in headers:
            # JSON, files, scripts: nothing there may run or be framed
            headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
        return response
