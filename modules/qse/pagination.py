"""Pages of the QSE registers: one page of a query and the number of pages, in two queries."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

PAGE_SIZE = 50


@dataclass
class Page:
    rows: list
    page: int
    pages: int
    total: int


def paginate(db: Session, query, page: int, count_query=None) -> Page:
    """One page of `query` (already ordered) and the number of pages, in two queries."""
    page = max(1, page)
    total = db.scalar(count_query if count_query is not None else
                      select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    rows = list(db.scalars(query.limit(PAGE_SIZE).offset((min(page, pages) - 1) * PAGE_SIZE)).unique())
    return Page(rows, min(page, pages), pages, total)
