"""Larger request bodies for the few views that take an upload.

``MAX_CONTENT_LENGTH`` keeps every request small. A view that takes a file declares a
larger limit with ``accepts_upload``, so that a file somewhat over its own limit reaches
the form, which says so beside the field, instead of the 413 page. The limit must be
known before anything reads the body (the CSRF check does, before the view runs): the
request reads it from the view that its URL matched.
"""

from collections.abc import Callable
from typing import TypeVar

from flask import Request, current_app

F = TypeVar("F", bound=Callable)


def accepts_upload(max_bytes: int) -> Callable[[F], F]:
    """Let the view's requests carry bodies up to ``max_bytes``."""

    def decorate(view: F) -> F:
        view.max_content_length = max_bytes
        return view

    return decorate


class PortalRequest(Request):
    @property
    def max_content_length(self) -> int | None:
        if self.url_rule is not None:
            view = current_app.view_functions.get(self.url_rule.endpoint)
            larger = getattr(view, "max_content_length", None)
            if larger is not None:
                return larger
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        Request.max_content_length.fset(self, value)
