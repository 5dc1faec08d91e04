"""The balance chart a customer can read: balances at round values, dates along the axis
at calendar steps in the reader's language, the dates asked for, the quiet stretch since
the last movement drawn short, the purchases marked and labelled, negative balances
shaded, a text alternative, and a print in black and greys."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from portal.extensions import db
from portal.i18n import format_date
from portal.models import Billing, Client, LedgerEntry, User
from portal.models.base import utcnow
from portal.services import credit
from portal.services.credit import format_minutes
from portal.statement.chart import HEIGHT, date_ticks, levels
from portal.tenancy import bound_to
from tests.conftest import acting, login
from tests.test_cli import DEMO_PASSWORD, run
from tests.test_statement import START, client_user, grow, statement_url

DATE_ROW = f"{HEIGHT - 9:.1f}"


def chart_of(html: str) -> str:
    return re.search(r'<figure class="chart">.*?</figure>', html, re.S).group(0)


def balance_labels(chart: str) -> list[str]:
    """The balances written along the axis (at the right edge, bottom to top)."""
    found = re.findall(r'<text class="tick halo[^"]*" x="100.00%"[^>]*>([^<]+)</text>', chart)
    return [text for text in found if not text.startswith("+")]


def date_labels(chart: str) -> list[str]:
    """The dates written under the axis, from left to right."""
    found = re.findall(
        rf'<text class="tick(?: wide| wider)?" x="([\d.]+)%" y="{DATE_ROW}"[^>]*>([^<]+)</text>',
        chart,
    )
    return [text for _x, text in sorted(found, key=lambda found: float(found[0]))]


def date_opening(world, at: datetime) -> None:
    """The fixture account's opening purchase, dated ``at`` (it is dated now)."""
    with bound_to(db.session, world.a.tenant_id):
        opening = db.session.scalar(
            select(LedgerEntry).where(
                LedgerEntry.account_id == world.a.account_id, LedgerEntry.position == 1
            )
        )
        opening.created_at = at
        db.session.commit()


def intervene(world, minutes: int, at: datetime) -> None:
    with bound_to(db.session, world.a.tenant_id):
        technician = db.session.scalar(select(User).where(User.email == world.a.tech_email))
        account = credit.lock(world.a.account_id)
        credit.record_intervention(
            account,
            client=db.session.get(Client, account.billing_client_id),
            minutes=minutes,
            billing=Billing.NORMAL,
            summary="Long intervention",
            advice=None,
            review_invited=False,
            actor=acting(technician),
            override_reason=None,
            at=at,
        )
        db.session.commit()


@pytest.mark.parametrize(
    ("lowest", "highest", "labels"),
    [
        (0, 50, ["0 min", "15 min", "30 min", "45 min"]),
        (0, 200, ["0 min", "1 h", "2 h", "3 h"]),
        (0, 65, ["0 min", "15 min", "30 min", "45 min", "1 h"]),
        (0, 120, ["0 min", "30 min", "1 h", "1 h 30 min", "2 h"]),
        (0, 600, ["0 min", "3 h", "6 h", "9 h"]),
        (0, 3000, ["0 min", "20 h", "40 h"]),
        (0, 60, ["0 min", "15 min", "30 min", "45 min", "1 h"]),
        (-48, 50, ["-30 min", "0 min", "30 min"]),
        (0, 20, ["0 min", "5 min", "10 min", "15 min", "20 min"]),
        (-20, 50, ["-15 min", "0 min", "15 min", "30 min", "45 min"]),
        (-90, 0, ["-1 h 30 min", "-1 h", "-30 min", "0 min"]),
    ],
)
def test_the_balances_are_labelled_at_round_values(lowest, highest, labels):
    assert [format_minutes(value) for value in levels(lowest, highest)] == labels


