"""Support requests (seed 001): what a customer asks of the support desk, the
conversation about it, and the files attached to it.

A request belongs to one client. The scoping hook shows a client's user only their
company's requests, and only their branch's when their access is limited to one; it
never shows them an internal note, nor a file attached to one: the criterion itself
leaves them out, so no page, mail or search built on these models can leak them.
"""

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    ColumnElement,
    ForeignKeyConstraint,
    Index,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    and_,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.i18n import gettext as _
from portal.i18n import pgettext
from portal.models.base import UTCDateTime, db_enum, utcnow
from portal.models.client import Client, Contact, visible_clients
from portal.tenancy import ClientOwned, ClientVisibility, TenantScoped


class RequestKind(enum.StrEnum):
    """Seed 001's three kinds of request."""

    HELP = "help"
    IMPROVEMENT = "improvement"
    MALFUNCTION = "malfunction"

    @property
    def label(self) -> str:
        if self is RequestKind.HELP:
            return _("Help using the software")
        if self is RequestKind.IMPROVEMENT:
            return _("Improvement or new development")
        return _("Malfunction")


class RequestState(enum.StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REFUSED = "refused"
    DUPLICATE = "duplicate"

    @property
    def label(self) -> str:
        return {
            RequestState.NEW: _("New"),
            RequestState.ACKNOWLEDGED: _("Acknowledged"),
            RequestState.IN_PROGRESS: _("In progress"),
            RequestState.WAITING: _("Waiting for the customer"),
            RequestState.RESOLVED: _("Resolved"),
            RequestState.CLOSED: pgettext("request state", "Closed"),
            RequestState.REFUSED: _("Refused"),
            RequestState.DUPLICATE: _("Duplicate"),
        }[self]

    @property
    def open(self) -> bool:
        """Still waiting for someone's work (the desk's or the customer's)."""
        return self not in FINISHED


#: States in which someone still has work to do: the desk's queue as it opens.
GOING_ON = (
    RequestState.NEW,
    RequestState.ACKNOWLEDGED,
    RequestState.IN_PROGRESS,
    RequestState.WAITING,
)
#: The same, as SQL: the partial index's condition, which a query must repeat word for
#: word (a bound parameter would hide from SQLite that the index applies).
GOING_ON_SQL = "state IN ('new', 'acknowledged', 'in_progress', 'waiting')"

#: States in which nothing more is expected of anyone.
FINISHED = frozenset(
    {RequestState.RESOLVED, RequestState.CLOSED, RequestState.REFUSED, RequestState.DUPLICATE}
)


class Priority(enum.StrEnum):
    """Seed 001's priorities of a malfunction, most urgent first."""

    FLASH = "flash"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @property
    def rank(self) -> int:
        return PRIORITY_RANKS[self]

    @property
    def label(self) -> str:
        return {
            Priority.FLASH: _("Flash"),
            Priority.HIGH: _("High"),
            Priority.NORMAL: pgettext("priority", "Normal"),
            Priority.LOW: _("Low"),
        }[self]

    @property
    def meaning(self) -> str:
        """What the seed says the priority means."""
        return {
            Priority.FLASH: _("Blocking malfunction: fixed as soon as possible."),
            Priority.HIGH: _("Major malfunction, not blocking."),
            Priority.NORMAL: _("Malfunction of medium importance, not blocking."),
            Priority.LOW: _("Minor malfunction, not blocking."),
        }[self]


PRIORITY_RANKS = {Priority.FLASH: 1, Priority.HIGH: 2, Priority.NORMAL: 3, Priority.LOW: 4}
#: The rank of a request without a priority: after the triaged malfunctions.
UNRANKED = 5


class QuoteState(enum.StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return {
            QuoteState.PROPOSED: _("Waiting for your answer"),
            QuoteState.ACCEPTED: pgettext("quote", "Accepted"),
            QuoteState.DECLINED: _("Declined"),
        }[self]


class RequestCounter(TenantScoped, db.Model):
    """The last reference number given in a tenant's year (R-2026-00042 is the 42nd)."""

    __tablename__ = "request_counter"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "year"),)

    #: The year the numbers belong to.
    year: Mapped[int]
    #: The last number given that year.
    last_number: Mapped[int] = mapped_column(default=0)


def request_scope(visibility: ClientVisibility, client_column, branch_column):
    """The requests' criterion: the clients the user sees and, for a client user
    limited to a branch, that branch's."""
    criteria = [visible_clients(client_column, visibility)]
    if visibility.client_id is not None and visibility.contact_branch_id is not None:
        criteria.append(branch_column == visibility.contact_branch_id)
    return and_(*criteria)


