"""Error pages in the site's layout; never a stack trace."""

from functools import wraps

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.i18n import lazy_gettext as _l
from portal.services.authority import Refused
from portal.web import transaction

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood.")),
    403: (_l("Not allowed"), _l("Your account is not allowed to see this page.")),
    404: (_l("Page not found"), _l("There is nothing at this address.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    413: (_l("Too large"), _l("What you sent is larger than this site accepts.")),
    429: (
        _l("Too many attempts"),
        _l("Too many attempts in a short time. Wait a minute, then try again."),
    ),
    500: (
        _l("Something went wrong"),
        _l("An unexpected error occurred; it has been logged. Nothing was saved."),
    ),
}


def render_error(code: int, message=None):
    title, default_message = MESSAGES.get(code, MESSAGES[500])
    return (
        render_template(
            "errors/error.html", code=code, title=title, message=message or default_message
        ),
        code,
    )


def register(app: Flask) -> None:
    def handles(exception):
        """Register the handler of ``exception``; the request's changes are undone first
        (the refusals it recorded kept): a view that raised saves nothing."""

        def decorate(handler):
            @wraps(handler)
            def rolled_back(error):
                transaction.roll_back()
                return handler(error)

            app.register_error_handler(exception, rolled_back)
            return handler

        return decorate

    @handles(CSRFError)
    def csrf_error(error):
        return render_error(
            400,
            _l(
                "This form had expired or did not come from this site. "
                "Reload the page and send it again."
            ),
        )

    @handles(Refused)
    def refused(error: Refused):
        """A change a service refused, which the view did not answer itself: a 403
        that says why, and nothing written."""
        return render_error(403, str(error))

    @handles(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        explained = error.description if error.description != type(error).description else None
        return render_error(error.code, explained)

    @handles(InternalServerError)
    def server_error(error):
        try:
            return render_error(500)
        except Exception:  # the layout itself failed: still no stack trace for the user
            app.logger.exception("error page failed to render")
            return str(MESSAGES[500][1]), 500, {"Content-Type": "text/plain; charset=utf-8"}
