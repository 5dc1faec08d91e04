"""The customer's time-credit statement: what a client user sees of their accounts,
the history's pages and date filter, the branch limit, the balance chart, the CSV
export, and that nothing of another company or tenant shows by any URL."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from portal import readcache
from portal.extensions import db
from portal.mail import outbox
from portal.models import (
    Billing,
    Branch,
    Client,
    CreditAccount,
    CreditAccountClient,
    LedgerEntry,
    Tenant,
    User,
)
from portal.services import credit
from portal.services.actor import Actor
from portal.services.statement import (
    MAX_MARKED,
    MAX_POINTS,
    EntryFilter,
    csv_chunks,
    read_entries,
    shown_entries,
)
from portal.tenancy import ClientVisibility, bound_to, cross_tenant
from tests.conftest import acting, csrf_token, login
from tests.test_cli import DEMO_PASSWORD, run
from tests.test_credit import record, signed_in
from tests.test_outbox import SMTP, smtp_server  # noqa: F401 - the fixture is used by name

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def grow(
    world,
    count: int,
    *,
    by: str = "tech",
    start: datetime = START,
    step_hours: int = 24,
    account_id: int | None = None,
) -> None:
    """Append ``count`` entries to the fixture account, one per ``step_hours``: every
    fifth a purchase of 30 minutes, the others interventions of 6 minutes."""
    with bound_to(db.session, world.a.tenant_id):
        technician = db.session.scalar(
            select(User).where(
                User.email == (world.a.tech_email if by == "tech" else world.a.admin_email)
            )
        )
        account = credit.lock(account_id or world.a.account_id)
        client = db.session.get(Client, account.billing_client_id)
        for number in range(count):
            at = start + timedelta(hours=step_hours * number)
            if number % 5 == 4:
                credit.record_purchase(
                    account,
                    minutes=30,
                    amount=None,
                    reference=None,
                    valid_until=None,
                    actor=acting(technician),
                    at=at,
                )
            else:
                credit.record_intervention(
                    account,
                    client=client,
                    minutes=6,
                    billing=Billing.NORMAL,
                    summary=f"Intervention {number + 1}",
                    advice=None,
                    review_invited=False,
                    actor=acting(technician),
                    override_reason=None,
                    at=at,
                )
        db.session.commit()


def client_user(app, world):
    return signed_in(app, world, world.a.client_user_email)


def statement_url(world, account_id: int | None = None, suffix: str = "") -> str:
    return f"/{world.a.slug}/statement/{account_id or world.a.account_id}{suffix}"


def table(page: str) -> list[list[str]]:
    """The history table's cells, as text, row by row."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def history_rows(page: str) -> list[str]:
    body = page.split('id="history-heading"', 1)[1]
    return re.findall(r"<td>(Intervention \d+|Time credit purchase|Opening purchase)</td>", body)


