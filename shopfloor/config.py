"""Configuration read from the environment, with safe defaults for a single machine.

Every SHOPFLOOR_* value is checked when the app is built: a value that cannot be used stops the
start with a ConfigError naming the variable and what it takes, never a traceback."""
from __future__ import annotations

import importlib
import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

# Import paths of the installed modules, in load order; each module issue adds its own.
DEFAULT_MODULES: tuple[str, ...] = ("modules.improvement", "modules.stock", "modules.maintenance", "modules.qse", "dashboards")


class ConfigError(Exception):
    """A SHOPFLOOR_* variable whose value cannot be used; the message names it."""


def _number(name: str, default: float, minimum: float, maximum: float, whole: bool = True) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    refusal = ConfigError(f"{name} doit être {'un nombre entier' if whole else 'un nombre'} entre "
                          f"{_shown(minimum)} et {_shown(maximum)} (reçu « {raw} »).")
    try:
        value = int(raw) if whole else float(raw.replace(",", "."))
    except ValueError:
        raise refusal from None
    if not minimum <= value <= maximum:   # also refuses nan
        raise refusal
    return value


def _shown(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number).replace(".", ",")


def _flag(name: str) -> bool:
    raw = os.environ.get(name, "0").strip()
    if raw not in ("0", "1", ""):
        raise ConfigError(f"{name} vaut 0 ou 1 (reçu « {raw} »).")
    return raw == "1"


def base_url() -> str:
    """SHOPFLOOR_PUBLIC_URL (or its older name SHOPFLOOR_BASE_URL): the address people reach the
    suite at, http(s) with a host, without a query or a fragment."""
    name = "SHOPFLOOR_PUBLIC_URL" if os.environ.get("SHOPFLOOR_PUBLIC_URL", "").strip() else "SHOPFLOOR_BASE_URL"
    raw = os.environ.get(name, "").strip() or "http://127.0.0.1:5000"
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"{name} doit être une adresse http:// ou https:// avec un nom d'hôte, "
                          f"par exemple https://atelier.example.org (reçu « {raw} »).")
    return raw.rstrip("/")


def instance_path() -> Path:
    path = Path(os.environ.get("SHOPFLOOR_INSTANCE_PATH", "instance")).resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"SHOPFLOOR_INSTANCE_PATH : le dossier {path} ne peut pas être créé ({exc.strerror}).") from None
    return path


def database_url(instance: Path) -> str:
    raw = os.environ.get("SHOPFLOOR_DATABASE_URL", "").strip()
    if not raw:
        return f"sqlite:///{instance / 'shopfloor.db'}"
    try:
        backend = make_url(raw).get_backend_name()
    except ArgumentError:
        backend = None
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError("SHOPFLOOR_DATABASE_URL doit être une URL SQLAlchemy sqlite:/// ou "
                          "postgresql+psycopg://utilisateur:mot-de-passe@hôte/base.")
    return raw


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


def module_registration(name: str):
    """The `registration` of a module named in SHOPFLOOR_MODULES."""
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):   # the module itself, not one of its imports
            raise ConfigError(f"SHOPFLOOR_MODULES : le module « {name} » est introuvable.") from None
        raise
    if not hasattr(module, "registration"):
        raise ConfigError(f"SHOPFLOOR_MODULES : « {name} » n'est pas un module Shopfloor (pas de `registration`).")
    return module.registration


def load(overrides: dict | None = None) -> dict:
    instance = Path((overrides or {}).get("INSTANCE_PATH") or instance_path())
    instance.mkdir(parents=True, exist_ok=True)
    config = {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": database_url(instance),
        "SECRET_KEY": secret_key(instance),
        "MODULES": enabled_modules(),
        "UPLOAD_MAX_BYTES": _number("SHOPFLOOR_UPLOAD_MAX_BYTES", 10 * 1024 * 1024, 1024, 2 ** 31),
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_LOCKOUT_MINUTES": 15,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _flag("SHOPFLOOR_SECURE_COOKIES"),
        # a shared tablet: the session ends after this long without a request (checked server-side
        # by the cookie's signed timestamp), and at once on logout, password change or deactivation
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_number("SHOPFLOOR_SESSION_IDLE_HOURS", 8, 0.1, 24 * 30, whole=False)),
        "SESSION_REFRESH_EACH_REQUEST": True,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": _flag("SHOPFLOOR_SECURE_COOKIES"),
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
        "WTF_CSRF_TIME_LIMIT": None,
        "SCHEDULER_ENABLED": False,
        "EXPIRY_WARNING_DAYS": _number("SHOPFLOOR_EXPIRY_WARNING_DAYS", 30, 0, 3650),
        # the address people reach the suite at: links built outside a request (jobs, CLI, labels)
        "BASE_URL": base_url(),
    }
    config.update(overrides or {})
    return config
