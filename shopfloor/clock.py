"""The one clock: what time it is, the Paris day, and the bounds of days and months.

Handlers, jobs and the CLI read time from `now()`; services take `now` as an argument.
Tests set the time in one place with `frozen(moment)`."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable, Iterator
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

_source: Callable[[], datetime] | None = None


def now() -> datetime:
    """The current moment, aware UTC (or the frozen moment under `frozen`)."""
    return _source() if _source is not None else datetime.now(timezone.utc)


@contextmanager
def frozen(moment: datetime | Callable[[], datetime]) -> Iterator[None]:
    """Within the block, `now()` answers `moment` (or calls it when it is a function)."""
    global _source
    if isinstance(moment, datetime) and moment.tzinfo is None:
        raise ValueError("frozen() needs an aware datetime")
    previous = _source
    _source = moment if callable(moment) else (lambda: moment)
    try:
        yield
    finally:
        _source = previous


def paris_day(moment: datetime | None = None) -> date:
    """The calendar day in Paris at `moment` (default: now)."""
    return (moment or now()).astimezone(PARIS).date()


def paris_midnight(day: date) -> datetime:
    """00:00 in Paris on `day`, aware."""
    return datetime.combine(day, time(), PARIS)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a Paris day, aware UTC: 23 or 25 hours on the days clocks change."""
    return (paris_midnight(day).astimezone(timezone.utc),
            paris_midnight(day + timedelta(days=1)).astimezone(timezone.utc))


def days_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[start, end) of the Paris days first..last, aware UTC."""
    return day_bounds(first)[0], day_bounds(last)[1]


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month_start(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def month_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of the Paris month holding `day`, aware UTC."""
    return day_bounds(month_start(day))[0], day_bounds(next_month_start(day))[0]
