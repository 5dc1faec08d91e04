"""A unique value that another row took between the form's check and the insert.

The form checks first, so that the clash almost always becomes a field message; this
catches the race that remains. The insert runs in a savepoint, so only it is undone and
the rest of the request's work stands.
"""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError

from portal.extensions import db


class Taken(Exception):
    """The value is already another row's: the caller says so at the field."""


@contextmanager
def claimed() -> Iterator[None]:
    """Run the block's writes in a savepoint and flush them; raise ``Taken`` on a clash."""
    _open_the_transaction()
    try:
        with db.session.begin_nested():
            yield
            db.session.flush()
    except IntegrityError as clash:
        raise Taken from clash


def _open_the_transaction() -> None:
    """SQLite's Python driver opens a transaction only before a write, and a savepoint
    taken outside one opens its own, which its release commits: the request's later
    failure could no longer undo it. Open the request's transaction first, as
    PostgreSQL's driver always has."""
    connection = db.session.connection()
    driver_connection = connection.connection.dbapi_connection
    if isinstance(driver_connection, sqlite3.Connection) and not driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN")
