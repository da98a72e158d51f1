"""The ISO standards an audit follows (shipped as data): read by the audits and by the parsing of an audit."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def standards() -> dict:
    """ISO 9001:2015, 14001:2015 and 45001:2018, clauses 4 to 10 with their titles (shipped as data)."""
    return json.loads((Path(__file__).parent / "clauses.json").read_text(encoding="utf-8"))


def clause_titles(keys) -> dict[str, str]:
    """Clause number → title over the given standards (first standard wins a shared number)."""
    titles: dict[str, str] = {}
    for key in keys:
        for clause in standards()[key]["clauses"]:
            titles.setdefault(clause["clause"], clause["title"])
    return titles