def test_the_dates_are_labelled_at_month_and_year_steps(app):
    with app.test_request_context(), force_locale("en"):
        # Fifteen months, five labels at most: a quarter each.
        months = date_ticks(
            datetime(2020, 10, 26, 14, tzinfo=UTC), datetime(2022, 2, 1, 19, tzinfo=UTC), 5
        )
        assert [tick.long for tick in months] == [
            "Jan 2021",
            "Apr 2021",
            "Jul 2021",
            "Oct 2021",
            "Jan 2022",
        ]
        assert [tick.short for tick in months] == ["Jan", "Apr", "Jul", "Oct", "Jan"]
        assert months[0].at == datetime(2021, 1, 1, tzinfo=UTC)
        # Room for more: every month.
        spring = date_ticks(datetime(2025, 1, 6, tzinfo=UTC), datetime(2025, 5, 20, tzinfo=UTC), 8)
        assert [tick.short for tick in spring] == ["Feb", "Mar", "Apr", "May"]
        # Six years: one label a year, then every other year when room is short.
        years = datetime(2019, 5, 1, tzinfo=UTC), datetime(2025, 11, 30, tzinfo=UTC)
        assert [tick.long for tick in date_ticks(*years, 7)] == [
            "2020",
            "2021",
            "2022",
            "2023",
            "2024",
            "2025",
        ]
        assert [tick.long for tick in date_ticks(*years, 4)] == ["2020", "2022", "2024"]
        # Five weeks: Mondays.
        weeks = date_ticks(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 4, tzinfo=UTC), 6)
        assert [tick.short for tick in weeks] == ["Jan 6", "Jan 13", "Jan 20", "Jan 27", "Feb 3"]
    with app.test_request_context(), force_locale("fr"):
        french = date_ticks(datetime(2020, 10, 26, tzinfo=UTC), datetime(2022, 2, 1, tzinfo=UTC), 5)
        assert [tick.long for tick in french][:2] == ["janv. 2021", "avr. 2021"]


def test_the_axes_read_round_balances_and_months_and_the_quiet_stretch_is_short(app, world):
    date_opening(world, START - timedelta(days=7))
    grow(world, 10, step_hours=24 * 14)  # every other week until May 12, 2025
    chart = chart_of(client_user(app, world).get(statement_url(world)).get_data(as_text=True))
    # 0 to 1 h 02 min: every quarter of an hour.
    assert balance_labels(chart) == ["0 min", "15 min", "30 min", "45 min", "1 h"]
    dates = date_labels(chart)
    assert dates[0] == "Dec 30, 2024"
    with app.test_request_context(), force_locale("en"):
        assert dates[-1] == format_date(utcnow(), "medium")  # today
    # Between them, months (the first with its year), from left to right.
    assert [label.split()[0] for label in dates[1:-1]] == ["Feb", "Mar", "Apr", "May"]
    assert dates[1] == "Feb 2025"
    # The year and a half since the last movement takes an eighth of the width; the
    # history the rest.
    assert '<rect class="quiet" x="88.00%" width="12.00%"' in chart
    last_step = re.findall(r"H([\d.]+)V", re.search(r'class="balance-line" d="([^"]+)"', chart)[1])
    assert float(last_step[-1]) == pytest.approx(880, abs=1)
    assert "No movement since May 12, 2025." in chart
    assert "Grey bands: stretches without any movement, drawn shorter." in chart


def test_a_recent_history_is_drawn_to_scale(app, world):
    # Ten days of history and three since, whatever the hour: from 9:00 today, the
    # evening's three days and a third would pass the quarter of the width that makes
    # a stretch quiet, and the test would fail after 17:00 UTC.
    recently = utcnow().replace(second=0, microsecond=0) - timedelta(days=12)
    date_opening(world, recently - timedelta(days=1))
    grow(world, 10, start=recently)
    chart = chart_of(client_user(app, world).get(statement_url(world)).get_data(as_text=True))
    assert 'class="quiet"' not in chart and "No movement since" not in chart
    assert "Grey bands" not in chart


def test_the_dates_asked_for_are_the_axis_ends(app, world):
    date_opening(world, START - timedelta(days=7))
    grow(world, 10, step_hours=24 * 14)
    html = (
        client_user(app, world)
        .get(statement_url(world, suffix="?start=2025-01-01&end=2025-03-31"))
        .get_data(as_text=True)
    )
    dates = date_labels(chart_of(html))
    assert (dates[0], dates[-1]) == ("Jan 1, 2025", "Mar 31, 2025")
    # The entries from January 6 to March 31 fill the width to scale.
    assert 'class="quiet"' not in chart_of(html)


