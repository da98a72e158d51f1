"""A real server (waitress, in a thread) and Debian's Chromium driven by Playwright.

These tests run once, on SQLite (tests/conftest.py). The demo they are served is loaded once per
test process into a template database; each test's server gets its own copy of it."""
from __future__ import annotations

import os
import shutil
import socket
import threading
from pathlib import Path

import pytest
from waitress.server import create_server

from shopfloor import create_app
from shopfloor.demo import load_demo
from tests.conftest import NOW

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def _chromium() -> str:
    path = os.environ.get("SHOPFLOOR_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError("Chromium not found: install Debian's 'chromium' package (scripts/test does).")
    return path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=_chromium(), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _load_demo(app) -> None:
    db = app.extensions["shopfloor_sessions"].open(write=True)
    with app.app_context():
        load_demo(app, db, NOW)
    db.commit()
    db.close()


@pytest.fixture(scope="session")
def demo_template(templates, tmp_path_factory) -> Path:
    """The SQLite template with the demo loaded, as every live server had it loaded for itself."""
    folder = tmp_path_factory.mktemp("demo_template")
    path = folder / "demo.db"
    shutil.copyfile(templates.sqlite("base"), path)
    app = create_app({"INSTANCE_PATH": str(folder / "instance"), "DATABASE_URL": f"sqlite:///{path}",
                      "SECRET_KEY": "test-secret", "TESTING": True})
    _load_demo(app)
    app.extensions["shopfloor_sessions"].engine.dispose()   # the last connection checkpoints the WAL into the file
    return path


@pytest.fixture
def live_server(app_config, backend, request):
    """The suite with its demo data, served on a free loopback port (CSRF on, as in production)."""
    if backend == "sqlite":   # the test's database (not opened yet) becomes a copy of the demo template
        shutil.copyfile(request.getfixturevalue("demo_template"), app_config["DATABASE_URL"].removeprefix("sqlite:///"))
    app = create_app(dict(app_config, WTF_CSRF_ENABLED=True))
    if backend != "sqlite":
        _load_demo(app)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = create_server(app, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.close()
    server.task_dispatcher.shutdown()  # no worker is left to serve a keep-alive client once its database is gone
    app.extensions["shopfloor_sessions"].engine.dispose()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
