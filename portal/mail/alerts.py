"""Credit alerts: the customer hears that their time credit needs them before a
technician has to refuse a call. Three alerts, each mailed once per crossing, not at
every intervention that follows it:

- *low*: the balance fell below the account's threshold (the tenant's by default);
- *negative*: the balance fell below zero (which says more than *low*: a balance that
  drops from above the threshold straight below zero sends this one only);
- *expiry*: the validity date is 30 days away or less.

A crossing is an entry that takes the balance from at or above the line to below it:
after a purchase lifts it back, the next fall mails again. A validity date is told
once; a new date (a renewal) is told in its turn.
The alerts go to the addresses that receive the recap mails of the company that pays
for the account, with the same unsubscribe link: an address that stopped the recaps
gets no alert either.
"""

import enum
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.mail import outbox, recaps
from portal.models import Client, Contact, CreditAccount, Tenant
from portal.models.base import utcnow
from portal.services import credit
from portal.services.links import portal_url
from portal.tenancy import unrestricted_clients

#: How long before the validity date the customer is told.
EXPIRY_NOTICE = timedelta(days=30)


class Alert(enum.StrEnum):
    LOW = "low"
    NEGATIVE = "negative"
    EXPIRY = "expiry"


SUBJECTS = {
    Alert.LOW: _l("Your time credit is running low"),
    Alert.NEGATIVE: _l("Your time credit is negative"),
    Alert.EXPIRY: _l("Your time credit reaches its validity date soon"),
}


def threshold(account: CreditAccount, tenant: Tenant) -> int:
    """The balance, in minutes, below which the account's customer is alerted."""
    if account.alert_threshold_minutes is not None:
        return account.alert_threshold_minutes
    return tenant.credit_alert_minutes


def expiry_due(account: CreditAccount, today: date) -> bool:
    """The validity date is near and nobody has been told about this date yet."""
    return (
        account.valid_until is not None
        and today <= account.valid_until <= today + EXPIRY_NOTICE
        and account.expiry_alert_for != account.valid_until
    )


def check(
    account: CreditAccount, tenant: Tenant, before: int | None = None, now: datetime | None = None
) -> list[Alert]:
    """Queue the alerts that the account's state calls for, and return them: those of
    a balance that just moved from ``before`` down through the threshold or zero, and
    that of a validity date drawing near that nobody was told of. Call it after every
    change of the balance or of the validity date, in the same transaction, and daily
    for the dates that time brings near (``flask credit alerts``)."""
    now = now or utcnow()
    balance, limit, due = account.balance_minutes, threshold(account, tenant), []
    if before is not None and before >= 0 > balance:
        due.append(Alert.NEGATIVE)
    elif before is not None and before >= limit > balance:
        due.append(Alert.LOW)
    # What the support screen shows: the alert of the crossing the balance is still past.
    if Alert.NEGATIVE in due:
        account.negative_alert_sent_at = account.low_alert_sent_at = now
    elif Alert.LOW in due:
        account.low_alert_sent_at = now
    if balance >= 0:
        account.negative_alert_sent_at = None
    if balance >= limit:
        account.low_alert_sent_at = None
    if expiry_due(account, now.date()):
        due.append(Alert.EXPIRY)
        account.expiry_alert_sent_at, account.expiry_alert_for = now, account.valid_until
    for alert in due:
        queue(alert, account, tenant)
    return due


def payer(account: CreditAccount) -> Client | None:
    """The company that pays for the account, with its contacts and their users (the
    recipients and their languages). Read without the client restriction: staff limited
    to a branch may move an account whose paying company they do not see, and the
    alert still goes to that company (its name is not shown to them)."""
    with unrestricted_clients(db.session):
        return db.session.scalar(
            select(Client)
            .where(Client.id == account.billing_client_id)
            .options(selectinload(Client.contacts).joinedload(Contact.user))
            .execution_options(populate_existing=True)
        )


def queue(alert: Alert, account: CreditAccount, tenant: Tenant) -> int:
    """Queue ``alert`` to each address of the paying company that takes recap mails."""
    client = payer(account)
    if client is None:
        return 0
    statement_link = portal_url("statement.account", tenant=tenant.slug, account_id=account.id)
    recipients = recaps.recipients(client)
    for recipient in recipients:
        link = portal_url(
            "mailing.unsubscribe", tenant=tenant.slug, token=recaps.unsubscribe_token(recipient)
        )
        outbox.queue_from_templates(
            tenant,
            kind=f"credit_{alert}",
            to=recipient.address,
            subject=SUBJECTS[alert],
            template="credit_alert",
            locale=recaps.recipient_locale(recipient, client, tenant),
            support=True,
            headers={
                "List-Unsubscribe": f"<{link}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
            alert=alert.value,
            account=account,
            client=client,
            threshold=threshold(account, tenant),
            unsubscribe_link=link,
            statement_link=statement_link,
        )
    return len(recipients)


def send_due(tenant: Tenant, now: datetime | None = None) -> int:
    """Check the bound tenant's accounts whose validity date draws near and has not been
    told yet, each locked as an intervention locks it; return the alerts queued."""
    now = now or utcnow()
    today = now.date()
    near = db.session.scalars(
        select(CreditAccount.id)
        .where(CreditAccount.valid_until.between(today, today + EXPIRY_NOTICE))
        .order_by(CreditAccount.id)
    ).all()
    sent = 0
    for account_id in near:
        account = credit.lock(account_id)
        if account is not None and expiry_due(account, today):
            sent += len(check(account, tenant, now=now))
    return sent
