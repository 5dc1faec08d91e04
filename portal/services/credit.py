"""Time credit: the policy of seed 002, and every movement of an account's ledger.

Each movement locks the account row first (``SELECT ... FOR UPDATE`` on PostgreSQL,
``BEGIN IMMEDIATE`` on SQLite), reads the balance under the lock, appends the entry
with the next position and moves the balance; the request commits the entry, the
balance, the audit event and the recap mail together. Concurrent technicians queue
on the lock and never lose a minute; the unique position is the last line of defence.
"""

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import readcache
from portal.extensions import db
from portal.i18n import gettext
from portal.i18n import lazy_gettext as _l
from portal.models import (
    Billing,
    Client,
    CreditAccount,
    CreditAccountClient,
    EntryKind,
    LedgerEntry,
    User,
)
from portal.models.base import utcnow
from portal.services import audit, unique
from portal.services.actor import Actor
from portal.tenancy import unrestricted_clients

#: The longest intervention one entry may record (a day's work); longer is a typo.
MAX_MINUTES = 24 * 60
#: The largest purchase or adjustment one entry may record.
MAX_CREDIT_MINUTES = 100_000


class Verdict(enum.StrEnum):
    GO = "go"
    GO_FIRST_CALL = "go_first_call"
    GO_REMIND = "go_remind"
    REFUSED_DEBT = "refused_debt"
    REFUSED_NPI = "refused_npi"


@dataclass(frozen=True)
class Policy:
    """What the support screen may do for an account, and what to tell the technician."""

    verdict: Verdict
    message: str
    #: The validity date has passed: whatever the verdict, remind the customer to renew.
    #: A reminder, not a refusal (seed 002's rule is about the balance and NPI), but never
    #: shown as a plain "go ahead".
    renew: bool = False

    @property
    def allowed(self) -> bool:
        return self.verdict in (Verdict.GO, Verdict.GO_FIRST_CALL, Verdict.GO_REMIND)

    @property
    def overridable(self) -> bool:
        """Only a debt beyond the threshold may be overridden; NPI may not."""
        return self.verdict is Verdict.REFUSED_DEBT

    @property
    def level(self) -> str:
        if self.verdict is Verdict.GO and not self.renew:
            return "ok"
        return "warning" if self.allowed else "danger"


def evaluate(account: CreditAccount, threshold: int) -> Policy:
    """The credit policy of seed 002, for the banner and for the server alike; past the
    validity date, the same verdict with a reminder to renew."""
    policy = _verdict(account, threshold)
    if not account.expired:
        return policy
    if policy.verdict is Verdict.GO:
        message = str(
            _l(
                "Time credit available, but its validity date has passed: you may help, and "
                "remind the customer to renew it."
            )
        )
    else:
        renew = str(
            _l("The validity date of the credit has passed: remind the customer to renew it.")
        )
        message = f"{policy.message} {renew}"
    return Policy(policy.verdict, message, renew=True)


def _verdict(account: CreditAccount, threshold: int) -> Policy:
    balance = account.balance_minutes
    if account.npi and balance <= 0:
        return Policy(
            Verdict.REFUSED_NPI,
            str(
                _l(
                    "Do not intervene: sales administration flagged this customer. Tell them you "
                    "cannot help until their time credit is positive again."
                )
            ),
        )
    if balance > 0:
        return Policy(Verdict.GO, str(_l("Time credit available: go ahead.")))
    if balance == 0 and account.first_intervention_at is None:
        return Policy(
            Verdict.GO_FIRST_CALL,
            str(
                _l("First call with no credit: help, and tell the customer this is a paid service.")
            ),
        )
    if balance >= -threshold:
        return Policy(
            Verdict.GO_REMIND,
            str(
                _l(
                    "The balance is %(balance)s: you may help, and remind the customer of it.",
                    balance=format_minutes(balance),
                )
            ),
        )
    return Policy(
        Verdict.REFUSED_DEBT,
        str(
            _l(
                "The balance is %(balance)s, beyond the %(threshold)s allowed: refuse until the "
                "account is topped up, unless a supervisor overrides with a reason.",
                balance=format_minutes(balance),
                threshold=format_minutes(threshold),
            )
        ),
    )


