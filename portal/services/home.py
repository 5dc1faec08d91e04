"""What each kind of user finds on the tenant's home page: a technician the accounts
they served lately and those that need care; an administrator or sales the invitations,
the client proposals waiting and the recent sign-in refusals; a client's contact their
time credit, their last interventions and what their company's card lacks.

Every block is one or two statements whatever the tenant's size: a short list read
through an index, with one row more than shown to tell whether there are more. The
session's scoping decides what each user sees (a technician limited to a branch or to
their assigned clients sees only those clients' accounts); nothing here filters by
tenant.
"""

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Generic, TypeVar

from sqlalchemy import case, func, or_, select, union_all
from sqlalchemy.orm import contains_eager, joinedload

from portal.extensions import db
from portal.models import (
    AuditEvent,
    Client,
    ContactProposal,
    CreditAccount,
    CreditAccountClient,
    EntryKind,
    Invitation,
    LedgerEntry,
    ProposalState,
    User,
    UserKind,
    UserStatus,
)
from portal.models.base import utcnow
from portal.services import hours
from portal.services.actor import Actor

#: Accounts a technician served lately, distinct, the latest first.
SERVED = 5
#: How many of a technician's latest entries the accounts they served are found in.
SERVED_WINDOW = 1_000
#: Accounts that need care.
CARE = 10
#: Invitations, proposals and refusals listed.
LISTED = 10
#: A client's accounts shown with their balance.
ACCOUNTS = 5
#: A client's last interventions.
INTERVENTIONS = 5
#: A validity date this close (or passed) makes an account need care.
VALIDITY_WARNING = timedelta(days=30)
#: How far back the sign-in refusals go.
REFUSALS_SINCE = timedelta(days=7)
#: The audited refusals of a sign-in.
REFUSAL_ACTIONS = ("auth.login_failed", "auth.network_refused")

T = TypeVar("T")


@dataclass(frozen=True)
class Listing(Generic[T]):
    """The first rows of a list, and whether the full list holds more."""

    rows: list[T]
    more: bool = False

    @classmethod
    def of(cls, rows, limit: int) -> "Listing[T]":
        rows = list(rows)
        return cls(rows[:limit], more=len(rows) > limit)


class Reason(enum.StrEnum):
    """Why an account needs care, the most pressing first."""

    NPI = "npi"
    DEBT = "debt"
    EXPIRED = "expired"
    EXPIRING = "expiring"


@dataclass(frozen=True)
class Care:
    account: CreditAccount
    reasons: list[Reason]


@dataclass(frozen=True)
class Served:
    account: CreditAccount
    #: When the technician last recorded an entry on it.
    at: datetime


@dataclass(frozen=True)
class Company:
    client: Client
    #: What its card lacks: "phone", "email", "address".
    missing: list[str]


@dataclass
class Home:
    """The blocks of one user's home page; None for a block their role does not give."""

    #: The support search box (technicians).
    search: bool = False
    served: list[Served] | None = None
    invitations: Listing[Invitation] | None = None
    proposals: Listing[ContactProposal] | None = None
    care: Listing[Care] | None = None
    refusals: Listing[AuditEvent] | None = None
    #: The client's accounts, with their balance and validity.
    accounts: Listing[CreditAccount] | None = None
    interventions: list[LedgerEntry] | None = None
    company: Company | None = None
    #: The support desk's phone, for a client's contact (None when the tenant set none).
    support_phone: str | None = None
    #: The desk's week in words, and whether it is open now or when it reopens.
    desk_week: list[str] | None = None
    desk_status: hours.Status | None = None
    desk_reopens: str | None = None
    #: The threshold beyond which a debt needs care, for the reasons' wording.
    threshold: int = 0
    today: date = field(default_factory=lambda: utcnow().date())

    def ends_soon(self, account: CreditAccount) -> bool:
        """The account's validity ends within 30 days (and has not passed)."""
        return account.valid_until is not None and (
            self.today <= account.valid_until <= self.today + VALIDITY_WARNING
        )

    @property
    def empty(self) -> bool:
        """The role gives no block at all."""
        return not self.search and all(
            block is None
            for block in (
                self.served,
                self.invitations,
                self.proposals,
                self.care,
                self.refusals,
                self.accounts,
                self.company,
            )
        )


