"""The demo's hot pages, drawn at a fixed instant, are byte for byte the pages kept in
tests/pages/ (issue 23): what is done to make the pages cheaper to draw (templates,
loaders, caches) must not change a character of what the reader gets.

The kept pages were drawn before that work. Only what is random by design (CSRF tokens)
is masked. To draw them again on purpose, after a change meant to show:

    PORTAL_KEEP_PAGES=1 .venv/bin/python -m pytest tests/test_same_pages.py
"""

import difflib
import itertools
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select, text

from portal.extensions import db
from portal.models import ChatChannel, CreditAccount, SupportRequest, Tenant
from portal.tenancy import bound_to, cross_tenant
from tests.conftest import login
from tests.test_cli import DEMO_PASSWORD, run

KEPT = Path(__file__).parent / "pages"
#: The demo's data are dated; the pages also show "now" (the chart's end, the printed
#: date, "last 12 months"), so the clock stands still here.
INSTANT = datetime(2026, 6, 15, 14, 30, tzinfo=UTC)
RANDOM = re.compile(r'(name="csrf_token" type="hidden" value=")[^"]+(")')


def demo_ids() -> dict[str, int]:
    with cross_tenant(db.session):
        tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.slug == "demo"))
    with bound_to(db.session, tenant_id):
        ids = {
            "account": db.session.scalar(
                select(CreditAccount.id).where(CreditAccount.customer_id == "4996")
            ),
            "request": db.session.scalar(select(SupportRequest.id).order_by(SupportRequest.id)),
            "channel": db.session.scalar(select(ChatChannel.id).order_by(ChatChannel.id)),
        }
        db.session.rollback()
    return ids


def pages(ids: dict[str, int]) -> dict[str, tuple[str, str]]:
    """name: (who, path)."""
    contact, tech = "jszczygiel@jmactions.com", "tech@demo.test"
    return {
        "contact-home": (contact, "/demo/"),
        "contact-statement": (contact, f"/demo/statement/{ids['account']}"),
        "contact-requests": (contact, "/demo/requests/"),
        "contact-account": (contact, "/demo/account"),
        "tech-home": (tech, "/demo/"),
        "tech-clients": (tech, "/demo/clients/"),
        "tech-account": (tech, f"/demo/support/accounts/{ids['account']}"),
        "tech-desk": (tech, "/demo/desk/"),
        "tech-request": (tech, f"/demo/desk/{ids['request']}"),
        "tech-chat": (tech, f"/demo/chat/{ids['channel']}"),
    }


def restart_ids() -> None:
    """Ids as a new database gives them, since the pages show them (links, element ids):
    the suite empties its tables between tests, and PostgreSQL's sequences go on
    counting (SQLite starts again from the largest id left)."""
    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.begin() as connection:
        for table in db.metadata.sorted_tables:
            if "id" in table.c:
                connection.execute(
                    text("SELECT setval(pg_get_serial_sequence(:name, 'id'), 1, false)"),
                    {"name": table.name},
                )


@pytest.fixture
def demo_pages(app):
    restart_ids()
    with time_machine.travel(INSTANT, tick=False):
        run(app, "demo", "--password", DEMO_PASSWORD)
        browsers = {}
        drawn = {}
        for name, (who, path) in pages(demo_ids()).items():
            if who not in browsers:
                browsers[who] = app.test_client()
                assert login(browsers[who], "demo", who, DEMO_PASSWORD).status_code == 302
            # Twice: the second is drawn from what the first kept (portal/readcache.py).
            for _visit in range(2):
                response = browsers[who].get(path)
                assert response.status_code == 200, (name, path)
                drawn.setdefault(name, []).append(
                    RANDOM.sub(r"\1…\2", response.get_data(as_text=True))
                )
        return drawn


def test_the_demos_pages_are_the_kept_ones(demo_pages):
    if os.environ.get("PORTAL_KEEP_PAGES"):
        KEPT.mkdir(exist_ok=True)
        for name, (first, _second) in demo_pages.items():
            (KEPT / f"{name}.html").write_bytes(first.encode())
    for name, visits in demo_pages.items():
        kept = (KEPT / f"{name}.html").read_bytes().decode()
        for html in visits:
            assert html == kept, f"{name} differs from tests/pages/{name}.html:\n" + "\n".join(
                itertools.islice(difflib.unified_diff(kept.splitlines(), html.splitlines()), 40)
            )
