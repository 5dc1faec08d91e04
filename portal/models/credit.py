"""Prepaid support time: credit accounts and their append-only ledger."""

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    ColumnElement,
    Date,
    ForeignKeyConstraint,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.i18n import gettext as _
from portal.models.base import UTCDateTime, db_enum, utcnow
from portal.models.client import Client, visible_clients
from portal.tenancy import ClientOwned, ClientVisibility


class EntryKind(enum.StrEnum):
    PURCHASE = "purchase"
    INTERVENTION = "intervention"
    ADJUSTMENT = "adjustment"

    @property
    def label(self) -> str:
        # Translated now, not lazily: a statement page prints one per row.
        if self is EntryKind.PURCHASE:
            return _("Purchase")
        return _("Intervention") if self is EntryKind.INTERVENTION else _("Adjustment")


class Billing(enum.StrEnum):
    NORMAL = "normal"
    FREE = "free"

    @property
    def label(self) -> str:
        return _("Normal") if self is Billing.NORMAL else _("Free")


def linked_accounts(visibility: ClientVisibility):
    """The ids of the accounts linked to a client ``visibility`` allows."""
    return select(CreditAccountClient.account_id).where(
        visible_clients(CreditAccountClient.client_id, visibility)
    )


class CreditAccount(ClientOwned, db.Model):
    """A customer's prepaid time (the seed's customer account), which may serve
    several companies. Its balance is the last ledger entry's credit after."""

    __tablename__ = "credit_account"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "customer_id"),
        ForeignKeyConstraint(["tenant_id", "billing_client_id"], ["client.tenant_id", "client.id"]),
        ForeignKeyConstraint(
            ["tenant_id", "npi_set_by_id"], ["user_account.tenant_id", "user_account.id"]
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The number customers quote when they call (the seed's 4996), unique in the tenant.
    customer_id: Mapped[str] = mapped_column(String(20))
    #: The client that pays for the credit.
    billing_client_id: Mapped[int]
    #: Minutes left; negative when the customer owes time. Always the last entry's after.
    balance_minutes: Mapped[int] = mapped_column(default=0)
    #: The date until which the purchased credit is valid.
    valid_until: Mapped[date | None] = mapped_column(Date)
    #: Do not intervene (the seed's NPI): set by sales administration.
    npi: Mapped[bool] = mapped_column(default=False)
    #: Who set (or last cleared) the NPI flag.
    npi_set_by_id: Mapped[int | None]
    #: When the NPI flag was set or cleared.
    npi_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why the NPI flag was set or cleared.
    npi_reason: Mapped[str | None] = mapped_column(String(500))
    #: Balance, in minutes, below which the customer is mailed a low-credit alert; the
    #: tenant's ``credit_alert_minutes`` when unset.
    alert_threshold_minutes: Mapped[int | None]
    #: When the low-credit alert went out for the current crossing; cleared once the
    #: balance is back at or above the threshold, so that each crossing mails once.
    low_alert_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the negative-balance alert went out for the current crossing below zero.
    negative_alert_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the customer was told that the validity date is near.
    expiry_alert_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The validity date that alert was about: a new date arms the alert again.
    expiry_alert_for: Mapped[date | None] = mapped_column(Date)
    #: Entries in the ledger; the next entry takes the next position.
    entry_count: Mapped[int] = mapped_column(default=0)
    #: Minutes of normal interventions over the account's life: the last entry's running
    #: total, kept here so that appending an entry reads nothing but the locked account.
    cumulative_normal: Mapped[int] = mapped_column(default=0)
    #: Minutes of free interventions over the account's life, likewise.
    cumulative_free: Mapped[int] = mapped_column(default=0)
    #: The first intervention recorded (the seed's Début).
    first_intervention_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The latest intervention recorded (the seed's Fin).
    last_intervention_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the account was opened.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    billing_client: Mapped[Client] = relationship(
        primaryjoin="and_(Client.id == foreign(CreditAccount.billing_client_id),"
        " Client.tenant_id == CreditAccount.tenant_id)",
    )
    links: Mapped[list["CreditAccountClient"]] = relationship(
        primaryjoin="and_(CreditAccount.id == foreign(CreditAccountClient.account_id),"
        " CreditAccount.tenant_id == CreditAccountClient.tenant_id)",
        cascade="all, delete-orphan",
    )
    npi_set_by: Mapped["User | None"] = relationship(  # noqa: F821
        primaryjoin="and_(User.id == foreign(CreditAccount.npi_set_by_id),"
        " User.tenant_id == CreditAccount.tenant_id)",
    )

    @classmethod
    def client_scope(cls, visibility: ClientVisibility) -> ColumnElement[bool]:
        return cls.id.in_(linked_accounts(visibility))

    @property
    def clients(self) -> list[Client]:
        """The companies the account serves that the reader may see, the billing client
        first. Staff limited to a branch or to their assigned clients may reach an account
        through one company while the company it bills sits out of their sight: that one
        is then neither loaded nor listed, and the account shows under the first company
        they do see."""
        others = sorted(
            (link.client for link in self.links if link.client_id != self.billing_client_id),
            key=lambda client: client.name,
        )
        return [self.billing_client, *others] if self.billing_client else others

    @property
    def billing_client_hidden(self) -> bool:
        """The company that pays is out of the reader's sight (see ``clients``)."""
        return self.billing_client is None

    @property
    def expired(self) -> bool:
        """The validity date has passed (the credit may no longer be honoured)."""
        return self.valid_until is not None and self.valid_until < utcnow().date()

    def __repr__(self) -> str:
        return f"<CreditAccount {self.customer_id}>"


class CreditAccountClient(ClientOwned, db.Model):
    """A company served by a credit account (the billing client is one of them)."""

    __tablename__ = "credit_account_client"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "account_id"],
            ["credit_account.tenant_id", "credit_account.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(["tenant_id", "client_id"], ["client.tenant_id", "client.id"]),
        Index("ix_credit_account_client_client", "tenant_id", "client_id", "account_id"),
    )

    #: The account.
    account_id: Mapped[int] = mapped_column(primary_key=True)
    #: A company it serves.
    client_id: Mapped[int] = mapped_column(primary_key=True)
    #: When the company was linked.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped[Client] = relationship(
        primaryjoin="and_(Client.id == foreign(CreditAccountClient.client_id),"
        " Client.tenant_id == CreditAccountClient.tenant_id)",
    )

    @classmethod
    def client_scope(cls, visibility: ClientVisibility) -> ColumnElement[bool]:
        return visible_clients(cls.client_id, visibility)


class LedgerEntry(ClientOwned, db.Model):
    """One movement of an account's credit. Rows are only ever added: a correction is
    an adjustment entry. ``credit_before + delta == credit_after``, and each entry's
    before is the previous entry's after (``flask credit verify`` checks both)."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "account_id"], ["credit_account.tenant_id", "credit_account.id"]
        ),
        ForeignKeyConstraint(["tenant_id", "client_id"], ["client.tenant_id", "client.id"]),
        ForeignKeyConstraint(
            ["tenant_id", "technician_id"], ["user_account.tenant_id", "user_account.id"]
        ),
        ForeignKeyConstraint(["tenant_id", "branch_id"], ["branch.tenant_id", "branch.id"]),
        ForeignKeyConstraint(
            ["tenant_id", "request_id"], ["support_request.tenant_id", "support_request.id"]
        ),
        # One entry per position: two writers that both missed the lock cannot both land.
        UniqueConstraint("tenant_id", "account_id", "position"),
        Index("ix_ledger_entry_account_time", "tenant_id", "account_id", "created_at", "position"),
        # The statement's pages for a branch-limited user, and the purchases on its chart,
        # walk an account's entries of one branch or one kind by position.
        Index("ix_ledger_entry_account_branch", "tenant_id", "account_id", "branch_id", "position"),
        Index("ix_ledger_entry_account_kind", "tenant_id", "account_id", "kind", "position"),
        # A request's time, and the statement's filter by request.
        Index("ix_ledger_entry_request", "tenant_id", "request_id"),
        # A technician's home lists the accounts they served lately.
        Index("ix_ledger_entry_technician_time", "tenant_id", "technician_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The account moved.
    account_id: Mapped[int]
    #: 1 for the account's first entry, then 2, 3 ...
    position: Mapped[int]
    #: Purchase, intervention or adjustment.
    kind: Mapped[EntryKind] = mapped_column(db_enum(EntryKind, "entry_kind"))
    #: For an intervention: deducted (normal) or not (free).
    billing: Mapped[Billing | None] = mapped_column(db_enum(Billing, "entry_billing"))
    #: The duration of an intervention, or the minutes bought or adjusted.
    minutes: Mapped[int]
    #: The change to the balance: minus the minutes of a normal intervention, 0 for a
    #: free one, plus the minutes bought; an adjustment's signed correction.
    delta: Mapped[int]
    #: The balance before this entry.
    credit_before: Mapped[int]
    #: The balance after it.
    credit_after: Mapped[int]
    #: Minutes of normal interventions up to and including this entry (for the totals).
    cumulative_normal: Mapped[int] = mapped_column(default=0)
    #: Minutes of free interventions up to and including this entry.
    cumulative_free: Mapped[int] = mapped_column(default=0)
    #: What was done, as mailed to the customer; for an adjustment, its reason.
    summary: Mapped[str] = mapped_column(Text)
    #: The technician's advice to the customer.
    advice: Mapped[str | None] = mapped_column(Text)
    #: Why the credit policy was overridden, when it was.
    override_reason: Mapped[str | None] = mapped_column(String(500))
    #: Amount paid for a purchase, in the billing client's currency.
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    #: The purchase's reference (invoice or order number).
    reference: Mapped[str | None] = mapped_column(String(60))
    #: The recap mail invited the customer to leave a review.
    review_invited: Mapped[bool] = mapped_column(default=False)
    #: The staff member who recorded it.
    technician_id: Mapped[int | None]
    #: The company served (one of the account's clients).
    client_id: Mapped[int]
    #: The branch of the technician, for branch-limited views.
    branch_id: Mapped[int | None]
    #: The support request the intervention was recorded from, if any.
    request_id: Mapped[int | None]
    #: When it happened.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    technician: Mapped["User | None"] = relationship(  # noqa: F821
        primaryjoin="and_(User.id == foreign(LedgerEntry.technician_id),"
        " User.tenant_id == LedgerEntry.tenant_id)",
    )
    client: Mapped[Client] = relationship(
        primaryjoin="and_(Client.id == foreign(LedgerEntry.client_id),"
        " Client.tenant_id == LedgerEntry.tenant_id)",
    )
    request: Mapped["SupportRequest | None"] = relationship(  # noqa: F821
        primaryjoin="and_(SupportRequest.id == foreign(LedgerEntry.request_id),"
        " SupportRequest.tenant_id == LedgerEntry.tenant_id)",
        viewonly=True,
    )

    @classmethod
    def client_scope(cls, visibility: ClientVisibility) -> ColumnElement[bool]:
        if visibility.client_id is not None:
            # A customer follows the whole account its company uses (seed 000), whichever
            # of the account's companies each entry served.
            return cls.account_id.in_(linked_accounts(visibility))
        # Staff limited to a branch or to their assigned clients read the entries of the
        # companies they see: an account shared with a company out of their sight must not
        # show that company's work.
        return visible_clients(cls.client_id, visibility)

    @property
    def duration(self) -> int | None:
        return self.minutes if self.kind is EntryKind.INTERVENTION else None
