"""Production serving: the health check, a request id on every response and log line,
and gunicorn with gunicorn.conf.py surviving a restart of PostgreSQL under it."""

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from portal import create_app
from portal.config import ConfigError
from tests.conftest import make_config
from tests.test_outbox import free_port
from tests.throwaway import throwaway_database

ROOT = Path(__file__).resolve().parent.parent
LOCAL_POSTGRES = os.environ.get(
    "PORTAL_TEST_POSTGRES_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def test_the_health_check_says_ok_and_nothing_more(client):
    for url in ("/healthz", "/health"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.get_json() == {"status": "ok", "database": "ok"}


def test_an_unreachable_database_answers_503_without_details(migrated_database, caplog):
    unreachable = "postgresql://portal:s3cret-password@127.0.0.1:1/portal"
    app = create_app(make_config(unreachable))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unreachable"}
    body = response.get_data(as_text=True)
    assert "s3cret" not in body and "127.0.0.1" not in body
    (record,) = [record for record in caplog.records if "health check" in record.getMessage()]
    assert record.request_id == response.headers["X-Request-ID"]  # the log names the request


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("proxy-7f3a9c2e-0001", True),
        ("short", False),
        ("x" * 65, False),
        ("bad id with spaces", False),
        ("<script>alert(1)</script>", False),
    ],
)
def test_every_response_carries_a_request_id(client, sent, kept):
    response = client.get("/healthz", headers={"X-Request-ID": sent})
    answered = response.headers["X-Request-ID"]
    assert (answered == sent) is kept
    if not kept:
        assert re.fullmatch(r"[0-9a-f]{32}", answered)
    assert re.fullmatch(
        r"[0-9a-f]{32}", client.get("/no-such-tenant/login").headers["X-Request-ID"]
    )


def status_of(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def restart_postgresql() -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(  # noqa: S603 - a fixed command
        [shutil.which("pg_ctlcluster"), "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
        timeout=120,
    )


def test_requests_recover_after_postgresql_restarts_under_gunicorn(tmp_path):
    """Runs on the local PostgreSQL server whatever database the suite uses: it is the
    restart of a real server that is proven here."""
    with throwaway_database(LOCAL_POSTGRES, "portal_restart_") as database_url:
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "PORTAL_ENV": "production",
            "SECRET_KEY": "restart-test-secret-key-0123456789",
            "RATELIMIT_STORAGE_URI": "memory://",  # only health checks here, never limited
            "PORTAL_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "2",
            "PORTAL_BASE_URL": "https://portal.example",
            "PORTAL_ACCESS_LOG": str(tmp_path / "access.log"),
        }
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "portal", "db", "upgrade"],  # noqa: S603
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        server = subprocess.Popen(  # noqa: S603 - our own server
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        health = f"http://127.0.0.1:{port}/healthz"
        try:
            deadline = time.monotonic() + 30
            while status_of(health) != 200:
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.2)
            for _ in range(8):  # every worker has a pooled connection now
                assert status_of(health) == 200
            restart_postgresql()
            deadline, failures = time.monotonic() + 30, 0
            while status_of(health) != 200:
                failures += 1
                assert time.monotonic() < deadline, "requests did not recover"
                time.sleep(0.2)
            # pool_pre_ping replaced each worker's dead connections: no request fails now.
            assert [status_of(health) for _ in range(20)] == [200] * 20
            assert failures <= 10
            access_log = (tmp_path / "access.log").read_text()
            assert re.search(r'"GET /healthz HTTP/1.1" 200 .* \[[0-9a-f]{32}\]', access_log)
        finally:
            server.terminate()
            server.wait(timeout=30)


def test_a_web_worker_loads_no_migration_tooling():
    """What gunicorn serves leaves out the command line: Alembic is 11 MB of memory a
    web worker never uses (issue 10). The command line still has ``flask db``."""
    root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "PORTAL_ENV": "production",
        "SECRET_KEY": "a-test-secret-key-0123456789abcdef",
        "RATELIMIT_STORAGE_URI": "memory://",
        "DATABASE_URL": "sqlite://",
    }
    loaded = subprocess.run(  # noqa: S603 - our own module
        [
            sys.executable,
            "-c",
            "import sys, wsgi; print(sorted(wsgi.app.extensions)); print('alembic' in sys.modules)",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.splitlines()
    assert "sqlalchemy" in loaded[0] and "migrate" not in loaded[0]
    assert loaded[1] == "False"
    assert "migrate" in create_app(make_config("sqlite://")).extensions


def test_production_without_a_shared_rate_limit_store_refuses_to_start(monkeypatch):
    """Each worker's memory would count sign-in attempts apart: say so in one line."""
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-test-secret-key-0123456789abcdef")
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    with pytest.raises(ConfigError) as refused:
        create_app()
    (line,) = str(refused.value).splitlines()
    assert line.startswith("RATELIMIT_STORAGE_URI is not set: ")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379")
    assert create_app().config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379"


def test_development_counts_sign_in_attempts_in_memory_by_default(monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "development")
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    assert create_app().config["RATELIMIT_STORAGE_URI"] == "memory://"
