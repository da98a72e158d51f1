"""Load the full demo with `shopfloor demo`, then open every module's main pages on it as the demo admin,
a demo tutor and a demo apprentice. Run by tests/core/test_demo_dates.py under libfaketime, one process
per date, so that the demo and every page handler see the same (faked) clock.

The database and the instance folder come from SHOPFLOOR_DATABASE_URL and SHOPFLOOR_INSTANCE_PATH.
Prints one line per failure (`FAIL <role> <status> <url> <reason>`) and a summary line
(`CHECKED <n> pages`), exits 0 when everything answered 200 with no error page, 1 otherwise.

The pages: the header's navigation as each role sees it, every parameterless HTML page of the registered
blueprints that the role may open, then one link per endpoint found on those pages (the detail pages of
the demo's records: a board, a meeting, a non-conformity, a work order, a reception…), and the screen
link the demo prints.
"""
from __future__ import annotations

import os
import re
import sys
import time
import traceback
from html import unescape
from urllib.parse import urlsplit

from click.testing import CliRunner
from jinja2 import FileSystemBytecodeCache
from werkzeug.exceptions import HTTPException

# the demo admin, the demo tutor and a demo apprentice (LOG: the stock pages are theirs)
ROLES = (("admin", "admin"), ("tutor", "tuteur"), ("apprentice", "lucas"))
# Not pages: static assets, the health probe, the login form, and the JSON API (fuzzed elsewhere).
SKIP_PREFIXES = ("/static/", "/assets/", "/api/", "/healthz", "/login", "/screen/")
ERROR_PAGE = re.compile(r"<h1>\s*(Action refusée|Erreur|Refused action|Error)\s*\(\d{3}\)")
HREF = re.compile(r"""href="([^"#]*)\"""")
# Downloads and generated documents are opened once per role, not every time a list links them.
MAX_LINKS_PER_ENDPOINT = 1


def main() -> int:
    started = time.monotonic()
    from shopfloor import clock
    from shopfloor.auth import services as auth_services
    auth_services.PASSWORD_METHOD = "pbkdf2:sha256:1"   # as in every test process: scrypt is not a matter of dates
    print(f"CLOCK {clock.now().isoformat()}")   # the (faked) clock the demo and the pages run at
    from shopfloor.cli import main as cli
    result = CliRunner().invoke(cli, ["demo"], catch_exceptions=True)
    if result.exit_code != 0:
        print("FAIL demo: `shopfloor demo` exited with", result.exit_code)
        print(result.output)
        if result.exc_info and not isinstance(result.exception, SystemExit):
            traceback.print_exception(*result.exc_info, file=sys.stdout)
        return 1
    screen_links = re.findall(r"(/screen/\S+)", result.output)
    print(f"DEMO loaded in {time.monotonic() - started:.1f} s")

    from shopfloor import create_app
    from shopfloor.demo import PASSWORDS
    app = create_app({"WTF_CSRF_ENABLED": False})
    if os.environ.get("DEMO_DATES_TEMPLATE_CACHE"):   # the dates' processes compile each template once between them
        app.jinja_env.bytecode_cache = FileSystemBytecodeCache(os.environ["DEMO_DATES_TEMPLATE_CACHE"])
    failures = checked = 0
    notes: list[str] = []
    try:
        adapter = app.url_map.bind("localhost")
        parameterless = sorted(r.rule for r in app.url_map.iter_rules()
                               if "GET" in (r.methods or ()) and not r.arguments
                               and not r.rule.startswith(SKIP_PREFIXES))
        for role, username in ROLES:
            client = app.test_client()
            answer = client.post("/login", data={"username": username, "password": PASSWORDS[role]})
            if answer.status_code != 302:
                print(f"FAIL {username} {answer.status_code} /login the demo login does not work")
                failures += 1
                continue
            seen_endpoints: dict[str, int] = {}
            visited: set[str] = set()
            queue: list[tuple[str, str | None]] = [("/", "")]
            # a parameterless page the role may not open answers 403; one it is shown a link to must answer 200
            queue += [(rule, None) for rule in parameterless]
            while queue:
                url, referrer = queue.pop(0)
                if url in visited:
                    continue
                visited.add(url)
                answer = client.get(url, follow_redirects=True)
                checked += 1
                body = answer.get_data(as_text=True) if answer.mimetype == "text/html" else ""
                if answer.status_code == 403 and referrer is None:
                    continue
                if answer.status_code == 403 and referrer not in ("", "/"):
                    # a record of someone else's listed on a shared page: not a matter of dates, reported apart
                    notes.append(f"NOTE {username} 403 {url} (linked from {referrer})")
                    continue
                problem = None
                if answer.status_code != 200:
                    problem = "not 200"
                elif ERROR_PAGE.search(body):
                    problem = "error page: " + ERROR_PAGE.search(body).group(0)
                if problem:
                    failures += 1
                    print(f"FAIL {username} {answer.status_code} {url} {problem}"
                          + (f" (linked from {referrer})" if referrer else ""))
                    continue
                for link in HREF.findall(body):
                    target = _local(unescape(link))
                    if target is None or target in visited:
                        continue
                    try:
                        endpoint, _ = adapter.match(urlsplit(target).path, method="GET")
                    except HTTPException:
                        continue
                    if seen_endpoints.get(endpoint, 0) >= MAX_LINKS_PER_ENDPOINT:
                        continue
                    seen_endpoints[endpoint] = seen_endpoints.get(endpoint, 0) + 1
                    queue.append((target, url))
        for link in screen_links:   # the workshop screen needs no login
            answer = app.test_client().get(link)
            checked += 1
            if answer.status_code != 200 or ERROR_PAGE.search(answer.get_data(as_text=True)):
                failures += 1
                print(f"FAIL screen {answer.status_code} {link}")
    finally:
        app.extensions["shopfloor_sessions"].engine.dispose()
    print("\n".join(notes))
    print(f"CHECKED {checked} pages, {failures} failures, {time.monotonic() - started:.1f} s")
    return 1 if failures else 0


def _local(link: str) -> str | None:
    """The path (and query) of a link to this site that a GET may follow, or None."""
    if not link or link.startswith(("javascript:", "mailto:", "tel:", "data:")):
        return None
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith(SKIP_PREFIXES):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


if __name__ == "__main__":
    sys.exit(main())
