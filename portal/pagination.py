"""Reading paging parameters without trusting them."""

from flask import request

PER_PAGE = 25


def page_number() -> int:
    """The requested page, clamped to a sane range; nonsense means page 1."""
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and 0 < int(value) <= 100_000 else 1
