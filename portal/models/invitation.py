"""Invitations to the portal: who invited whom, when, and what became of the link."""

import enum
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models.base import UTCDateTime, db_enum, utcnow
from portal.tenancy import TenantScoped


class InvitationState(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    REVOKED = "revoked"

    @property
    def label(self) -> str:
        return {
            self.PENDING: _l("Pending"),
            self.ACCEPTED: _l("Accepted"),
            self.EXPIRED: _l("Expired"),
            self.REVOKED: _l("Replaced by a newer link"),
        }[self]


class Invitation(TenantScoped, db.Model):
    """One mailed set-password link. Only the hash of its nonce is stored."""

    __tablename__ = "invitation"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["user_account.tenant_id", "user_account.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "invited_by_id"], ["user_account.tenant_id", "user_account.id"]
        ),
        Index("ix_invitation_user", "tenant_id", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The user invited to choose a password.
    user_id: Mapped[int]
    #: The staff member who sent it; empty when the invited person asked for a fresh link.
    invited_by_id: Mapped[int | None]
    #: SHA-256 of the random nonce carried by the link: the link works once.
    nonce_hash: Mapped[str] = mapped_column(String(64))
    #: pending until used (accepted), replaced by a resend (revoked) or out of time.
    state: Mapped[InvitationState] = mapped_column(
        db_enum(InvitationState, "invitation_state"), default=InvitationState.PENDING
    )
    #: When it was sent.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: After this the link no longer works.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When the state last changed (accepted, revoked, expired).
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped["User"] = relationship(  # noqa: F821
        primaryjoin="and_(User.id == foreign(Invitation.user_id),"
        " User.tenant_id == Invitation.tenant_id)",
    )
    invited_by: Mapped["User | None"] = relationship(  # noqa: F821
        primaryjoin="and_(User.id == foreign(Invitation.invited_by_id),"
        " User.tenant_id == Invitation.tenant_id)",
    )

    def current_state(self, now: datetime | None = None) -> InvitationState:
        """The state, counting a pending link past its expiry as expired."""
        if self.state is InvitationState.PENDING and (now or utcnow()) >= self.expires_at:
            return InvitationState.EXPIRED
        return self.state
