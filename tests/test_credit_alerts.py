"""Credit alerts (issue 19): the customer is mailed when the balance falls below the
account's threshold (the tenant's by default), when it turns negative, and 30 days
before the validity date; each once per crossing, through the outbox, to the addresses
that take the recap mails, with their unsubscribe link; and the support screen says
when each went out."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.mail import outbox
from portal.models import Client, CreditAccount, OutboxMail, Tenant
from portal.models.base import utcnow
from portal.tenancy import bound_to, cross_tenant
from tests.conftest import csrf_token
from tests.test_cli import run
from tests.test_credit import account_row, record, set_balance, signed_in
from tests.test_mail_layout import assert_readable_in_mail_clients

BILLING = "billing@alpha-client.example"


@pytest.fixture
def mailed(world):
    """The paying company has an address that takes the recap mails."""
    with bound_to(db.session, world.a.tenant_id):
        db.session.get(Client, world.a.client_id).email = BILLING
        db.session.commit()
    return world


def alert_mails(kind: str | None = None) -> list[OutboxMail]:
    db.session.expire_all()
    with cross_tenant(db.session):
        query = select(OutboxMail).where(OutboxMail.kind.like("credit_%")).order_by(OutboxMail.id)
        if kind:
            query = query.where(OutboxMail.kind == f"credit_{kind}")
        return list(db.session.scalars(query))


def support_screen(app, world) -> str:
    browser = signed_in(app, world, world.a.admin_email)
    return browser.get(f"/{world.a.slug}/support/accounts/{world.a.account_id}").get_data(
        as_text=True
    )


def test_falling_below_the_tenants_threshold_mails_once_per_crossing(app, mailed):
    world = mailed
    set_balance(world, 70)  # the tenant alerts below 60 minutes by default
    tech = signed_in(app, world, world.a.tech_email)
    assert record(tech, world, minutes="5").status_code == 302  # 65: still above
    assert alert_mails() == []
    crossed = record(tech, world, minutes="10")  # 55: crosses
    assert "A credit alert went to the customer too" in tech.get(crossed.location).get_data(
        as_text=True
    )
    (low,) = alert_mails("low")
    assert low.to_address == BILLING and low.subject == "Your time credit is running low"
    assert "1 h" in low.text_body and "Time credit balance: 55 minutes." in low.text_body
    assert low.from_address.endswith(">") and low.headers["List-Unsubscribe"].startswith("<http")
    record(tech, world, minutes="10")  # 45: still below, no new mail
    assert len(alert_mails()) == 1
    assert "Low-credit alert sent on" in support_screen(app, world)

    # Time bought lifts the balance back: the next fall is a new crossing.
    admin = signed_in(app, world, world.a.admin_email)
    base = f"/{world.a.slug}/support/accounts/{world.a.account_id}"
    page = admin.get(f"{base}/purchase")
    admin.post(f"{base}/purchase", data={"csrf_token": csrf_token(page), "minutes": "60"})
    assert account_row(world).low_alert_sent_at is None
    assert "Low-credit alert sent on" not in support_screen(app, world)
    record(tech, world, minutes="50")  # 105 -> 55
    assert len(alert_mails("low")) == 2


def test_turning_negative_mails_the_negative_alert_alone(app, mailed):
    world = mailed
    set_balance(world, 70)
    tech = signed_in(app, world, world.a.tech_email)
    record(tech, world, minutes="80")  # 70 -> -10: through the threshold and zero at once
    assert [mail.kind for mail in alert_mails()] == ["credit_negative"]
    (negative,) = alert_mails()
    assert "your time credit is negative" in negative.text_body
    assert "-10 minutes" in negative.text_body
    record(tech, world, minutes="5")  # still negative: told already
    assert len(alert_mails()) == 1
    assert "Negative-balance alert sent on" in support_screen(app, world)


def test_a_free_intervention_or_a_balance_already_low_sends_nothing(app, mailed):
    world = mailed  # the fixture's account is at 50, below the tenant's 60 already
    tech = signed_in(app, world, world.a.tech_email)
    record(tech, world, normal=None, free="Free")
    record(tech, world, minutes="5")
    assert alert_mails() == []


def test_the_accounts_threshold_wins_and_is_set_on_the_support_screen(app, mailed):
    world = mailed
    admin = signed_in(app, world, world.a.admin_email)
    url = f"/{world.a.slug}/support/accounts/{world.a.account_id}/alerts"
    page = admin.get(url)
    assert "the portal&#39;s setting, 1 h" in page.get_data(as_text=True)
    bad = admin.post(url, data={"csrf_token": csrf_token(page), "minutes": "-3"})
    assert bad.status_code == 200 and "Between 0 and" in bad.get_data(as_text=True)
    assert account_row(world).alert_threshold_minutes is None
    assert (
        admin.post(url, data={"csrf_token": csrf_token(page), "minutes": "30"}).status_code == 302
    )
    assert account_row(world).alert_threshold_minutes == 30
    assert "Below 30 min" in support_screen(app, world)
    tech = signed_in(app, world, world.a.tech_email)
    record(tech, world, minutes="15")  # 50 -> 35: above this account's 30
    assert alert_mails() == []
    record(tech, world, minutes="10")  # 35 -> 25
    assert len(alert_mails("low")) == 1
    assert tech.get(url).status_code == 403, "a technician does not set it"


def test_the_validity_alert_goes_once_30_days_before_and_again_for_a_new_date(app, mailed):
    world = mailed
    today = utcnow().date()
    with bound_to(db.session, world.a.tenant_id):
        account = db.session.get(CreditAccount, world.a.account_id)
        account.valid_until = today + timedelta(days=45)
        db.session.commit()
    assert "0 credit alerts queued" in run(app, "credit", "alerts").output
    with bound_to(db.session, world.a.tenant_id):
        db.session.get(CreditAccount, world.a.account_id).valid_until = today + timedelta(days=30)
        db.session.commit()
    assert "1 credit alerts queued" in run(app, "credit", "alerts").output
    assert "0 credit alerts queued" in run(app, "credit", "alerts").output, "told once"
    (expiry,) = alert_mails("expiry")
    assert expiry.subject == "Your time credit reaches its validity date soon"
    assert "Validity alert sent on" in support_screen(app, world)

    # A renewal sets a new date, which is told in its turn when it draws near.
    admin = signed_in(app, world, world.a.admin_email)
    base = f"/{world.a.slug}/support/accounts/{world.a.account_id}"
    page = admin.get(f"{base}/purchase")
    renewed = (today + timedelta(days=20)).isoformat()
    admin.post(
        f"{base}/purchase",
        data={"csrf_token": csrf_token(page), "minutes": "60", "valid_until": renewed},
    )
    assert len(alert_mails("expiry")) == 2, "the purchase's new date is near: told at once"


def test_a_past_validity_date_is_not_announced(app, mailed):
    world = mailed
    with bound_to(db.session, world.a.tenant_id):
        account = db.session.get(CreditAccount, world.a.account_id)
        account.valid_until = date(2020, 1, 1)
        db.session.commit()
    assert "0 credit alerts queued" in run(app, "credit", "alerts").output


def test_an_unsubscribed_address_gets_no_alert_and_the_link_is_the_recaps(app, mailed):
    world = mailed
    set_balance(world, 70)
    tech = signed_in(app, world, world.a.tech_email)
    record(tech, world, minutes="15")
    (low,) = alert_mails("low")
    link = re.search(r"<http://portal\.test(\S+)>", low.headers["List-Unsubscribe"]).group(1)
    page = app.test_client().post(link, data={"List-Unsubscribe": "One-Click"})
    assert page.status_code == 200
    set_balance(world, 70)
    record(tech, world, minutes="15")
    assert len(alert_mails("low")) == 1, "unsubscribed from the recaps: no more alerts"


def test_the_alert_mail_is_html_with_a_text_part_in_the_recipients_language(app, mailed):
    world = mailed
    with bound_to(db.session, world.a.tenant_id):
        db.session.get(Client, world.a.client_id).language = "fr"
        db.session.commit()
    set_balance(world, 70)
    record(signed_in(app, world, world.a.tech_email), world, minutes="15")
    (low,) = alert_mails("low")
    with cross_tenant(db.session):
        tenant_name = db.session.get(Tenant, world.a.tenant_id).name
    assert_readable_in_mail_clients(low, tenant_name)
    assert low.subject == "Votre crédit-temps s’épuise"
    assert "Solde de crédit-temps\u00a0: 55 minutes." in low.text_body
    assert outbox.deliver_due().sent == 2  # the recap, then the alert
    sent = app.extensions["mailman"].outbox[-1]
    assert sent.subject == "Votre crédit-temps s’épuise"
    assert sent.alternatives and sent.alternatives[0][1] == "text/html"


def test_alerts_of_an_account_go_to_the_company_that_pays_whoever_records(app, shared_world):
    """A technician limited to a branch may not see the company that pays; the alert
    goes to that company all the same, and its name stays out of the technician's sight."""
    world = shared_world.world
    with bound_to(db.session, world.a.tenant_id):
        db.session.get(Client, world.a.other_client_id).email = "payer@alpha-other.example"
        db.session.commit()
    tech = signed_in(app, world, shared_world.branch_tech_email)
    response = record(tech, world, account_id=shared_world.account_id)  # 0 -> -12
    assert response.status_code == 302
    (negative,) = alert_mails("negative")
    assert negative.to_address == "payer@alpha-other.example"
    page = tech.get(response.location).get_data(as_text=True)
    assert "Negative-balance alert sent on" in page
    assert not any(name in page for name in shared_world.hidden_names)