def overview(*, actor: Actor) -> Home:
    """The home page of ``actor.user``: the blocks of each of their roles, once each."""
    user, tenant = actor.user, actor.tenant
    now = utcnow()
    home = Home(threshold=tenant.credit_threshold_minutes, today=now.date())
    if user.is_client:
        if user.can("portal.statement"):
            accounts = db.session.scalars(
                select(CreditAccount).order_by(CreditAccount.customer_id).limit(ACCOUNTS + 1)
            ).all()
            home.accounts = Listing.of(accounts, ACCOUNTS)
            home.interventions = last_interventions(home.accounts.rows, user.branch_id)
        if user.can("portal.self"):
            home.company = company_of(user)
        if user.can("portal.self") or user.can("portal.statement"):
            home.support_phone = tenant.support_phone
            schedule, now = hours.Schedule(tenant), utcnow()
            home.desk_week = schedule.lines()
            home.desk_status = schedule.status(now)
            if home.desk_status.reopens_at is not None:
                home.desk_reopens = hours.reopening(home.desk_status, now, schedule.zone)
        return home
    sees_clients = user.can("clients.view")
    administers = user.can("tenant.admin") or user.can("access.grant")
    if sees_clients and user.can("support.record"):
        home.search = True
        home.served = served_by(user)
    if administers:
        home.invitations = invitations(everyone=user.can("tenant.admin"), now=now)
    if user.can("contacts.edit"):
        home.proposals = waiting_proposals()
    if sees_clients:
        home.care = accounts_needing_care(tenant.credit_threshold_minutes, now.date())
    if user.can("tenant.admin"):
        home.refusals = sign_in_refusals(now)
    return home


#: What a list of accounts shows of each: the companies it serves that the reader sees,
#: read with it.
_ACCOUNT_NAMES = (
    joinedload(CreditAccount.billing_client),
    joinedload(CreditAccount.links).joinedload(CreditAccountClient.client),
)


def served_by(user: User) -> list[Served]:
    """The accounts ``user`` recorded entries on lately, the latest first, each once:
    among their last ``SERVED_WINDOW`` entries, read backwards along the index of a
    technician's entries by time, so that a technician with a million entries costs what
    one with a hundred does (grouping all of them grew with their number)."""
    own = (
        select(LedgerEntry.account_id, LedgerEntry.created_at)
        .where(LedgerEntry.technician_id == user.id)
        .order_by(LedgerEntry.created_at.desc())
        .limit(SERVED_WINDOW)
        .subquery()
    )
    latest = func.max(own.c.created_at).label("served_at")
    recent = (
        select(own.c.account_id, latest)
        .group_by(own.c.account_id)
        .order_by(latest.desc(), own.c.account_id.desc())
        .limit(SERVED)
        .subquery()
    )
    rows = (
        db.session.execute(
            select(CreditAccount, recent.c.served_at)
            .join(recent, recent.c.account_id == CreditAccount.id)
            .options(*_ACCOUNT_NAMES)
            .order_by(recent.c.served_at.desc(), CreditAccount.id.desc())
        )
        .unique()
        .all()
    )
    return [Served(account, at) for account, at in rows]


def care_reasons(account: CreditAccount, threshold: int, today: date) -> list[Reason]:
    reasons = []
    if account.npi:
        reasons.append(Reason.NPI)
    if account.balance_minutes < -threshold:
        reasons.append(Reason.DEBT)
    if account.valid_until is not None:
        if account.valid_until < today:
            reasons.append(Reason.EXPIRED)
        elif account.valid_until <= today + VALIDITY_WARNING:
            reasons.append(Reason.EXPIRING)
    return reasons


