"""Throwaway databases and servers for the test suite and the benchmarks (never used by
the app)."""

import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal.config import database_url


@contextmanager
def throwaway_database(server_url: str | None, prefix: str) -> Iterator[str]:
    """Yield the URL of a new, empty database, dropped afterwards: on the PostgreSQL
    server of ``server_url`` when it names one, else a SQLite file in a temporary folder."""
    if not server_url or not server_url.startswith(("postgres://", "postgresql")):
        with tempfile.TemporaryDirectory(prefix=prefix) as folder:
            yield f"sqlite:///{Path(folder) / 'portal.sqlite3'}"
        return
    server = make_url(database_url(server_url))
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    # pool_pre_ping: the server may have been restarted meanwhile (a test does it).
    admin = create_engine(
        server.set(database="postgres"), isolation_level="AUTOCOMMIT", pool_pre_ping=True
    )
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    """Wait until the server ``process`` started answers ``url``; raise if it stops first
    or does not answer within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server for {url} stopped while starting")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own server
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")