def csv_rows(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_joseph_sees_account_4996_and_a_new_intervention_appears(app):
    run(app, "demo", "--password", DEMO_PASSWORD)
    joseph = app.test_client()
    assert login(joseph, "demo", "jszczygiel@jmactions.com", DEMO_PASSWORD).status_code == 302
    home = joseph.get("/demo/account").get_data(as_text=True)
    assert 'href="/demo/statement"' in home
    page = joseph.get("/demo/statement")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # Joseph reads France's French (his preference in the demo).
    assert "Numéro client 4996\u00a0: indiquez-le lorsque vous appelez le support." in html
    assert re.search(r'id="balance-\d+">\s*50 min', html)
    assert "expiré" in html  # valid until 30/07/2021
    rows = [(cells[1].split()[0], cells[2], cells[7], cells[8]) for cells in table(html)]
    assert [(kind, before, after) for kind, _summary, before, after in rows] == [
        ("Intervention", "55", "50"),
        ("Intervention", "65", "55"),
        ("Intervention", "65", "65"),
        ("Achat", "5", "65"),
        ("Intervention", "15", "5"),
        ("Intervention", "33", "15"),
        ("Ajustement", "0", "33"),
    ]
    assert rows[0][1] == "Paramétrage Gmail pour accepter connexions Gestan"
    assert "<svg" in html and 'class="purchase"' in html

    tech = app.test_client()
    assert login(tech, "demo", "tech@demo.test", DEMO_PASSWORD).status_code == 302
    found = tech.get("/demo/support/?q=4996")
    token = csrf_token(tech.get(found.location))
    assert (
        tech.post(
            f"{found.location}/interventions",
            data={
                "csrf_token": token,
                "summary": "Sauvegarde vérifiée",
                "minutes": "7",
                "normal": "Normal",
            },
        ).status_code
        == 302
    )
    html = joseph.get("/demo/statement").get_data(as_text=True)
    assert re.search(r'id="balance-\d+">\s*43 min', html)
    assert [table(html)[0][index] for index in (2, 6, 7, 8)] == [
        "Sauvegarde vérifiée",
        "7",
        "50",
        "43",
    ]


@pytest.mark.parametrize("app_config", [SMTP])
def test_the_recap_mail_links_to_the_statement(app, app_config, world, smtp_server):  # noqa: F811
    with bound_to(db.session, world.a.tenant_id):
        db.session.get(Client, world.a.client_id).email = "billing@alpha-client.example"
        db.session.commit()
    assert record(signed_in(app, world, world.a.tech_email), world).status_code == 302
    assert outbox.deliver_due().sent == 1
    text = smtp_server.messages[-1].get_body(("plain",)).get_content()
    link = f"{app.config['PORTAL_BASE_URL']}/{world.a.slug}/statement/{world.a.account_id}"
    assert f"Your statement, with every intervention: {link}" in text
    assert (
        client_user(app, world).get(link.removeprefix(app.config["PORTAL_BASE_URL"])).status_code
        == 200
    )


@pytest.mark.parametrize("suffix", ["", ".csv"])
def test_another_companys_or_tenants_account_answers_404(app, world, suffix):
    browser = client_user(app, world)
    assert browser.get(statement_url(world, suffix=suffix)).status_code == 200
    assert browser.get(statement_url(world, world.a.other_account_id, suffix)).status_code == 404
    assert browser.get(statement_url(world, world.b.account_id, suffix)).status_code == 404
    assert browser.get(f"/{world.b.slug}/statement/{world.b.account_id}{suffix}").status_code == 404
    everything = browser.get(f"/{world.a.slug}/statement.csv")
    assert [row[0] for row in csv_rows(everything)[1:]] == ["ALP1"]


def test_staff_without_the_statement_permission_are_refused(app, world):
    assert (
        signed_in(app, world, world.a.tech_email).get(f"/{world.a.slug}/statement").status_code
        == 403
    )


def test_a_shared_account_shows_to_each_company_and_several_accounts_are_listed(app, world):
    with bound_to(db.session, world.a.tenant_id):
        admin = db.session.get(User, world.a.admin_id)
        other = db.session.get(CreditAccount, world.a.other_account_id)
        credit.link(other, db.session.get(Client, world.a.client_id), actor=acting(admin))
        db.session.commit()
    browser = client_user(app, world)
    html = browser.get(f"/{world.a.slug}/statement").get_data(as_text=True)
    assert html.count("quote it when you call support") == 2
    assert f'href="/{world.a.slug}/statement/{world.a.other_account_id}"' in html
    assert browser.get(statement_url(world, world.a.other_account_id)).status_code == 200
    rows = csv_rows(browser.get(f"/{world.a.slug}/statement.csv"))
    assert sorted(row[0] for row in rows[1:]) == ["ALP1", "ALP2"]


def test_a_company_without_an_account_sees_an_empty_state(app, world):
    with bound_to(db.session, world.a.tenant_id):
        account = db.session.get(CreditAccount, world.a.account_id)
        account.links.clear()
        db.session.commit()
    html = client_user(app, world).get(f"/{world.a.slug}/statement").get_data(as_text=True)
    assert "Your company has no time credit account yet." in html


def test_a_negative_balance_is_red_with_the_seeds_warning(app, world):
    with bound_to(db.session, world.a.tenant_id):
        admin = db.session.get(User, world.a.admin_id)
        credit.adjust(
            credit.lock(world.a.account_id),
            delta=-65,
            reason="Unbilled work",
            actor=acting(admin),
        )
        db.session.commit()
    html = client_user(app, world).get(statement_url(world)).get_data(as_text=True)
    assert re.search(r'class="balance negative" id="balance-\d+">-15 min', html)
    assert "Warning: your time credit is negative" in html


def test_history_pages_newest_first_at_any_depth(app, world):
    grow(world, 59)  # 60 entries with the opening purchase
    browser = client_user(app, world)
    first = browser.get(statement_url(world)).get_data(as_text=True)
    assert history_rows(first)[:2] == ["Intervention 59", "Intervention 58"]
    assert len(history_rows(first)) == 25 and "Newer entries" not in first
    older = re.search(r'href="([^"]+before=\d+)"', first).group(1).replace("&amp;", "&")
    second = browser.get(older).get_data(as_text=True)
    assert history_rows(second)[0] == "Intervention 34"
    third_link = re.search(r'href="([^"]+before=\d+)"', second).group(1).replace("&amp;", "&")
    third = browser.get(third_link).get_data(as_text=True)
    assert len(history_rows(third)) == 10 and history_rows(third)[-1] == "Opening purchase"
    assert "Older entries" not in third
    newer = re.search(r'href="([^"]+after=\d+)"', third).group(1).replace("&amp;", "&")
    assert history_rows(browser.get(newer).get_data(as_text=True)) == history_rows(second)


@pytest.mark.parametrize(
    "query",
    [
        "before=abc",
        "before=-1",
        "after=99999999999",
        "before=0",
        "after=",
        "before=1e9",
        "start=2025-13-45",
        "start=0001-01-01",
        "end=9999-12-31",
        "start=2025-02-01&end=2025-01-01",
        "end=" + "9" * 400,
    ],
)
def test_hostile_query_strings_get_a_page_or_a_field_error_never_a_500(app, world, query):
    grow(world, 3)
    browser = client_user(app, world)
    page = browser.get(f"{statement_url(world)}?{query}")
    assert page.status_code in (200, 400)
    if page.status_code == 400:
        assert 'class="error"' in page.get_data(as_text=True)
        assert "Intervention 3" in page.get_data(as_text=True)  # the unfiltered history
    export = browser.get(f"{statement_url(world, suffix='.csv')}?{query}")
    assert export.status_code in (200, 400)


def test_the_date_filter_limits_the_page_and_the_csv(app, world):
    grow(world, 20)  # one a day from 6 January 2025
    browser = client_user(app, world)
    query = "?start=2025-01-10&end=2025-01-12"
    html = browser.get(statement_url(world) + query).get_data(as_text=True)
    assert history_rows(html) == ["Intervention 7", "Intervention 6", "Time credit purchase"]
    rows = csv_rows(browser.get(statement_url(world, suffix=".csv") + query))
    assert [row[4] for row in rows[1:]] == [
        "Time credit purchase",
        "Intervention 6",
        "Intervention 7",
    ]
    assert f"statement/{world.a.account_id}.csv?start=2025-01-10&amp;end=2025-01-12" in html
    empty = browser.get(statement_url(world) + "?start=2030-01-01").get_data(as_text=True)
    assert "No entries in these dates." in empty
    refused = browser.get(statement_url(world) + "?start=2025-02-01&end=2025-01-01")
    assert refused.status_code == 400
    assert "The end of the range comes before its start." in refused.get_data(as_text=True)
    assert (
        browser.get(statement_url(world, suffix=".csv") + "?start=nonsense").get_data(as_text=True)
        == "From: Give a date as YYYY-MM-DD.\n"
    )


def test_the_csv_is_utf8_with_a_header_iso_dates_integers_and_no_formulas(app, world):
    with bound_to(db.session, world.a.tenant_id):
        tech = db.session.scalar(select(User).where(User.email == world.a.tech_email))
        account = credit.lock(world.a.account_id)
        credit.record_intervention(
            account,
            client=db.session.get(Client, world.a.client_id),
            minutes=12,
            billing=Billing.FREE,
            summary='=HYPERLINK("http://evil.example")',
            advice="Sauvegardez régulièrement",
            review_invited=False,
            actor=acting(tech),
            override_reason=None,
            at=START,
        )
        db.session.commit()
    response = client_user(app, world).get(statement_url(world, suffix=".csv"))
    assert response.status_code == 200 and response.streamed
    assert response.content_type == "text/csv; charset=utf-8"
    assert "statement-ALP1.csv" in response.headers["Content-Disposition"]
    header, opening, intervention = csv_rows(response)
    assert header == [
        "Customer ID",
        "Date and time",
        "Kind",
        "Kind code",
        "Summary",
        "Our advice",
        "Technician",
        "Duration (min)",
        "Billing",
        "Billing code",
        "Credit before",
        "Credit after",
    ]
    assert opening[2:5] == ["Purchase", "purchase", "Opening purchase"]
    assert intervention == [
        "ALP1",
        "2025-01-06T09:00:00+00:00",
        "Intervention",
        "intervention",
        '\'=HYPERLINK("http://evil.example")',
        "Sauvegardez régulièrement",
        "Alpha Tech",
        "12",
        "Free",
        "free",
        "50",
        "50",
    ]


def test_a_branch_limited_user_sees_their_branchs_entries_and_the_whole_balance(app, world):
    with bound_to(db.session, world.a.tenant_id):
        laval = Branch(name="Laval")
        db.session.add(laval)
        db.session.flush()
        db.session.scalar(select(User).where(User.email == world.a.tech_email)).branch_id = laval.id
        db.session.get(User, world.a.client_user_id).branch_id = laval.id
        db.session.commit()
    grow(world, 3, by="tech")
    grow(world, 2, by="admin", start=START + timedelta(days=10))
    html = client_user(app, world).get(statement_url(world)).get_data(as_text=True)
    assert history_rows(html) == ["Intervention 3", "Intervention 2", "Intervention 1"]
    assert "entries of other branches are hidden" in html
    assert re.search(r'id="balance-\d+">\s*20 min', html)  # 50 - 5 × 6: all five count
    rows = csv_rows(client_user(app, world).get(statement_url(world, suffix=".csv")))
    assert [row[4] for row in rows[1:]] == ["Intervention 1", "Intervention 2", "Intervention 3"]


def test_the_chart_samples_a_long_ledger_and_marks_its_purchases(app, world):
    grow(world, MAX_POINTS * 2, step_hours=1)
    html = client_user(app, world).get(statement_url(world)).get_data(as_text=True)
    path = re.search(r'class="balance-line" d="([^"]+)"', html).group(1)
    assert path.count("V") <= MAX_POINTS + MAX_MARKED
    assert html.count('<circle class="purchase"') == MAX_MARKED
    assert re.search(r"<title>Purchase of 30 min on [^<]+</title>", html)
    assert "purchases marked" in html


def test_the_page_costs_the_same_statements_for_a_longer_ledger(app, world):
    browser = client_user(app, world)

    def statements(url: str) -> int:
        # The cold cost: what a ledger's first reader pays, before readcache keeps
        # anything (test_a_second_visit_reads_the_chart_and_totals_from_the_cache).
        app.extensions.pop(readcache.EXTENSION, None)
        seen = []
        listener = event.listens_for(db.engine, "before_cursor_execute")(
            lambda *args: seen.append(args[2])
        )
        try:
            assert browser.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    grow(world, 10, step_hours=1)
    urls = (statement_url(world), f"{statement_url(world)}?start=2025-01-06&before=5")
    short = [statements(url) for url in urls]
    grow(world, MAX_POINTS * 2, step_hours=1, start=START + timedelta(days=30))
    assert [statements(url) for url in urls] == short
    assert max(short) <= 8


def awkward_account(world) -> int:
    """An account of tenant ``a``'s client whose entries exercise every case of the CSV:
    commas, quotes and line breaks to quote, cells that would start a formula, an empty
    advice, no technician, purchases with the standard summary (and an intervention
    that merely says the same), an adjustment, a free intervention, a negative balance,
    in a time zone behind UTC by hours and a half whose daylight-saving time starts
    and ends between the entries."""
    with bound_to(db.session, world.a.tenant_id):
        db.session.get(Tenant, world.a.tenant_id).timezone = "America/St_Johns"
        tech = db.session.scalar(select(User).where(User.email == world.a.tech_email))
        tech.name = '@lpha "Ace" Tech, Jr.'
        account = CreditAccount(
            customer_id='=ALP "9"',
            billing_client_id=world.a.client_id,
            balance_minutes=0,
            entry_count=0,
        )
        account.links.append(CreditAccountClient(client_id=world.a.client_id))
        db.session.add(account)
        db.session.flush()
        client = db.session.get(Client, world.a.client_id)

        def intervention(at: datetime, minutes: int, billing: Billing, summary: str, advice):
            credit.record_intervention(
                account,
                client=client,
                minutes=minutes,
                billing=billing,
                summary=summary,
                advice=advice,
                review_invited=False,
                override_reason=None,
                actor=acting(tech),
                at=at,
            )

        def purchase(at: datetime, minutes: int):
            credit.record_purchase(
                account,
                minutes=minutes,
                amount=None,
                reference=None,
                valid_until=None,
                actor=acting(tech),
                at=at,
            )

        purchase(datetime(2025, 1, 6, 2, 0, tzinfo=UTC), 60)
        intervention(
            datetime(2025, 1, 7, 13, 15, 42, 500000, tzinfo=UTC),
            45,
            Billing.NORMAL,
            'Printer, then the "scanner"',
            "=SUM(A1:A9)",
        )
        # The last second before the clocks go forward, then the first one after.
        intervention(
            datetime(2025, 3, 9, 5, 29, 59, 999999, tzinfo=UTC),
            20,
            Billing.FREE,
            "+Line one\nLine two\r\nLine three",
            "",
        )
        intervention(
            datetime(2025, 3, 9, 5, 30, tzinfo=UTC),
            5,
            Billing.NORMAL,
            credit.PURCHASE_SUMMARY,
            "\tIndented",
        )
        credit.adjust(
            account,
            delta=-100,
            reason='-100: the old system\'s "debt"',
            actor=Actor(tenant=db.session.get(Tenant, world.a.tenant_id)),
            at=datetime(2025, 7, 1, 12, 0, tzinfo=UTC),
        )
        purchase(datetime(2025, 11, 2, 12, 0, tzinfo=UTC), 30)
        db.session.commit()
        return account.id


AWKWARD_CSV_EN = (
    "\ufeffCustomer ID,Date and time,Kind,Kind code,Summary,Our advice,Technician,"
    "Duration (min),Billing,Billing code,Credit before,Credit after\r\n"
    '"\'=ALP ""9""",2025-01-05T22:30:00-03:30,Purchase,purchase,Time credit purchase,,'
    '"\'@lpha ""Ace"" Tech, Jr.",,,,0,60\r\n'
    '"\'=ALP ""9""",2025-01-07T09:45:42-03:30,Intervention,intervention,'
    '"Printer, then the ""scanner""",\'=SUM(A1:A9),"\'@lpha ""Ace"" Tech, Jr.",'
    "45,Normal,normal,60,15\r\n"
    '"\'=ALP ""9""",2025-03-09T01:59:59-03:30,Intervention,intervention,'
    '"\'+Line one\nLine two\r\nLine three",,"\'@lpha ""Ace"" Tech, Jr.",20,Free,free,15,15\r\n'
    '"\'=ALP ""9""",2025-03-09T03:00:00-02:30,Intervention,intervention,'
    'Time credit purchase,\'\tIndented,"\'@lpha ""Ace"" Tech, Jr.",5,Normal,normal,15,10\r\n'
    '"\'=ALP ""9""",2025-07-01T09:30:00-02:30,Adjustment,adjustment,'
    '"\'-100: the old system\'s ""debt""",,,,,,10,-90\r\n'
    '"\'=ALP ""9""",2025-11-02T08:30:00-03:30,Purchase,purchase,Time credit purchase,,'
    '"\'@lpha ""Ace"" Tech, Jr.",,,,-90,-60\r\n'
)

#: The same in French: the words and a purchase's standard summary, nothing else; the
#: intervention that only says "Time credit purchase" keeps it as written.
AWKWARD_CSV_FR = (
    "\ufeffNuméro client,Date et heure,Type,Code du type,Nature de l'intervention,"
    "Notre conseil,Technicien,Durée (mn),Facturation,Code de facturation,Crédit avant,"
    "Crédit après\r\n"
    '"\'=ALP ""9""",2025-01-05T22:30:00-03:30,Achat,purchase,Achat de crédit-temps,,'
    '"\'@lpha ""Ace"" Tech, Jr.",,,,0,60\r\n'
    '"\'=ALP ""9""",2025-01-07T09:45:42-03:30,Intervention,intervention,'
    '"Printer, then the ""scanner""",\'=SUM(A1:A9),"\'@lpha ""Ace"" Tech, Jr.",'
    "45,Normal,normal,60,15\r\n"
    '"\'=ALP ""9""",2025-03-09T01:59:59-03:30,Intervention,intervention,'
    '"\'+Line one\nLine two\r\nLine three",,"\'@lpha ""Ace"" Tech, Jr.",20,Gratuit,free,'
    "15,15\r\n"
    '"\'=ALP ""9""",2025-03-09T03:00:00-02:30,Intervention,intervention,'
    'Time credit purchase,\'\tIndented,"\'@lpha ""Ace"" Tech, Jr.",5,Normal,normal,15,10\r\n'
    '"\'=ALP ""9""",2025-07-01T09:30:00-02:30,Ajustement,adjustment,'
    '"\'-100: the old system\'s ""debt""",,,,,,10,-90\r\n'
    '"\'=ALP ""9""",2025-11-02T08:30:00-03:30,Achat,purchase,Achat de crédit-temps,,'
    '"\'@lpha ""Ace"" Tech, Jr.",,,,-90,-60\r\n'
)


@pytest.mark.parametrize(("locale", "expected"), [(None, AWKWARD_CSV_EN), ("fr", AWKWARD_CSV_FR)])
def test_the_csv_text_is_pinned_byte_for_byte_on_every_database(app, world, locale, expected):
    """PostgreSQL writes the lines itself and SQLite leaves them to Python: the same
    expected text on both proves the two agree."""
    account_id = awkward_account(world)
    with bound_to(db.session, world.a.tenant_id):
        db.session.get(User, world.a.client_user_id).locale = locale
        db.session.commit()
    response = client_user(app, world).get(statement_url(world, account_id, ".csv"))
    assert response.status_code == 200
    assert response.get_data(as_text=True) == expected


def test_the_export_reads_only_what_the_users_scope_allows(app, world):
    """Asked for every account of both tenants, the export of a client user's session
    writes their company's entries only: the tenancy hook scopes the query that builds
    the lines, whichever database builds them. Without the hook it would write them all."""
    ledgers = [
        (world.a.account_id, "ALP1"),
        (world.a.other_account_id, "ALP2"),
        (world.b.account_id, "BET1"),
        (world.b.other_account_id, "BET2"),
    ]
    with bound_to(db.session, world.a.tenant_id):
        user = db.session.get(User, world.a.client_user_id)
        visibility = ClientVisibility.of(user)

    def exported() -> list[str]:
        with app.test_request_context():
            text = "".join(csv_chunks(ledgers, EntryFilter()))
        return [row[0] for row in csv.reader(io.StringIO(text[1:]))][1:]

    with bound_to(db.session, world.a.tenant_id, visibility):
        assert exported() == ["ALP1"]
        with cross_tenant(db.session):
            assert exported() == ["ALP1", "ALP2", "BET1", "BET2"]


def test_history_rows_and_their_requests_stay_in_the_readers_tenant_and_company(app, world):
    """The history's rows of columns (``read_entries``) go through the scoping hook, and
    so do the requests they link, read by id: another tenant or company reads no entry,
    and a request out of the reader's sight is no link."""
    grow(world, 2, step_hours=1)
    with bound_to(db.session, world.a.tenant_id):
        newest, previous = db.session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.account_id == world.a.account_id)
            .order_by(LedgerEntry.position.desc())
            .limit(2)
        ).all()
        # As if recorded from each company's request on an account they share.
        newest.request_id, previous.request_id = world.a.request_id, world.a.other_request_id
        db.session.commit()

    def history_of(tenant_id: int, client_id: int) -> list:
        visibility = ClientVisibility(client_id=client_id)
        with app.app_context(), bound_to(db.session, tenant_id, visibility):
            return read_entries(
                shown_entries()
                .where(LedgerEntry.account_id == world.a.account_id)
                .order_by(LedgerEntry.position.desc())
            )

    assert history_of(world.b.tenant_id, world.b.client_id) == []
    assert history_of(world.a.tenant_id, world.a.other_client_id) == []
    entries = history_of(world.a.tenant_id, world.a.client_id)
    assert [entry.request.id if entry.request else None for entry in entries[:2]] == [
        world.a.request_id,
        None,
    ]