#: What a purchase says it was, stored as the message: ``shown_summary`` translates it for
#: each reader, whatever language the purchase was recorded in.
PURCHASE_SUMMARY = "Time credit purchase"


def shown_summary(kind: EntryKind, summary: str) -> str:
    """An entry's summary as its reader reads it: a purchase's in their own language."""
    if kind is EntryKind.PURCHASE and summary == PURCHASE_SUMMARY:
        return gettext("Time credit purchase")
    return summary


def format_minutes(minutes: int) -> str:
    """-75 → "-1 h 15 min"; 50 → "50 min" (the seed's "1 h 20 m" style)."""
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    if hours:
        return f"{sign}{hours} h {rest:02d} min" if rest else f"{sign}{hours} h"
    return f"{sign}{rest} min"


class CreditRefused(Exception):
    """The policy refuses the movement; the message says why, for the technician."""


def lock(account_id: int, *options) -> CreditAccount | None:
    """The account, locked for this transaction and freshly read, with the loader
    ``options`` given; None if not visible."""
    session: Session = db.session
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        # pysqlite opens its transaction lazily, at the first write: take the write
        # lock now, before reading the balance, unless this transaction already wrote.
        if not connection.connection.dbapi_connection.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        statement = select(CreditAccount).where(CreditAccount.id == account_id)
    else:
        statement = (
            select(CreditAccount)
            .where(CreditAccount.id == account_id)
            .with_for_update(of=CreditAccount)  # not the companies read with it
        )
    return session.scalar(statement.options(*options).execution_options(populate_existing=True))


def _append(
    account: CreditAccount,
    *,
    kind: EntryKind,
    minutes: int,
    delta: int,
    client_id: int,
    technician: User | None,
    summary: str,
    billing: Billing | None = None,
    at: datetime | None = None,
    **fields,
) -> LedgerEntry:
    """Add the next entry of a locked account, at ``at`` (now by default), and move
    its balance."""
    normal, free = account.cumulative_normal, account.cumulative_free
    if kind is EntryKind.INTERVENTION:
        normal += minutes if billing is Billing.NORMAL else 0
        free += minutes if billing is Billing.FREE else 0
    entry = LedgerEntry(
        tenant_id=account.tenant_id,
        account_id=account.id,
        position=account.entry_count + 1,
        kind=kind,
        billing=billing,
        minutes=minutes,
        delta=delta,
        credit_before=account.balance_minutes,
        credit_after=account.balance_minutes + delta,
        cumulative_normal=normal,
        cumulative_free=free,
        summary=summary,
        client_id=client_id,
        technician_id=technician.id if technician else None,
        # The object too, so that the recap mail naming him does not read him again.
        technician=technician,
        branch_id=technician.branch_id if technician else None,
        created_at=at or utcnow(),
        **fields,
    )
    db.session.add(entry)
    account.entry_count = entry.position
    account.balance_minutes = entry.credit_after
    account.cumulative_normal, account.cumulative_free = normal, free
    if kind is EntryKind.INTERVENTION:
        account.first_intervention_at = account.first_intervention_at or entry.created_at
        account.last_intervention_at = entry.created_at
    return entry


def record_intervention(
    account: CreditAccount,
    *,
    client: Client,
    minutes: int,
    billing: Billing,
    summary: str,
    advice: str | None,
    review_invited: bool,
    override_reason: str | None,
    actor: Actor,
    at: datetime | None = None,
    request_id: int | None = None,
) -> LedgerEntry:
    """Record the acting technician's intervention on an account the caller has locked,
    under the policy, from a support request when ``request_id`` says so. A refusal
    (``CreditRefused``) comes before anything is written."""
    technician = actor.user
    policy = evaluate(account, actor.tenant.credit_threshold_minutes)
    if not policy.allowed:
        if not (policy.overridable and override_reason and technician.can("support.override")):
            raise CreditRefused(policy.message)
    else:
        override_reason = None
    entry = _append(
        account,
        kind=EntryKind.INTERVENTION,
        billing=billing,
        minutes=minutes,
        delta=-minutes if billing is Billing.NORMAL else 0,
        client_id=client.id,
        technician=technician,
        summary=summary,
        advice=advice,
        review_invited=review_invited,
        override_reason=override_reason,
        request_id=request_id,
        at=at,
    )
    audit.record(
        "credit.intervention",
        actor=actor,
        client_id=client.id,
        account=account.customer_id,
        billing=billing.value,
        minutes=minutes,
        changes={"balance": [str(entry.credit_before), str(entry.credit_after)]},
        **({"override_reason": override_reason} if override_reason else {}),
    )
    return entry


