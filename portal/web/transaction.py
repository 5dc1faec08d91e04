"""The one transaction boundary of a request, as Indico's request handler has it.

A request commits once, after its view returned normally; when the view (or the gate
before it) raises, everything it wrote is rolled back, and only the refusals it
recorded with ``audit.record_refusal`` are written. Nothing else in the application
commits: services add and flush, views call services; the command line and the outbox
worker, which serve no request, are the only other places that commit (a test parses
the code and holds to it).
"""

from flask import Flask, Response

from portal.extensions import db
from portal.services import audit


def commit(response: Response) -> Response:
    db.session.commit()
    audit.forget_refusals(db.session)
    return response


def roll_back() -> None:
    """Undo the request's changes, keeping its refusals; then commit those."""
    db.session.rollback()
    audit.restore_refusals(db.session)


def register(app: Flask) -> None:
    """Run ``commit`` after every view that returned normally. Registered last, it runs
    first among the after-request functions, so a commit that fails becomes the 500 page
    (rolled back by ``errors``) before anything logs or sends the response."""
    app.after_request(commit)
