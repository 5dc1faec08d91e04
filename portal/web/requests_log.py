"""A request id on every response and every log line, so that an operator can follow
one request through the proxy's log, gunicorn's access log and the application's."""

import logging
import re
import uuid

from flask import Flask, g, has_request_context, request
from flask.logging import default_handler

HEADER = "X-Request-ID"
#: An id from the proxy is kept only if it is this plain; anything else is replaced.
ACCEPTED = re.compile(r"[A-Za-z0-9._-]{8,64}")
LOG_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to each record: the request's id, or "-" outside a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def assign_request_id() -> None:
    """The proxy's id when it sent a plain one, else a new one."""
    incoming = request.headers.get(HEADER, "")
    g.request_id = incoming if ACCEPTED.fullmatch(incoming) else uuid.uuid4().hex


def echo_request_id(response):
    if "request_id" not in g:  # the request ended before the before-request functions
        assign_request_id()
    response.headers[HEADER] = g.request_id
    return response


def register(app: Flask) -> None:
    app.before_request(assign_request_id)
    app.after_request(echo_request_id)
    # On the logger, so that every record of the application carries the id, whichever
    # handler writes it; Flask's own handler then prints it.
    if not any(isinstance(existing, RequestIdFilter) for existing in app.logger.filters):
        app.logger.addFilter(RequestIdFilter())
    default_handler.setFormatter(logging.Formatter(LOG_FORMAT))