def record_purchase(
    account: CreditAccount,
    *,
    minutes: int,
    amount: Decimal | None,
    reference: str | None,
    valid_until: date | None,
    actor: Actor,
    at: datetime | None = None,
) -> LedgerEntry:
    entry = _append(
        account,
        kind=EntryKind.PURCHASE,
        minutes=minutes,
        delta=minutes,
        client_id=account.billing_client_id,
        technician=actor.user,
        summary=PURCHASE_SUMMARY,
        amount=amount,
        reference=reference,
        at=at,
    )
    changes = {"balance": [str(entry.credit_before), str(entry.credit_after)]}
    if valid_until is not None and valid_until != account.valid_until:
        changes["valid_until"] = [
            account.valid_until.isoformat() if account.valid_until else None,
            valid_until.isoformat(),
        ]
        account.valid_until = valid_until
    audit.record(
        "credit.purchase",
        actor=actor,
        client_id=account.billing_client_id,
        account=account.customer_id,
        minutes=minutes,
        reference=reference,
        changes=changes,
    )
    return entry


def adjust(
    account: CreditAccount,
    *,
    delta: int,
    reason: str,
    actor: Actor,
    at: datetime | None = None,
) -> LedgerEntry:
    """Correct the balance by a new entry; nothing is ever edited or deleted."""
    entry = _append(
        account,
        kind=EntryKind.ADJUSTMENT,
        minutes=abs(delta),
        delta=delta,
        client_id=account.billing_client_id,
        technician=actor.user,
        summary=reason,
        at=at,
    )
    audit.record(
        "credit.adjustment",
        actor=actor,
        client_id=account.billing_client_id,
        account=account.customer_id,
        reason=reason,
        changes={"balance": [str(entry.credit_before), str(entry.credit_after)]},
    )
    return entry


def set_npi(account: CreditAccount, flagged: bool, *, reason: str, actor: Actor) -> None:
    if account.npi == flagged:
        return
    account.npi, account.npi_set_by_id, account.npi_set_at = flagged, actor.user.id, utcnow()
    account.npi_reason = reason
    audit.record(
        "credit.npi_set" if flagged else "credit.npi_cleared",
        actor=actor,
        client_id=account.billing_client_id,
        account=account.customer_id,
        reason=reason,
        changes={"npi": [str(not flagged).lower(), str(flagged).lower()]},
    )


def open_account(client: Client, *, customer_id: str, actor: Actor) -> CreditAccount:
    """Open an account billed to ``client``; ``unique.Taken`` if another account already
    has ``customer_id`` (nothing is then written)."""
    account = CreditAccount(
        tenant_id=client.tenant_id, customer_id=customer_id, billing_client_id=client.id
    )
    account.links.append(CreditAccountClient(tenant_id=client.tenant_id, client_id=client.id))
    with unique.claimed():
        db.session.add(account)
    audit.record(
        "credit.account_opened",
        actor=actor,
        client_id=client.id,
        account=customer_id,
    )
    return account


def link(account: CreditAccount, client: Client, *, actor: Actor) -> bool:
    if any(existing.client_id == client.id for existing in account.links):
        return False
    account.links.append(CreditAccountClient(tenant_id=account.tenant_id, client_id=client.id))
    audit.record(
        "credit.client_linked",
        actor=actor,
        client_id=client.id,
        account=account.customer_id,
    )
    return True


def unlink(account: CreditAccount, client: Client, *, actor: Actor) -> bool:
    """The billing client stays linked: it is the one that pays."""
    if client.id == account.billing_client_id:
        return False
    for existing in account.links:
        if existing.client_id == client.id:
            account.links.remove(existing)
            audit.record(
                "credit.client_unlinked",
                actor=actor,
                client_id=client.id,
                account=account.customer_id,
            )
            return True
    return False


@dataclass(frozen=True)
class Totals:
    """The seed's figures: first and last intervention, total, normal, free, last 12 months."""

    first: datetime | None
    last: datetime | None
    normal: int
    free: int
    last_year: int

    @property
    def total(self) -> int:
        return self.normal + self.free


