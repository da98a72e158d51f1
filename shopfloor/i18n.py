"""Languages: French by default (the source strings), English from a shipped catalogue.

The .po catalogues are the source; their compiled .mo files are build products, made
into the instance folder at start-up when missing or older than the catalogue."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import request
from flask_login import current_user

LOCALES = ("fr", "en")


def compile_translations(instance_path: str) -> str:
    target_root = Path(instance_path) / "translations"
    source_root = resources.files("shopfloor") / "translations"
    for locale in LOCALES:
        source = source_root / locale / "LC_MESSAGES" / "messages.po"
        if not source.is_file():
            continue
        target = target_root / locale / "LC_MESSAGES" / "messages.mo"
        source_path = Path(str(source))
        if target.exists() and target.stat().st_mtime >= source_path.stat().st_mtime:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with source_path.open("rb") as po:
            catalog = read_po(po, locale=locale)
        tmp = target.with_suffix(".tmp")
        with tmp.open("wb") as mo:
            write_mo(mo, catalog)
        tmp.replace(target)
    return str(target_root)


def select_locale() -> str:
    if current_user and current_user.is_authenticated:
        return current_user.locale
    return request.accept_languages.best_match(LOCALES) or "fr"
