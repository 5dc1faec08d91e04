"""The audit trail: who did what, when, from where."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, ForeignKeyConstraint, Index, String, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import UTCDateTime, utcnow
from portal.models.client import visible_clients
from portal.tenancy import ClientOwned, ClientVisibility


class AuditEvent(ClientOwned, db.Model):
    """One audited action; rows are only ever added.

    A client user sees only its own company's events; restricted staff see the events
    of the clients they may see and those about no client (sign-ins, settings).
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "actor_id"], ["user_account.tenant_id", "user_account.id"]
        ),
        ForeignKeyConstraint(["tenant_id", "client_id"], ["client.tenant_id", "client.id"]),
        Index("ix_audit_event_client_log", "tenant_id", "client_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: When it happened.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: Who did it; empty for anonymous attempts (a failed sign-in).
    actor_id: Mapped[int | None] = mapped_column(index=True)
    #: A dotted name such as ``auth.login_failed``.
    action: Mapped[str] = mapped_column(String(60), index=True)
    #: The client concerned, so the event shows on that client's Log tab.
    client_id: Mapped[int | None]
    #: The address the request came from.
    ip_address: Mapped[str | None] = mapped_column(String(64))
    #: What changed or why it was refused, as plain data.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped["User | None"] = relationship(  # noqa: F821
        primaryjoin="and_(User.id == foreign(AuditEvent.actor_id),"
        " User.tenant_id == AuditEvent.tenant_id)",
    )

    @classmethod
    def client_scope(cls, visibility: ClientVisibility) -> ColumnElement[bool]:
        visible = visible_clients(cls.client_id, visibility)
        if visibility.client_id is not None:
            return visible
        return or_(cls.client_id.is_(None), visible)
