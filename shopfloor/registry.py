"""What a module hands the core: one registration object, walked by the app factory."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable

import click
from flask import Blueprint
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class ActivityType:
    """A kind of activity and the competences it evidences by default."""

    key: str                          # the polymorphic identity, e.g. "stock_reception"
    label: str                        # French label shown to users
    default_competences: tuple[str, ...] = ()
    url: Callable[[Any], str] | None = None   # where the module shows one activity


@dataclass(frozen=True)
class Job:
    """Scheduled work: run(session, now) must be safe to run twice."""

    name: str
    run: Callable[[Session, datetime], Any]
    minutes: int = 15                 # how often the scheduler runs it


@dataclass(frozen=True)
class Indicator:
    """An AIC board indicator computed by a module for a team or site and a day."""

    key: str
    label: str
    letter: str                       # S, Q, C, D, P or M
    unit: str
    higher_is_better: bool
    compute: Callable[[Session, date, int | None], float | None]


@dataclass(frozen=True)
class Effects:
    """What activities of some types change outside themselves, and how cancelling one reverses it.

    `describe(db, activity)` lists the effects still standing, as French phrases ([] when none):
    an activity with any cannot be deleted, only cancelled. `cancel(db, activity, cancellation)`
    reverses them in the cancellation's transaction (flush, never commit); `cancellation` carries
    `actor`, `now`, `reason` and `cancel(other)` for an activity it opened (spare parts picked).
    `types` are the activity types it concerns (() for every type); lower `order` runs first."""

    name: str
    describe: Callable[[Session, Any], list[str]]
    cancel: Callable[[Session, Any, Any], None]
    types: tuple[str, ...] = ()
    order: int = 100

    def concerns(self, activity_type: str) -> bool:
        return not self.types or activity_type in self.types


@dataclass(frozen=True)
class Origin:
    """A kind of record that can start an action or a problem sheet (a reception, a breakdown…).

    `resolve(db, id)` gives (title, url) of that record, or None when it does not exist.
    `owner(db, id)` gives the id of the activity that record belongs to (itself when it is an
    activity), or None: the freeze guard then refuses new or changed actions and new problem
    sheets whose origin is a frozen record."""

    type_key: str
    label: str
    resolve: Callable[[Session, int], "tuple[str, str] | None"]
    owner: Callable[[Session, int], "int | None"] | None = None


@dataclass(frozen=True)
class ParetoSource:
    """Counts by category over the Paris days start..end (inclusive), for a team or the whole site:
    `compute(db, start, end, team_id)` → [(category, count)]."""

    key: str
    label: str
    compute: Callable[[Session, date, date, "int | None"], "list[tuple[str, float]]"]


@dataclass
class Module:
    name: str
    label: str
    blueprints: list[Blueprint] = field(default_factory=list)
    activity_types: list[ActivityType] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    cli: click.Group | None = None
    demo: Callable[[Session, datetime], None] | None = None
    nav: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)  # (label, endpoint, roles)
    effects: list[Effects] = field(default_factory=list)  # what its activities change outside themselves
    origins: list[Origin] = field(default_factory=list)   # its records that can start an action or a sheet
    pareto_sources: list[ParetoSource] = field(default_factory=list)
    # names its templates use, reachable as {{ <module name>.<key> }} (e.g. {{ stock.count_scopes }})
    template_globals: dict[str, Any] = field(default_factory=dict)
    # views anyone may open without logging in (a screen's token page); every other view must carry
    # @requires(...): the app refuses to build otherwise
    public_endpoints: tuple[str, ...] = ()


@dataclass
class Registry:
    modules: list[Module] = field(default_factory=list)
    app: Any = None   # the Flask app it belongs to (links of records built outside a request)

    def add(self, module: Module) -> None:
        self.modules.append(module)

    def has(self, name: str) -> bool:
        """Whether the module of that name is loaded (SHOPFLOOR_MODULES) in this app."""
        return any(m.name == name for m in self.modules)

    @property
    def activity_types(self) -> dict[str, ActivityType]:
        return {t.key: t for m in self.modules for t in m.activity_types}

    @property
    def jobs(self) -> list[Job]:
        return [j for m in self.modules for j in m.jobs]

    @property
    def effects(self) -> list[Effects]:
        return sorted((e for m in self.modules for e in m.effects), key=lambda e: e.order)

    @property
    def indicators(self) -> dict[str, Indicator]:
        return {i.key: i for m in self.modules for i in m.indicators}

    @property
    def origins(self) -> dict[str, Origin]:
        return {o.type_key: o for m in self.modules for o in m.origins}

    @property
    def pareto_sources(self) -> dict[str, ParetoSource]:
        return {p.key: p for m in self.modules for p in m.pareto_sources}


def registry_of(db: Session) -> Registry:
    """The registry of the app this session belongs to (see shopfloor.db.Sessions)."""
    found = db.info.get("registry")
    if found is None:
        raise RuntimeError("session opened outside an app: no registry (open it with app.extensions['shopfloor_sessions'])")
    return found
