"""What the support screen does to an account's credit, each with the mails it calls for
in the same transaction: an intervention on the ledger and its recap mail; a purchase
or a correction; and after each, the credit alerts the new balance or validity date
calls for (``portal.mail.alerts``)."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from portal.mail import alerts, recaps
from portal.models import Billing, Client, CreditAccount, LedgerEntry, SupportRequest
from portal.services import audit, credit, requests
from portal.services.actor import Actor


@dataclass(frozen=True)
class Recorded:
    entry: LedgerEntry
    #: How many recap mails were queued, one per address that accepts them (maybe none).
    recaps_queued: int
    #: The credit alerts the entry set off (most entries set off none).
    alerts_queued: list[alerts.Alert] = field(default_factory=list)

    @property
    def balance(self) -> int:
        return self.entry.credit_after


def record(
    account: CreditAccount,
    *,
    client: Client,
    actor: Actor,
    request: SupportRequest | None = None,
    **intervention,
) -> Recorded:
    """Record the acting technician's intervention for ``client`` on ``account`` (locked
    by the caller; ``intervention`` as ``credit.record_intervention`` takes it), from
    ``request`` if given (which counts the time), and queue its recap.
    ``credit.CreditRefused`` is raised before anything is written."""
    entry = credit.record_intervention(
        account,
        client=client,
        actor=actor,
        request_id=request.id if request else None,
        **intervention,
    )
    if request is not None:
        requests.record_time(
            request, entry.minutes, free=entry.billing is Billing.FREE, at=entry.created_at
        )
    queued = recaps.queue_recap(actor.tenant, account, entry, client)
    return Recorded(entry, queued, alerts.check(account, actor.tenant, entry.credit_before))


def record_purchase(
    account: CreditAccount,
    *,
    minutes: int,
    amount: Decimal | None,
    reference: str | None,
    valid_until: date | None,
    actor: Actor,
) -> Recorded:
    """Record time bought on a locked account (arming its alerts again)."""
    entry = credit.record_purchase(
        account,
        minutes=minutes,
        amount=amount,
        reference=reference,
        valid_until=valid_until,
        actor=actor,
    )
    return Recorded(entry, 0, alerts.check(account, actor.tenant, entry.credit_before))


def adjust(account: CreditAccount, *, delta: int, reason: str, actor: Actor) -> Recorded:
    """Correct a locked account's balance by a new entry."""
    entry = credit.adjust(account, delta=delta, reason=reason, actor=actor)
    return Recorded(entry, 0, alerts.check(account, actor.tenant, entry.credit_before))


def set_alert_threshold(account: CreditAccount, minutes: int | None, *, actor: Actor) -> bool:
    """Set the balance below which the account's customer is alerted (None: the
    tenant's); return whether it changed. Only a fall of the balance through it alerts."""
    if account.alert_threshold_minutes == minutes:
        return False
    audit.record(
        "credit.alert_threshold",
        actor=actor,
        client_id=account.billing_client_id,
        account=account.customer_id,
        changes={
            "alert_threshold": [
                None
                if account.alert_threshold_minutes is None
                else str(account.alert_threshold_minutes),
                None if minutes is None else str(minutes),
            ]
        },
    )
    account.alert_threshold_minutes = minutes
    alerts.check(account, actor.tenant)
    return True
