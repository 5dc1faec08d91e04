"""Staff who see part of a tenant (limited to a branch, or to their assigned clients) and
an account shared with a company out of their sight: they see the company they serve,
the whole account's balance, policy and totals, and the entries of their own companies;
they record for their company; the company they cannot see is never named."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Billing, Client, Contact, LedgerEntry, OutboxMail, User
from portal.services import credit
from portal.tenancy import bound_to
from tests.conftest import acting, csrf_token, login

LIMITED_STAFF = ["branch-limited", "assignment-limited"]


def browser_for(app, shared_world, email: str):
    browser = app.test_client()
    assert login(browser, shared_world.world.a.slug, email).status_code == 302
    return browser


def limited_browser(app, shared_world, who: str):
    email = (
        shared_world.branch_tech_email
        if who == "branch-limited"
        else shared_world.assigned_tech_email
    )
    return browser_for(app, shared_world, email)


def account_url(shared_world) -> str:
    return f"/{shared_world.world.a.slug}/support/accounts/{shared_world.account_id}"


def record_directly(shared_world, client_id: int, summary: str, minutes: int, at=None):
    """An intervention recorded by the administrator, who sees every company."""
    world = shared_world.world.a
    with bound_to(db.session, world.tenant_id):
        account = credit.lock(shared_world.account_id)
        credit.record_intervention(
            account,
            client=db.session.get(Client, client_id),
            minutes=minutes,
            billing=Billing.NORMAL,
            summary=summary,
            advice=None,
            review_invited=False,
            actor=acting(db.session.get(User, world.admin_id)),
            override_reason=None,
            at=at,
        )
        db.session.commit()


def record_as(app, shared_world, who: str, summary: str, client_id: int):
    """A 20-minute normal intervention, recorded through the form by ``who``."""
    browser = limited_browser(app, shared_world, who)
    page = browser.get(account_url(shared_world))
    return browser.post(
        f"{account_url(shared_world)}/interventions",
        data={
            "csrf_token": csrf_token(page),
            "summary": summary,
            "minutes": "20",
            "client_id": str(client_id),
            "normal": "Normal",
        },
    )


def last_year_figure(body: str) -> str:
    return re.search(r"Last 12 months</dt><dd>([^<]*)</dd>", body).group(1)


@pytest.mark.parametrize("who", LIMITED_STAFF)
def test_the_account_page_shows_the_company_served_and_never_the_one_billed(app, shared_world, who):
    world = shared_world.world.a
    response = limited_browser(app, shared_world, who).get(account_url(shared_world))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert world.client_name in body
    assert world.contact_name in body  # the served company's contact stands in
    assert 'id="billing-hidden"' in body
    assert not any(name in body for name in shared_world.hidden_names)


def test_staff_who_see_every_company_see_the_billed_one_and_no_notice(app, shared_world):
    world = shared_world.world.a
    body = browser_for(app, shared_world, world.admin_email).get(account_url(shared_world))
    body = body.get_data(as_text=True)
    assert world.other_client_name in body and world.client_name in body
    assert 'id="billing-hidden"' not in body


@pytest.mark.parametrize("who", LIMITED_STAFF)
def test_the_search_leads_them_to_the_shared_account_and_it_opens(app, shared_world, who):
    browser = limited_browser(app, shared_world, who)
    response = browser.get(f"/{shared_world.world.a.slug}/support/?q=SHARED")
    assert response.status_code == 302
    assert response.location.endswith(account_url(shared_world))
    assert browser.get(response.location).status_code == 200


@pytest.mark.parametrize("who", LIMITED_STAFF)
def test_they_record_for_the_company_they_serve_and_it_is_mailed_to_it(app, shared_world, who):
    world = shared_world.world.a
    with bound_to(db.session, world.tenant_id):
        db.session.get(Contact, world.contact_id).recap_mails = True
        db.session.commit()
    response = record_as(app, shared_world, who, "Replaced the router", world.client_id)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    with bound_to(db.session, world.tenant_id):
        entry = db.session.scalar(
            select(LedgerEntry).where(LedgerEntry.account_id == shared_world.account_id)
        )
        assert (entry.client_id, entry.minutes, entry.credit_after) == (world.client_id, 20, -20)
        recaps = db.session.scalars(select(OutboxMail.to_address)).all()
    assert recaps == [f"contact1@{world.slug}-client.test"]


@pytest.mark.parametrize("who", LIMITED_STAFF)
def test_they_cannot_record_for_the_company_they_cannot_see(app, shared_world, who):
    world = shared_world.world.a
    response = record_as(app, shared_world, who, "Forged", world.other_client_id)
    assert response.status_code == 400
    assert not any(name in response.get_data(as_text=True) for name in shared_world.hidden_names)
    with bound_to(db.session, world.tenant_id):
        assert (
            db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.summary == "Forged")) is None
        )


@pytest.mark.parametrize("who", LIMITED_STAFF)
def test_they_read_their_companies_entries_and_the_whole_accounts_figures(app, shared_world, who):
    world = shared_world.world.a
    long_ago = datetime(datetime.now(UTC).year - 2, 6, 1, tzinfo=UTC)
    # The latest entry older than a year is the other company's: the last 12 months are
    # counted from it, whoever looks.
    record_directly(shared_world, world.client_id, "Old work here", 7, long_ago)
    record_directly(shared_world, world.other_client_id, "Old work elsewhere", 20, long_ago)
    record_directly(shared_world, world.other_client_id, "Work for the other company", 25)
    record_directly(shared_world, world.client_id, "Work for our company", 5)

    mine = limited_browser(app, shared_world, who).get(account_url(shared_world))
    everything = browser_for(app, shared_world, world.admin_email).get(account_url(shared_world))
    mine, everything = mine.get_data(as_text=True), everything.get_data(as_text=True)

    assert "Work for our company" in mine and "Old work here" in mine
    assert "Work for the other company" not in mine and "Old work elsewhere" not in mine
    assert "Work for the other company" in everything
    # The balance and the totals are the whole account's, whoever looks.
    assert ">-57 min<" in mine and ">-57 min<" in everything
    assert last_year_figure(mine) == last_year_figure(everything) == "30 min"
