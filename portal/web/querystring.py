"""Reading list filters from the query string: anything malformed is simply ignored."""

from enum import Enum
from typing import TypeVar

E = TypeVar("E", bound=Enum)


def enum_member(enum_class: type[E], value: str | None) -> E | None:
    try:
        return enum_class(value) if value else None
    except ValueError:
        return None


def id_value(value: str | None) -> int | None:
    """A database id, or None for anything that cannot be one."""
    if not value or not value.isascii() or not value.isdigit() or len(value) >= 10:
        return None  # "²" is a digit to isdigit(), not to int()
    return int(value)
