"""Configuration read from the environment, with safe defaults for a single machine."""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

# Import paths of the installed modules, in load order; each module issue adds its own.
DEFAULT_MODULES: tuple[str, ...] = ("modules.improvement", "modules.stock", "modules.maintenance", "modules.qse", "dashboards")


def instance_path() -> Path:
    path = Path(os.environ.get("SHOPFLOOR_INSTANCE_PATH", "instance")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url(instance: Path) -> str:
    return os.environ.get("SHOPFLOOR_DATABASE_URL") or f"sqlite:///{instance / 'shopfloor.db'}"


def secret_key(instance: Path) -> str:
    """The key from SHOPFLOOR_SECRET_KEY, else one generated on first start and kept."""
    if key := os.environ.get("SHOPFLOOR_SECRET_KEY"):
        return key
    key_file = instance / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def enabled_modules() -> list[str]:
    """Import paths of the modules to load; SHOPFLOOR_MODULES overrides (comma-separated)."""
    raw = os.environ.get("SHOPFLOOR_MODULES")
    names = [n.strip() for n in raw.split(",")] if raw is not None else list(DEFAULT_MODULES)
    return [n for n in names if n]


def load(overrides: dict | None = None) -> dict:
    instance = Path((overrides or {}).get("INSTANCE_PATH") or instance_path())
    instance.mkdir(parents=True, exist_ok=True)
    config = {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": database_url(instance),
        "SECRET_KEY": secret_key(instance),
        "MODULES": enabled_modules(),
        "UPLOAD_MAX_BYTES": int(os.environ.get("SHOPFLOOR_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)),
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_LOCKOUT_MINUTES": 15,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SHOPFLOOR_SECURE_COOKIES", "0") == "1",
        # a shared tablet: the session ends after this long without a request (checked server-side
        # by the cookie's signed timestamp), and at once on logout, password change or deactivation
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=float(os.environ.get("SHOPFLOOR_SESSION_IDLE_HOURS", 8))),
        "SESSION_REFRESH_EACH_REQUEST": True,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": os.environ.get("SHOPFLOOR_SECURE_COOKIES", "0") == "1",
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
        "WTF_CSRF_TIME_LIMIT": None,
        "SCHEDULER_ENABLED": False,
        "EXPIRY_WARNING_DAYS": int(os.environ.get("SHOPFLOOR_EXPIRY_WARNING_DAYS", 30)),
        # the address people reach the suite at: links built outside a request (jobs, CLI, labels)
        "BASE_URL": os.environ.get("SHOPFLOOR_BASE_URL", "http://127.0.0.1:5000"),
    }
    config.update(overrides or {})
    return config