def test_purchases_are_marked_and_labelled_with_their_minutes(app, world):
    date_opening(world, START - timedelta(days=7))
    grow(world, 10, step_hours=24 * 14)
    chart = chart_of(client_user(app, world).get(statement_url(world)).get_data(as_text=True))
    # The opening purchase and the two of 30 minutes: a circle each, with its words.
    assert chart.count('<circle class="purchase"') == 3
    assert "<title>Purchase of 30 min on 3/3/25</title>" in chart
    labels = re.findall(r'<text class="tick halo[^"]*"[^>]*>(\+[^<]+)</text>', chart)
    assert sorted(labels) == ["+30 min", "+30 min", "+50 min"]


def test_a_negative_balance_is_shaded_below_zero(app, world):
    date_opening(world, START - timedelta(days=7))
    grow(world, 3, step_hours=24 * 14)
    browser = client_user(app, world)
    assert 'class="negative-area"' not in chart_of(
        browser.get(statement_url(world)).get_data(as_text=True)
    )
    intervene(world, 80, START + timedelta(days=50))  # 32 min - 80 min
    chart = chart_of(browser.get(statement_url(world)).get_data(as_text=True))
    area = re.search(r'<path class="negative-area" d="([^"]+)"', chart)[1]
    zero = float(re.search(r'<line class="zero"[^>]*y1="([\d.]+)"', chart)[1])
    # From the intervention to the end, between zero and the balance (below zero).
    assert re.fullmatch(rf"M[\d.]+,{zero:.1f}V[\d.]+H1000.0V{zero:.1f}Z", area)
    assert float(area.split("V")[1].split("H")[0]) > zero
    assert balance_labels(chart) == ["-30 min", "0 min", "30 min"]
    assert "lowest -48 min" in chart


def test_the_chart_has_a_title_a_description_and_the_table_beside_it(app, world):
    date_opening(world, START - timedelta(days=7))
    grow(world, 5, step_hours=24 * 14)
    html = client_user(app, world).get(statement_url(world)).get_data(as_text=True)
    chart = chart_of(html)
    svg = re.search(r"<svg [^>]*>", chart)[0]
    assert 'role="img"' in svg
    title_id, desc_id = re.search(r'aria-labelledby="([\w-]+) ([\w-]+)"', svg).groups()
    assert f'<title id="{title_id}">Balance over time</title>' in chart
    desc = re.search(rf'<desc id="{desc_id}">([^<]+)</desc>', chart)[1]
    assert desc.startswith("Balance from December 30, 2024 (0 min) to March 3, 2025 (56 min)")
    assert "2 purchases marked." in desc
    assert '<table class="history"' in html


def test_the_chart_prints_in_black_and_greys():
    css = (Path(__file__).parent.parent / "static" / "portal.css").read_text()
    printed = "".join(re.findall(r"@media print \{(.*?)\n\}", css, re.S))
    for part in (".chart .balance-line", ".chart .negative-area", ".chart .tick", ".chart .quiet"):
        assert part in printed, part


def test_account_4996s_chart_reads_in_french_with_round_balances_and_dates(app):
    run(app, "demo", "--password", DEMO_PASSWORD)
    joseph = app.test_client()
    assert login(joseph, "demo", "jszczygiel@jmactions.com", DEMO_PASSWORD).status_code == 302
    chart = chart_of(joseph.get("/demo/statement").get_data(as_text=True))
    assert balance_labels(chart) == ["0 min", "15 min", "30 min", "45 min", "1 h"]
    dates = date_labels(chart)
    assert dates[0] == "26 oct. 2020"
    assert "juil. 2021" in dates or "juil." in dates
    # The years since the last movement, February 1, 2022, are drawn short.
    assert 'class="quiet"' in chart
    assert "+1 h" in chart