def totals(account: CreditAccount, now: datetime | None = None) -> Totals:
    """Read from the account's running totals and those of the last entry more than a
    year old, never by summing the ledger; that entry is kept (``served_before``)."""
    if not account.entry_count:
        return Totals(None, None, 0, 0, 0)
    normal, free = account.cumulative_normal, account.cumulative_free
    before_year = served_before(account, (now or utcnow()) - timedelta(days=365))
    return Totals(
        first=account.first_intervention_at,
        last=account.last_intervention_at,
        normal=normal,
        free=free,
        last_year=normal + free - before_year,
    )


@dataclass(frozen=True)
class ServedBefore:
    """The minutes an account had served by the last entry before ``since``, which
    hold for every moment until ``until`` (the next entry's time) while the ledger
    keeps its length: entries never change, and a new one changes the key."""

    minutes: int
    since: datetime
    until: datetime

    def holds_at(self, moment: datetime) -> bool:
        return self.since <= moment < self.until


def served_before(account: CreditAccount, moment: datetime) -> int:
    """The minutes served by the last entry before ``moment``: one statement, two index
    lookups, then none until an entry's anniversary moves it."""

    def read() -> ServedBefore:
        last_before = (
            select(LedgerEntry.cumulative_normal + LedgerEntry.cumulative_free)
            .where(LedgerEntry.account_id == account.id, LedgerEntry.created_at < moment)
            .order_by(LedgerEntry.created_at.desc(), LedgerEntry.position.desc())
            .limit(1)
            .scalar_subquery()
        )
        next_after = (
            select(LedgerEntry.created_at)
            .where(LedgerEntry.account_id == account.id, LedgerEntry.created_at >= moment)
            .order_by(LedgerEntry.created_at, LedgerEntry.position)
            .limit(1)
            .scalar_subquery()
        )
        with unrestricted_clients(db.session):  # loaded in scope; its totals are whole
            minutes, next_at = db.session.execute(select(last_before, next_after)).one()
        # With no later entry yet, the answer holds until one is written, which
        # changes the key.
        return ServedBefore(minutes or 0, moment, next_at or datetime.max.replace(tzinfo=UTC))

    kept = readcache.remember(
        "served before",
        (account.id, account.entry_count),
        read,
        fresh=lambda kept: kept.holds_at(moment),
    )
    return kept.minutes


@dataclass(frozen=True)
class Break:
    account: str
    position: int
    problem: str


def verify(session: Session) -> list[Break]:
    """Every account's chain, in order (the caller decides which tenants it sees)."""
    breaks = []
    accounts = session.scalars(select(CreditAccount).order_by(CreditAccount.id))
    for account in accounts:
        expected_before, normal, free, position = 0, 0, 0, 0
        entries = session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.account_id == account.id)
            .order_by(LedgerEntry.position)
            .execution_options(yield_per=1000)
        )
        for position, entry in enumerate(entries, start=1):  # noqa: B007 - read after the loop
            normal += entry.minutes if entry.billing is Billing.NORMAL else 0
            free += entry.minutes if entry.billing is Billing.FREE else 0
            problem = None
            if entry.position != position:
                problem = f"position {entry.position} where {position} was expected"
            elif entry.credit_before + entry.delta != entry.credit_after:
                problem = (
                    f"before {entry.credit_before} + delta {entry.delta} "
                    f"!= after {entry.credit_after}"
                )
            elif entry.credit_before != expected_before:
                problem = f"before {entry.credit_before} != previous after {expected_before}"
            elif (entry.cumulative_normal, entry.cumulative_free) != (normal, free):
                problem = "running totals do not add up"
            if problem:
                breaks.append(Break(account.customer_id, entry.position, problem))
                break
            expected_before = entry.credit_after
        else:
            if account.balance_minutes != expected_before or account.entry_count != position:
                breaks.append(
                    Break(
                        account.customer_id,
                        position,
                        f"balance {account.balance_minutes} != last after {expected_before}",
                    )
                )
            elif (account.cumulative_normal, account.cumulative_free) != (normal, free):
                breaks.append(
                    Break(account.customer_id, position, "the account's running totals differ")
                )
    return breaks