def request_reference(year: int, number: int) -> str:
    """What customers quote and mails carry in their subject: R-2026-00042."""
    return f"R-{year}-{number:05d}"


class SupportRequest(ClientOwned, db.Model):
    """A customer's request to the support desk."""

    __tablename__ = "support_request"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "year", "number"),
        ForeignKeyConstraint(["tenant_id", "client_id"], ["client.tenant_id", "client.id"]),
        ForeignKeyConstraint(["tenant_id", "contact_id"], ["contact.tenant_id", "contact.id"]),
        ForeignKeyConstraint(["tenant_id", "branch_id"], ["branch.tenant_id", "branch.id"]),
        ForeignKeyConstraint(
            ["tenant_id", "assignee_id"], ["user_account.tenant_id", "user_account.id"]
        ),
        ForeignKeyConstraint(
            ["tenant_id", "opened_by_id"], ["user_account.tenant_id", "user_account.id"]
        ),
        ForeignKeyConstraint(
            ["tenant_id", "duplicate_of_id"], ["support_request.tenant_id", "support_request.id"]
        ),
        # The desk's queue: by state, then priority, then age.
        Index(
            "ix_support_request_queue", "tenant_id", "state", "priority_rank", "created_at", "id"
        ),
        # The desk's queue as it opens (the requests going on), already in its order.
        Index(
            "ix_support_request_going_on",
            "tenant_id",
            "priority_rank",
            "created_at",
            "id",
            postgresql_where=text(GOING_ON_SQL),
            sqlite_where=text(GOING_ON_SQL),
        ),
        # A customer's list: their company's requests, latest activity first.
        Index("ix_support_request_client", "tenant_id", "client_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The year of the reference (the year it was opened).
    year: Mapped[int]
    #: The reference's number in the tenant's year.
    number: Mapped[int]
    #: Help, improvement or malfunction.
    kind: Mapped[RequestKind] = mapped_column(db_enum(RequestKind, "request_kind"))
    #: One line saying what it is about.
    subject: Mapped[str] = mapped_column(String(200))
    #: The customer's description, as they wrote or said it.
    description: Mapped[str] = mapped_column(Text)
    #: The company that asks.
    client_id: Mapped[int]
    #: The contact who asked (None when the desk opened it for the company as a whole).
    contact_id: Mapped[int | None]
    #: The user who opened it: the contact themselves, or staff taking a phone call.
    opened_by_id: Mapped[int | None]
    #: The branch it belongs to: the contact's, when their access is limited to one.
    branch_id: Mapped[int | None]
    #: Where it stands.
    state: Mapped[RequestState] = mapped_column(
        db_enum(RequestState, "request_state"), default=RequestState.NEW
    )
    #: A malfunction's priority, given at acknowledgement.
    priority: Mapped[Priority | None] = mapped_column(db_enum(Priority, "request_priority"))
    #: The priority's rank (``UNRANKED`` without one), so that the queue sorts in SQL.
    priority_rank: Mapped[int] = mapped_column(default=UNRANKED)
    #: The staff member in charge.
    assignee_id: Mapped[int | None]
    #: Why it was refused or called a duplicate, as the customer reads it.
    state_reason: Mapped[str | None] = mapped_column(Text)
    #: The request this one repeats.
    duplicate_of_id: Mapped[int | None]
    #: The customer says the malfunction stops their work (seed 001's "bloquant"): the
    #: desk is told at once, on a reduced day too.
    blocking: Mapped[bool] = mapped_column(default=False)
    #: The customer's remote-access ID (AnyDesk), shown to the assignee only.
    remote_access_id: Mapped[str | None] = mapped_column(String(40))
    #: An improvement accepted for every user: done free of charge.
    accepted_for_everyone: Mapped[bool] = mapped_column(default=False)
    #: Person-days of a quoted improvement.
    quote_days: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    #: The quote's amount: the days at the tenant's day rate when it was made.
    quote_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    #: The quote's currency (ISO 4217).
    quote_currency: Mapped[str | None] = mapped_column(String(3))
    #: The customer's answer to the quote.
    quote_state: Mapped[QuoteState | None] = mapped_column(db_enum(QuoteState, "quote_state"))
    #: Minutes of normal interventions recorded from it (kept as entries are added).
    minutes_normal: Mapped[int] = mapped_column(default=0)
    #: Minutes of free interventions recorded from it.
    minutes_free: Mapped[int] = mapped_column(default=0)
    #: When it was opened.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When anything the customer sees last changed.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the desk acknowledged it.
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When it was resolved (the fix is available).
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    client: Mapped[Client] = relationship(
        primaryjoin="and_(Client.id == foreign(SupportRequest.client_id),"
        " Client.tenant_id == SupportRequest.tenant_id)",
    )
    contact: Mapped[Contact | None] = relationship(
        primaryjoin="and_(Contact.id == foreign(SupportRequest.contact_id),"
        " Contact.tenant_id == SupportRequest.tenant_id)",
    )
    assignee: Mapped["User | None"] = relationship(  # noqa: F821
        primaryjoin="and_(User.id == foreign(SupportRequest.assignee_id),"
        " User.tenant_id == SupportRequest.tenant_id)",
    )

    @classmethod
    def client_scope(cls, visibility: ClientVisibility) -> ColumnElement[bool]:
        return request_scope(visibility, cls.client_id, cls.branch_id)

    @property
    def reference(self) -> str:
        return request_reference(self.year, self.number)

    @property
    def minutes_spent(self) -> int:
        return self.minutes_normal + self.minutes_free

    def __repr__(self) -> str:
        return f"<SupportRequest {self.reference}>"


def _visible_requests(visibility: ClientVisibility):
    return select(SupportRequest.id).where(
        request_scope(visibility, SupportRequest.client_id, SupportRequest.branch_id)
    )


def conversation_scope(cls, visibility: ClientVisibility) -> ColumnElement[bool]:
    """A message's or a file's criterion: its request's, and for a client user never an
    internal one."""
    if visibility.client_id is None:
        return cls.request_id.in_(_visible_requests(visibility))
    criteria = [cls.client_id == visibility.client_id, cls.internal.is_(False)]
    if visibility.contact_branch_id is not None:
        criteria.append(cls.request_id.in_(_visible_requests(visibility)))
    return and_(*criteria)


class RequestMessage(ClientOwned, db.Model):
    """One message of a request's conversation: a public reply, or a note for staff."""

    __tablename__ = "request_message"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(
            ["tenant_id", "request_id"], ["support_request.tenant_id", "support_request.id"]
        ),
        ForeignKeyConstraint(["tenant_id", "client_id"], ["client.tenant_id", "client.id"]),
        ForeignKeyConstraint(
            ["tenant_id", "author_id"], ["user_account.tenant_id", "user_account.id"]
        ),
        Index("ix_request_message_request", "tenant_id", "request_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The request it belongs to.
    request_id: Mapped[int]
    #: The request's client, kept here so that the client criterion needs no join.
    client_id: Mapped[int]
    #: Who wrote it (None for the system's own lines).
    author_id: Mapped[int | None]
    #: A note for staff only: never shown, mailed or searched for a client.
    internal: Mapped[bool] = mapped_column(default=False)
    #: What was written.
    body: Mapped[str] = mapped_column(Text)
    #: When.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped["User | None"] = relationship(  # noqa: F821
        primaryjoin="and_(User.id == foreign(RequestMessage.author_id),"
        " User.tenant_id == RequestMessage.tenant_id)",
    )
    attachments: Mapped[list["RequestAttachment"]] = relationship(
        primaryjoin="and_(RequestMessage.id == foreign(RequestAttachment.message_id),"
        " RequestMessage.tenant_id == RequestAttachment.tenant_id)",
        order_by="RequestAttachment.id",
        viewonly=True,
    )

    @classmethod
    def client_scope(cls, visibility: ClientVisibility) -> ColumnElement[bool]:
        return conversation_scope(cls, visibility)


class RequestAttachment(ClientOwned, db.Model):
    """A file sent with a request or one of its messages (a screenshot, a PDF)."""

    __tablename__ = "request_attachment"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(
            ["tenant_id", "request_id"], ["support_request.tenant_id", "support_request.id"]
        ),
        ForeignKeyConstraint(
            ["tenant_id", "message_id"], ["request_message.tenant_id", "request_message.id"]
        ),
        ForeignKeyConstraint(["tenant_id", "client_id"], ["client.tenant_id", "client.id"]),
        Index("ix_request_attachment_request", "tenant_id", "request_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The request it belongs to.
    request_id: Mapped[int]
    #: The message it came with (None: with the request itself).
    message_id: Mapped[int | None]
    #: The request's client, for the client criterion.
    client_id: Mapped[int]
    #: Attached to an internal note: staff only, like the note.
    internal: Mapped[bool] = mapped_column(default=False)
    #: Where the file lies in the upload storage.
    storage_key: Mapped[str] = mapped_column(String(120))
    #: The name it was sent with, cleaned for display and downloads.
    filename: Mapped[str] = mapped_column(String(200))
    #: Its type, as read from its content (never the browser's word).
    content_type: Mapped[str] = mapped_column(String(60))
    #: Its size in bytes.
    size: Mapped[int]
    #: When it was sent.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @classmethod
    def client_scope(cls, visibility: ClientVisibility) -> ColumnElement[bool]:
        return conversation_scope(cls, visibility)

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
