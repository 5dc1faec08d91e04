"""What the benchmarks share: a throwaway database and app, a client that runs each
request as a server would, a counter of SQL statements, timings and a plain table; and
Portal served by gunicorn as production runs it."""

import argparse
import contextvars
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event

from portal import create_app
from portal.extensions import db
from portal.models import SystemRole, User, UserKind, UserStatus
from portal.services.tenants import system_role

ROOT = Path(__file__).resolve().parent.parent
# tests/ (the throwaway databases and servers) is the project's, not an installed
# package: a benchmark run as a script (python bench/x.py) finds it from here.
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from tests.throwaway import throwaway_database, wait_until_up  # noqa: E402

T = TypeVar("T")
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGET_RATIO = 1.3
PASSWORD = "benchmark password"  # noqa: S105 - the only password of a throwaway database
CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def fresh_database(kind: str, postgres_url: str):
    """An empty database of ``kind``, removed afterwards."""
    return throwaway_database(postgres_url if kind == "postgresql" else None, "portal_bench_")


@contextmanager
def loaded(kind: str, postgres_url: str, load: Callable[[], T]) -> Iterator[tuple[Flask, float, T]]:
    """A fresh, migrated database of ``kind`` filled by ``load``, in an app context: the
    app, the seconds the load took and what it returned."""
    with fresh_database(kind, postgres_url) as uri:
        app = make_app(uri)
        with app.app_context():
            upgrade()
            start = time.perf_counter()
            result = load()
            seconds = time.perf_counter() - start
            try:
                yield app, seconds, result
            finally:
                db.session.remove()
                db.engine.dispose()


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


def sign_in(client: FlaskClient, slug: str, login: str) -> None:
    page = client.get(f"/{slug}/login")
    token = CSRF_PATTERN.search(page.get_data(as_text=True))
    if token is None:
        raise SystemExit("The sign-in page has no CSRF token.")
    response = client.post(
        f"/{slug}/login",
        data={"csrf_token": token.group(1), "login": login, "password": PASSWORD},
    )
    if response.status_code != 302:
        raise SystemExit(f"Signing in to {slug} failed with status {response.status_code}.")


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
        return statement_label(self.statements)


def statement_label(statements: list[int]) -> str:
    """The usual count, with the range when some requests differ (a session touch)."""
    if not statements:
        return "-"
    usual = statistics.mode(statements)
    low, high = min(statements), max(statements)
    return str(usual) if low == high else f"{usual} ({low}-{high})"


def client_user(contact, code: str, password_hash: str) -> User:
    """An active portal user for ``contact``, with the Client role."""
    user = User(
        code=code,
        email=contact.email,
        name=contact.name,
        role=system_role(SystemRole.CLIENT),
        kind=UserKind.CLIENT,
        client_id=contact.client_id,
        contact_id=contact.id,
        status=UserStatus.ACTIVE,
        password_hash=password_hash,
    )
    db.session.add(user)
    return user


