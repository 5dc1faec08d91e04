"""The browser end-to-end stories: Debian's Chromium driven by Playwright, against Portal
served by gunicorn on loopback, on the local PostgreSQL (a SQLite file when no server
answers), with aiosmtpd as the SMTP server and the outbox worker running, as in
production. On a failure, a screenshot and the page's HTML are kept under
test-artifacts/e2e/ (git-ignored). Without Chromium they are skipped, with one line
saying how to get it; CI fails on any skip."""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import sync_playwright

from tests.test_outbox import Inbox, free_port
from tests.throwaway import throwaway_database, wait_until_up

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM = os.environ.get("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium")
POSTGRES = os.environ.get(
    "PORTAL_TEST_POSTGRES_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres"
)
#: Why the stories are skipped where the browser is missing, and how to get them.
NO_BROWSER = (
    f"browser stories skipped: no Chromium at {CHROMIUM}; install Debian's package "
    "(`apt-get install chromium`, which `python3 dev.py test` does when run as root) "
    "or set PORTAL_TEST_CHROMIUM to a Chromium binary"
)
PASSWORD = "Demo-e2e-pass-2026"  # noqa: S105 - the throwaway demo's one password
LINK = re.compile(r"(https?://\S+/(?:password/set|unsubscribe)/\S+)")


class Mailbox(Inbox):
    """The SMTP server's inbox, with a wait for the next mail to someone."""

    def wait_for(self, to: str, count: int = 1, timeout: float = 30, subject: str = ""):
        """The mails to ``to`` (whose subject holds ``subject``), once there are ``count``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [
                mail for mail in self.messages if to in mail["To"] and subject in mail["Subject"]
            ]
            if len(found) >= count:
                return found
            time.sleep(0.2)
        raise AssertionError(f"no mail to {to} within {timeout} s")

    @staticmethod
    def text(mail) -> str:
        return mail.get_body(("plain",)).get_content()

    def link(self, mail) -> str:
        return LINK.search(self.text(mail)).group(1)


def pytest_collection_modifyitems(config, items):
    """Skip every story, for one reason reported once, when there is no browser."""
    if Path(CHROMIUM).exists():
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.skip(reason=NO_BROWSER))


def database_server() -> str | None:
    """The local PostgreSQL when it answers, as in production; else None (SQLite)."""
    try:
        psycopg.connect(POSTGRES, connect_timeout=3).close()
    except psycopg.OperationalError:
        return None
    return POSTGRES


@pytest.fixture(scope="session")
def mailbox():
    inbox = Mailbox()
    inbox.port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    yield inbox
    controller.stop()


@pytest.fixture(scope="session")
def live(mailbox, tmp_path_factory):
    """The demo, served by gunicorn behind one (simulated) proxy, with its outbox worker."""
    logs = tmp_path_factory.mktemp("e2e-logs")
    with throwaway_database(database_server(), "portal_e2e_") as database_url:
        port = free_port()
        # A host name, not an address: browsers make passkeys only for a domain.
        base = f"http://localhost:{port}"
        env = {
            **os.environ,
            "PORTAL_ENV": "production",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "e2e-secret-key-0123456789abcdef",
            "PORTAL_BASE_URL": base,
            "PORTAL_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "2",
            "TRUSTED_PROXY_HOPS": "1",
            "MAIL_BACKEND": "smtp",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(mailbox.port),
            "MAIL_USE_TLS": "false",
            "RATELIMIT_STORAGE_URI": "memory://",
            "PORTAL_ACCESS_LOG": str(logs / "access.log"),
        }
        flask = [sys.executable, "-m", "flask", "--app", "portal"]
        for command in (["db", "upgrade"], ["demo", "--password", PASSWORD]):
            subprocess.run(  # noqa: S603 - our own commands
                [*flask, *command],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                timeout=300,
            )
        with (
            open(logs / "gunicorn.log", "w") as server_log,
            open(logs / "worker.log", "w") as worker_log,
        ):
            server = subprocess.Popen(  # noqa: S603 - our own server
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                cwd=ROOT,
                env=env,
                stdout=server_log,
                stderr=subprocess.STDOUT,
            )
            worker = subprocess.Popen(  # noqa: S603 - our own worker
                [*flask, "outbox", "work", "--interval", "0.5"],
                cwd=ROOT,
                env=env,
                stdout=worker_log,
                stderr=subprocess.STDOUT,
            )
            try:
                wait_until_up(f"{base}/healthz", server)
                yield base
            finally:
                for process in (worker, server):
                    process.terminate()
                    process.wait(timeout=30)


@pytest.fixture(scope="session")
def chromium():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        for name, page in getattr(item, "pages", {}).items():
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            stem = ARTIFACTS / f"{item.name}-{name}"
            try:
                page.screenshot(path=f"{stem}.png", full_page=True)
                Path(f"{stem}.html").write_text(page.content())
                print(f"\ne2e failure kept: {stem}.png and {stem}.html")
            except Exception as error:  # noqa: BLE001 - a closed page must not hide the failure
                print(f"\ne2e failure: could not keep the page {name}: {error}")


@pytest.fixture
def pages(request, chromium):
    """Opens named pages (one browser context each: separate cookies); they are kept
    as screenshots and HTML if the test fails."""
    request.node.pages = {}
    contexts = []

    def open_page(name: str, **context_options):
        context = chromium.new_context(**context_options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        request.node.pages[name] = page
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture(autouse=True, scope="session")
def _artifacts_are_fresh():
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
