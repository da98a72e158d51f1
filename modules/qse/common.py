"""TODO(kit): aliases kept only for modules/qse/events.py (owned by the stock engineer), which still
imports them from here; delete this file once it imports shopfloor.clock and modules.qse.pagination."""
from modules.qse.pagination import Page, paginate  # noqa: F401  TODO(kit)
from shopfloor import clock

__all__ = ["Page", "paginate", "paris_day", "day_start", "day_range"]

paris_day = clock.paris_day  # TODO(kit)
day_start = clock.paris_midnight  # TODO(kit)
day_range = clock.days_bounds  # TODO(kit)