def accounts_needing_care(threshold: int, today: date) -> Listing[Care]:
    """Accounts flagged "do not intervene", in debt beyond the tenant's threshold, or
    whose validity has passed or ends within 30 days: the flagged first, then the
    debts, the passed and the ending dates."""
    in_debt = CreditAccount.balance_minutes < -threshold
    ending = CreditAccount.valid_until <= today + VALIDITY_WARNING
    urgency = case(
        (CreditAccount.npi, 0),
        (in_debt, 1),
        (CreditAccount.valid_until < today, 2),
        else_=3,
    )
    accounts = (
        db.session.scalars(
            select(CreditAccount)
            .where(or_(CreditAccount.npi, in_debt, ending))
            .options(*_ACCOUNT_NAMES)
            .order_by(urgency, CreditAccount.balance_minutes, CreditAccount.customer_id)
            .limit(CARE + 1)
        )
        .unique()
        .all()
    )
    return Listing.of(
        (Care(account, care_reasons(account, threshold, today)) for account in accounts), CARE
    )


def invitations(*, everyone: bool, now: datetime) -> Listing[Invitation]:
    """The latest link of each user who has not chosen a password yet, pending or out
    of time, the latest sent first. An administrator sees every user's; sales only
    those of the clients' contacts they see."""
    latest = select(func.max(Invitation.id)).group_by(Invitation.user_id)
    statement = (
        select(Invitation)
        .join(Invitation.user)
        .where(Invitation.id.in_(latest), User.status == UserStatus.INVITED)
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        .limit(LISTED + 1)
    )
    if everyone:
        statement = statement.options(contains_eager(Invitation.user).joinedload(User.client))
    else:
        statement = (
            statement.join(Client, Client.id == User.client_id)
            .where(User.kind == UserKind.CLIENT)
            .options(contains_eager(Invitation.user).contains_eager(User.client))
        )
    return Listing.of(db.session.scalars(statement).all(), LISTED)


def waiting_proposals() -> Listing[ContactProposal]:
    """Contact changes the clients proposed that wait for a decision, the oldest first."""
    proposals = db.session.scalars(
        select(ContactProposal)
        .where(ContactProposal.state == ProposalState.PENDING)
        .options(
            joinedload(ContactProposal.client),
            joinedload(ContactProposal.contact),
            joinedload(ContactProposal.proposed_by),
        )
        .order_by(ContactProposal.created_at, ContactProposal.id)
        .limit(LISTED + 1)
    ).all()
    return Listing.of(proposals, LISTED)


def sign_in_refusals(now: datetime) -> Listing[AuditEvent]:
    """Sign-ins refused in the last 7 days (a wrong password, a disabled user, an
    address outside the allowed network), the latest first."""
    events = db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.action.in_(REFUSAL_ACTIONS),
            AuditEvent.created_at >= now - REFUSALS_SINCE,
        )
        .options(joinedload(AuditEvent.actor))
        .order_by(AuditEvent.id.desc())
        .limit(LISTED + 1)
    ).all()
    return Listing.of(events, LISTED)


def last_interventions(accounts: list[CreditAccount], branch_id: int | None) -> list[LedgerEntry]:
    """The latest interventions on ``accounts`` (for a branch-limited user, of their
    branch), newest first: the last few of each account by its index, then the latest
    of those, in one statement whatever the number of accounts and entries."""
    if not accounts:
        return []
    per_account = []
    for account in accounts:
        latest = select(LedgerEntry.id).where(
            LedgerEntry.account_id == account.id, LedgerEntry.kind == EntryKind.INTERVENTION
        )
        if branch_id is not None:
            latest = latest.where(LedgerEntry.branch_id == branch_id)
        latest = latest.order_by(LedgerEntry.position.desc()).limit(INTERVENTIONS).subquery()
        per_account.append(select(latest.c.id))
    candidates = union_all(*per_account).subquery()
    return db.session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.id.in_(select(candidates.c.id)))
        .options(joinedload(LedgerEntry.technician))
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
        .limit(INTERVENTIONS)
    ).all()


def company_of(user: User) -> Company | None:
    """The client user's company, and what its card lacks for us to reach it."""
    client = db.session.get(Client, user.client_id)
    if client is None:
        return None
    missing = []
    if not (client.phone or client.mobile):
        missing.append("phone")
    if not client.email:
        missing.append("email")
    if not (client.billing_address and client.billing_city):
        missing.append("address")
    return Company(client, missing)
