"""A unique value that another row took between the form's check and the insert.

The form checks first, so that the clash almost always becomes a field message; this
catches the race that remains. The insert runs in a savepoint, so only it is undone and
the rest of the request's work stands. (SQLite only: a savepoint that opens the
transaction commits when it is released; PostgreSQL, the production database, nests it.)
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError

from portal.extensions import db


class Taken(Exception):
    """The value is already another row's: the caller says so at the field."""


@contextmanager
def claimed() -> Iterator[None]:
    """Run the block's writes in a savepoint and flush them; raise ``Taken`` on a clash."""
    try:
        with db.session.begin_nested():
            yield
            db.session.flush()
    except IntegrityError as clash:
        raise Taken from clash