def code_state() -> str:
    """The commit measured, and whether the served folders had changes not committed
    (the machine and the tree may be shared)."""
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run(  # noqa: S603 - git on the project
        [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    changed = subprocess.run(  # noqa: S603 - git on the project
        [*git, "status", "--porcelain", "--", "portal", "templates", "static"],
        capture_output=True,
        text=True,
    ).stdout.split("\n")
    changed = [line[3:] for line in changed if line.strip()]
    return head.stdout.strip() + (
        f" with uncommitted changes in {', '.join(changed)}" if changed else ""
    )


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


def parse_options(description: str, sizes_help: str) -> tuple[argparse.Namespace, list, list]:
    """The options both benchmarks take; returns them with the databases and the sizes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql"
    )
    parser.add_argument("--sizes", default="100,100000", help=sizes_help)
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per page")
    parser.add_argument("--warmups", type=int, default=5, help="untimed requests per page")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="a server where a throwaway database may be created",
    )
    options = parser.parse_args()
    kinds = options.databases.split(",")
    unknown = set(kinds) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown database: {', '.join(sorted(unknown))}")
    sizes = sorted({int(size) for size in options.sizes.split(",")})
    if options.repeat < 2 or min(sizes) < 2:
        parser.error("--repeat and every size must be at least 2")
    return options, kinds, sizes


def same_statements(small: Measure, large: Measure) -> bool:
    """The usual count: a request now and then also touches the user's session."""
    return statistics.mode(small.statements) == statistics.mode(large.statements)


def ratio_row(page: str, small: Measure, large: Measure) -> tuple:
    """A row of the comparison table: the median ratio against the target, and whether
    the statements per request stay the same."""
    ratio = large.median / small.median
    return (
        page,
        f"{ratio:.2f}",
        "yes" if ratio <= TARGET_RATIO else "NO, ABOVE TARGET",
        f"{small.statement_label} vs {large.statement_label}",
        "yes" if same_statements(small, large) else "NO, GROWS",
    )


def report_sizes(
    kind: str,
    noun: str,
    loads: dict[int, float],
    results: list[Measure],
    pages: tuple[str, ...],
    max_statements: int | None = None,
) -> None:
    """The table of each page at each size (``noun`` per tenant), then the largest size
    against the smallest: the median ratio and whether the statements stay the same;
    with ``max_statements``, whether each page stays within it."""
    title = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[kind]
    print(f"\n== {title} ==\n")
    for size, seconds in loads.items():
        print(f"load: 2 tenants x {size:,} {noun} in {seconds:.1f} s")
    print()
    headers = ("page", f"{noun}/tenant", "median ms", "p95 ms", "statements")
    if max_statements is not None:
        headers += (f"<= {max_statements}?",)
    rows = []
    for r in sorted(results, key=lambda r: (pages.index(r.page), r.size)):
        row = (r.page, f"{r.size:,}", f"{r.median:.1f}", f"{r.p95:.1f}", r.statement_label)
        if max_statements is not None:
            row += ("yes" if max(r.statements) <= max_statements else "NO",)
        rows.append(row)
    print_table(headers, rows)
    small, large = min(loads), max(loads)
    if small == large:
        return
    print(f"\n{large:,} vs {small:,} {noun} per tenant\n")
    by_key = {(r.page, r.size): r for r in results}
    ratios = [ratio_row(page, by_key[page, small], by_key[page, large]) for page in pages]
    print_table(("page", "median ratio", f"<= {TARGET_RATIO}?", "statements", "constant?"), ratios)


# --- Serving: Portal under gunicorn, as production runs it ---------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def reachable(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


@contextmanager
def process(command: list[str], log: Path, cwd: Path, env: dict) -> Iterator[subprocess.Popen]:
    with open(log, "w") as output:
        child = subprocess.Popen(  # noqa: S603 - our own programs
            command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            yield child
        finally:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def production_env(uri: str, port: int, workers: int) -> dict[str, str]:
    """Portal's environment as production sets it, on the database ``uri``, served on
    ``port`` by ``workers`` workers; the local Redis counts the rate limits when it runs."""
    redis = "redis://127.0.0.1:6379/15" if reachable("127.0.0.1", 6379) else "memory://"
    return {
        **os.environ,
        "PORTAL_ENV": "production",
        "DATABASE_URL": uri,
        "SECRET_KEY": "bench-secret-key-0123456789abcdef",
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_USE_TLS": "false",
        "RATELIMIT_STORAGE_URI": redis,
        "PORTAL_LOG_LEVEL": "warning",
    }


def serve(
    stack: ExitStack,
    folder: Path,
    app: str,
    port: int,
    cwd: Path,
    log: str,
    env: dict,
    health: str,
) -> subprocess.Popen:
    """gunicorn with gunicorn.conf.py serving ``app`` on ``port`` until ``stack`` closes,
    its logs in ``folder``; returns its master once ``health`` answers."""
    # Workers are never recycled here (--max-requests 0), so that their memory is
    # what a long run makes of it, not what a fresh worker holds.
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        str(ROOT / "gunicorn.conf.py"),
        "--max-requests",
        "0",
        app,
    ]
    env = {
        **env,
        "PORTAL_BIND": f"127.0.0.1:{port}",
        "PORTAL_ACCESS_LOG": str(folder / f"{log}-access.log"),
    }
    server = stack.enter_context(process(command, folder / f"{log}.log", cwd, env))
    wait_until_up(f"http://127.0.0.1:{port}{health}", server)
    return server
