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


@dataclass
class Registry:
    modules: list[Module] = field(default_factory=list)

    def add(self, module: Module) -> None:
        self.modules.append(module)

    @property
    def activity_types(self) -> dict[str, ActivityType]:
        return {t.key: t for m in self.modules for t in m.activity_types}

    @property
    def jobs(self) -> list[Job]:
        return [j for m in self.modules for j in m.jobs]

    @property
    def indicators(self) -> dict[str, Indicator]:
        return {i.key: i for m in self.modules for i in m.indicators}
