"""Per-process caches of reads whose answer a key settles for good.

A ledger only grows, and an entry never changes once written: the balance curve of a
range of positions, or the last entry before a date that is already past, are the
same on every later request. Such a read is kept here under a key that holds
everything its answer depends on, the session's binding (tenant and client
visibility) first, so that two users who see different rows never share an answer.
The caller loads the record through the scoped session before it asks, as it would
before reading it: a key is only ever built from what the user may already see.

Each cache is bounded (least recently used goes first) and belongs to the application
(``app.extensions``), so that a process serving one application keeps one set, and a
test's fresh database never meets an earlier test's answers.
"""

import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

from cachetools import LRUCache
from flask import current_app

from portal.extensions import db
from portal.tenancy import binding

T = TypeVar("T")
EXTENSION = "portal.read_caches"
#: Answers kept per cache: a balance curve is some 150 small tuples.
MAX_ENTRIES = 512


def remember(
    name: str,
    key: tuple[Hashable, ...],
    read: Callable[[], T],
    fresh: Callable[[T], bool] | None = None,
    most: int = MAX_ENTRIES,
) -> T:
    """``read()``'s answer under ``key`` and the session's binding, read once; or again
    when ``fresh`` says the kept one no longer holds (an answer valid until a date).
    ``most`` bounds the cache named ``name``, set by its first use."""
    caches, lock = current_app.extensions.setdefault(EXTENSION, ({}, threading.Lock()))
    full_key = (binding(db.session), *key)
    with lock:
        cache = caches.setdefault(name, LRUCache(most))
        found = cache.get(full_key, _MISSING)
    if found is not _MISSING and (fresh is None or fresh(found)):
        return found
    answer = read()
    with lock:
        cache[full_key] = answer
    return answer


_MISSING = object()
