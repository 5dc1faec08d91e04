"""What the benchmarks share: a throwaway database and app, a client that runs each
request as a server would, a counter of SQL statements, timings and a plain table."""

import contextvars
import statistics
from dataclasses import dataclass, field

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from portal import create_app
from portal.testing import throwaway_database

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGET_RATIO = 1.3


def fresh_database(kind: str, postgres_url: str):
    """An empty database of ``kind``, removed afterwards."""
    return throwaway_database(postgres_url if kind == "postgresql" else None, "portal_bench_")


def make_app(database_uri: str) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "PORTAL_ENV": "testing",
            "SECRET_KEY": "bench-secret-key",
            "SQLALCHEMY_DATABASE_URI": database_uri,
            "MAIL_BACKEND": "locmem",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )


class IsolatedClient(FlaskClient):
    """Runs every request in a fresh context, as a server would: its own app context,
    database session and signed-in user, not the benchmark's."""

    def open(self, *args, **kwargs):
        context = contextvars.Context()
        response = context.run(super().open, *args, **kwargs)
        #: A streamed body is read in the request's context, as a server reads it.
        response.context = context
        return response


class StatementCounter:
    """Counts the SQL statements the engine sends while ``counting`` is on."""

    def __init__(self, engine) -> None:
        self.counting = False
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._executed)

    def _executed(self, connection, cursor, statement, parameters, context, executemany):
        if self.counting:
            self.count += 1


@dataclass
class Measure:
    page: str
    size: int
    milliseconds: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.milliseconds)

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.milliseconds, n=20, method="inclusive")[-1]

    @property
    def statement_label(self) -> str:
        """The usual count, with the range when some requests differ (a session touch)."""
        usual = statistics.mode(self.statements)
        low, high = min(self.statements), max(self.statements)
        return str(usual) if low == high else f"{usual} ({low}-{high})"


def print_table(headers: tuple[str, ...], rows: list[tuple]) -> None:
    """Left-align the first column, right-align the others."""
    cells = [headers, *[tuple(str(cell) for cell in row) for row in rows]]
    widths = [max(len(row[column]) for row in cells) for column in range(len(headers))]
    for row in cells:
        print(
            "  ".join(
                cell.ljust(width) if column == 0 else cell.rjust(width)
                for column, (cell, width) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
