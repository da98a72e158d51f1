"""The one shape of an HTML form handler.

load → authorise → parse → call the service → redirect; on a domain error, roll back the
request's transaction and re-render the same page with the error and its status (never a
redirect with a 4xx: browsers do not follow it). Raw input is parsed in handlers (with
shopfloor.validation); services take typed values."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from functools import wraps
from typing import Callable

from flask import current_app, g
from flask_babel import gettext

from shopfloor.errors import DomainError


def rollback() -> None:
    """Undo what the request wrote so far (the page re-rendered after an error reads clean state)."""
    db = g.get("db_session")
    if db is not None:
        db.rollback()


def form_handler(render: Callable[..., str]):
    """Decorate a POST view: a DomainError it raises re-renders the page.

    `render(error=…, **view_kwargs)` gives the page's HTML, typically the function the GET view
    uses; the template shows `error` (its message and field) and the posted `request.form`.
    The response carries the error's status (422, 404, 409…)."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except DomainError as error:
                rollback()
                return render(*args, error=error, **kwargs), error.status
        return wrapped
    return decorator


def on_error(render: Callable[[DomainError], str], action: Callable[[], object]):
    """The same shape inline, when the page to re-render depends on what the handler loaded."""
    try:
        return action()
    except DomainError as error:
        rollback()
        return render(error), error.status


# A label the templates write as `<label>{{ _("Quantité") }} <input name="qty">` or
# `<label for="x">{{ _("…") }}</label> … id="x" … name="qty"` or `<input name="qty" aria-label="{{ _('…') }}">`.
_WRAPPING_LABEL = re.compile(r'<label[^>]*>\s*\{\{\s*_\("([^"]+)"\)\s*\}\}[^<]{0,20}'
                             r'<(?:input|select|textarea)[^>]*?\bname="([a-z_]+)"', re.S)
_FOR_LABEL = re.compile(r'<label[^>]*\bfor="([^"]+)"[^>]*>\s*\{\{\s*_\("([^"]+)"\)\s*\}\}')
_ARIA_LABEL = re.compile(r'<(?:input|select|textarea)[^>]*?\bname="([a-z_]+)"[^>]*?\baria-label="\{\{\s*_\(\'([^\']+)\'\)')
_ROW_FIELD = re.compile(r"^(\w+)\[(\d+)\]\.(\w+)$")   # rows[0].threshold


def _labels_in(source: str) -> list[tuple[str, str]]:
    pairs = [(name, label) for label, name in _WRAPPING_LABEL.findall(source)] + _ARIA_LABEL.findall(source)
    for element_id, label in _FOR_LABEL.findall(source):
        escaped = re.escape(element_id)
        named = re.search(rf'id="{escaped}"[^>]*?\bname="([a-z_]+)"|name="([a-z_]+)"[^>]*?\bid="{escaped}"', source)
        if named:
            pairs.append((named.group(1) or named.group(2), label))
    return pairs


def _field_labels() -> dict[str, str]:
    """Field name → the label the forms show for it (the most used one), read from the templates
    themselves once per app, so a message names a field as the page does."""
    labels = current_app.extensions.get("shopfloor.field_labels")
    if labels is None:
        seen: defaultdict[str, Counter] = defaultdict(Counter)
        env = current_app.jinja_env
        for name in env.list_templates(extensions=["html"]):
            source, _, _ = env.loader.get_source(env, name)
            for field, label in _labels_in(source):
                seen[field][label] += 1
        labels = {field: counts.most_common(1)[0][0] for field, counts in seen.items()}
        current_app.extensions["shopfloor.field_labels"] = labels
    return labels


def field_label(field: str) -> str:
    """The field as its form labels it, in the page's language: `qty` → « Quantité »,
    `rows[0].threshold` → « Seuil d'alerte (ligne 1) »; a name no form labels stays as it is."""
    row = _ROW_FIELD.match(field)
    if row:
        return gettext("%(field)s (ligne %(number)s)", field=field_label(row.group(3)),
                       number=int(row.group(2)) + 1)
    label = _field_labels().get(field)
    # the templates' _() formats every string, so their labels write « % » as « %% »
    return gettext(label).replace("%%", "%") if label else field


def error_text(error: DomainError) -> str:
    """The error as a page shows it, its field named by the label: « Le champ « Quantité » doit
    être un nombre. » (the parsers write the machine name, which the API keeps in `field`)."""
    if not error.field:
        return error.message
    label = field_label(error.field)
    machine_name = f"« {error.field} »"
    if machine_name in error.message:
        return error.message.replace(machine_name, f"« {label} »")
    return f"{gettext('Vérifiez le champ')} « {label} » : {error.message}"
