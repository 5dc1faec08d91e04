"""Pages of query results that cost the same on any page size of table: one row
more than shown tells whether a next page exists, so no count of the whole table."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import request
from sqlalchemy import Select

from portal.extensions import db

PER_PAGE = 25
MAX_PAGE = 100_000


@dataclass
class Page:
    items: list[Any]
    page: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def page_number() -> int:
    """The requested page, clamped to a sane range; nonsense means page 1."""
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and 0 < int(value) <= MAX_PAGE else 1


def paginate(
    statement: Select, per_page: int = PER_PAGE, read: Callable[[Select], list] | None = None
) -> Page:
    """A page of ``statement``'s objects; or, with ``read``, of what it reads of the
    page's statement (rows of columns)."""
    page = page_number()
    statement = statement.limit(per_page + 1).offset((page - 1) * per_page)
    rows = db.session.scalars(statement).all() if read is None else read(statement)
    return Page(items=list(rows[:per_page]), page=page, has_next=len(rows) > per_page)
