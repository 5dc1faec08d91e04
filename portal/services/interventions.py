"""An intervention as the support screen records it: on the account's ledger, and told
to the customer by the recap mail, in the same transaction."""

from dataclasses import dataclass

from portal.mail import recaps
from portal.models import Client, CreditAccount, LedgerEntry
from portal.services import credit
from portal.services.actor import Actor


@dataclass(frozen=True)
class Recorded:
    entry: LedgerEntry
    #: How many recap mails were queued, one per address that accepts them (maybe none).
    recaps_queued: int

    @property
    def balance(self) -> int:
        return self.entry.credit_after


def record(account: CreditAccount, *, client: Client, actor: Actor, **intervention) -> Recorded:
    """Record the acting technician's intervention for ``client`` on ``account`` (locked
    by the caller; ``intervention`` as ``credit.record_intervention`` takes it) and queue
    its recap. ``credit.CreditRefused`` is raised before anything is written."""
    entry = credit.record_intervention(account, client=client, actor=actor, **intervention)
    return Recorded(entry, recaps.queue_recap(actor.tenant, account, entry, client))
