"""The reads kept per process (portal/readcache.py): the statement's balance curve and
the account's "last 12 months" figure. A kept answer is the one a fresh read gives,
and belongs to the tenant and to the clients of the session that read it."""

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, select

from portal import readcache
from portal.extensions import db
from portal.models import Branch, User
from portal.services import credit
from portal.tenancy import ClientVisibility, bound_to
from tests.test_statement import START, client_user, grow, statement_url


def chart_path(html: str) -> str:
    return re.search(r'class="balance-line" d="([^"]+)"', html).group(1)


def page_and_statements(browser, url: str) -> tuple[str, int]:
    seen = []
    listener = event.listens_for(db.engine, "before_cursor_execute")(
        lambda *args: seen.append(args[2])
    )
    try:
        response = browser.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert response.status_code == 200
    return response.get_data(as_text=True), len(seen)


def test_a_second_visit_reads_the_chart_and_totals_from_the_cache(app, world):
    grow(world, 12, step_hours=1)
    browser = client_user(app, world)
    first, cold = page_and_statements(browser, statement_url(world))
    second, warm = page_and_statements(browser, statement_url(world))
    assert warm == cold - 3  # the curve's two statements and the totals' one
    assert chart_path(second) == chart_path(first)
    figures = re.compile(r'<dl class="facts">.*?</dl>', re.S)
    assert figures.findall(second) == figures.findall(first)

    # A new entry is a longer ledger: a new key, so the page shows it at once.
    grow(world, 1, start=START + timedelta(days=2))
    third, _count = page_and_statements(browser, statement_url(world))
    assert chart_path(third) != chart_path(first)
    assert re.search(r'id="balance-\d+">\s*44 min', third)  # 50, then 6 minutes more


def test_kept_answers_belong_to_the_tenant_and_clients_that_read_them(app, world):
    reads = []

    def read(answer):
        def reader():
            reads.append(answer)
            return answer

        return reader

    with app.app_context():
        with bound_to(db.session, world.a.tenant_id):
            assert readcache.remember("test", (1,), read("a")) == "a"
            assert readcache.remember("test", (1,), read("again")) == "a"
        with bound_to(db.session, world.b.tenant_id):
            assert readcache.remember("test", (1,), read("b")) == "b"
        for client_id in (world.a.client_id, world.a.client_id + 1):
            with bound_to(db.session, world.a.tenant_id, ClientVisibility(client_id=client_id)):
                assert readcache.remember("test", (1,), read(client_id)) == client_id
    assert reads == ["a", "b", world.a.client_id, world.a.client_id + 1]


def test_a_branch_limited_user_never_gets_the_whole_companys_kept_curve(app, world):
    with bound_to(db.session, world.a.tenant_id):
        laval = Branch(name="Laval")
        db.session.add(laval)
        db.session.flush()
        db.session.scalar(select(User).where(User.email == world.a.tech_email)).branch_id = laval.id
        db.session.commit()
        laval_id = laval.id
    grow(world, 4, by="tech", step_hours=1)
    grow(world, 4, by="admin", step_hours=1, start=START + timedelta(days=1))
    whole, _count = page_and_statements(client_user(app, world), statement_url(world))
    with bound_to(db.session, world.a.tenant_id):
        db.session.get(User, world.a.client_user_id).branch_id = laval_id
        db.session.commit()
    limited, _count = page_and_statements(client_user(app, world), statement_url(world))
    app.extensions.pop(readcache.EXTENSION)
    fresh, _count = page_and_statements(client_user(app, world), statement_url(world))
    assert chart_path(limited) == chart_path(fresh) != chart_path(whole)


def test_the_last_12_months_move_when_an_entry_turns_a_year_old(app, world):
    grow(world, 3, step_hours=24, start=datetime(2025, 1, 1, 9, tzinfo=UTC))
    with app.app_context(), bound_to(db.session, world.a.tenant_id):
        account = credit.lock(world.a.account_id)
        # Entries of 6 minutes on January 1, 2 and 3, 2025.
        within = credit.totals(account, now=datetime(2025, 12, 31, 12, tzinfo=UTC))
        kept = credit.totals(account, now=datetime(2026, 1, 1, 8, tzinfo=UTC))
        one_gone = credit.totals(account, now=datetime(2026, 1, 1, 10, tzinfo=UTC))
        two_gone = credit.totals(account, now=datetime(2026, 1, 2, 10, tzinfo=UTC))
        db.session.rollback()
    assert [within.last_year, kept.last_year, one_gone.last_year, two_gone.last_year] == [
        18,
        18,
        12,
        6,
    ]
