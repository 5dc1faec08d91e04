"""Changes to a company's contacts proposed by one of its own contacts, waiting for
the business's staff to accept or reject them."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, ForeignKeyConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models.base import UTCDateTime, db_enum, utcnow
from portal.models.client import Client, Contact, visible_clients
from portal.tenancy import ClientOwned, ClientVisibility


class ProposalState(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return {
            self.PENDING: _l("Waiting for a decision"),
            self.ACCEPTED: _l("Accepted"),
            self.REJECTED: _l("Rejected"),
        }[self]


class ContactProposal(ClientOwned, db.Model):
    """A new colleague, a correction of one, or the news that one has left."""

    __tablename__ = "contact_proposal"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "client_id"], ["client.tenant_id", "client.id"]),
        ForeignKeyConstraint(["tenant_id", "contact_id"], ["contact.tenant_id", "contact.id"]),
        ForeignKeyConstraint(
            ["tenant_id", "proposed_by_id"], ["user_account.tenant_id", "user_account.id"]
        ),
        ForeignKeyConstraint(
            ["tenant_id", "decided_by_id"], ["user_account.tenant_id", "user_account.id"]
        ),
        Index("ix_contact_proposal_client_state", "tenant_id", "client_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The company whose contacts the proposal is about.
    client_id: Mapped[int]
    #: The contact to correct; empty for a new contact.
    contact_id: Mapped[int | None]
    #: The client user who made the proposal.
    proposed_by_id: Mapped[int]
    #: The proposed card: {field: value} for the fields a client may propose.
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The contact has left the company: accepting archives it.
    departed: Mapped[bool] = mapped_column(default=False)
    #: A message from the client to the staff.
    note: Mapped[str | None] = mapped_column(String(500))
    #: Waiting, accepted (and applied) or rejected.
    state: Mapped[ProposalState] = mapped_column(
        db_enum(ProposalState, "proposal_state"), default=ProposalState.PENDING
    )
    #: When the client made it.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The staff member who accepted or rejected it.
    decided_by_id: Mapped[int | None]
    #: When it was accepted or rejected.
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why it was rejected, shown to the client.
    decision_note: Mapped[str | None] = mapped_column(String(500))

    client: Mapped[Client] = relationship(
        primaryjoin="and_(Client.id == foreign(ContactProposal.client_id),"
        " Client.tenant_id == ContactProposal.tenant_id)",
    )
    contact: Mapped[Contact | None] = relationship(
        primaryjoin="and_(Contact.id == foreign(ContactProposal.contact_id),"
        " Contact.tenant_id == ContactProposal.tenant_id)",
    )
    proposed_by: Mapped["User"] = relationship(  # noqa: F821
        primaryjoin="and_(User.id == foreign(ContactProposal.proposed_by_id),"
        " User.tenant_id == ContactProposal.tenant_id)",
    )
    decided_by: Mapped["User | None"] = relationship(  # noqa: F821
        primaryjoin="and_(User.id == foreign(ContactProposal.decided_by_id),"
        " User.tenant_id == ContactProposal.tenant_id)",
    )

    @classmethod
    def client_scope(cls, visibility: ClientVisibility) -> ColumnElement[bool]:
        return visible_clients(cls.client_id, visibility)

    @property
    def is_pending(self) -> bool:
        return self.state is ProposalState.PENDING
