"""The customer's data rights (GDPR articles 15 and 20): the exports of what Portal
holds about a client's contact, built by the outbox worker and kept seven days."""

import enum
from datetime import datetime

from sqlalchemy import ColumnElement, ForeignKeyConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models.base import UTCDateTime, db_enum, utcnow
from portal.models.client import visible_clients
from portal.tenancy import ClientOwned, ClientVisibility


class ExportState(enum.StrEnum):
    QUEUED = "queued"
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {
            self.QUEUED: _l("Waiting to be prepared"),
            self.BUILDING: _l("Being prepared"),
            self.READY: _l("Ready to download"),
            self.FAILED: _l("Could not be prepared"),
        }[self]

    @property
    def in_progress(self) -> bool:
        return self in (ExportState.QUEUED, ExportState.BUILDING)


class DataExport(ClientOwned, db.Model):
    """One ZIP of a client user's data, asked for on their account pages."""

    __tablename__ = "data_export"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "client_id"], ["client.tenant_id", "client.id"]),
        ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["user_account.tenant_id", "user_account.id"],
            ondelete="CASCADE",
        ),
        Index("ix_data_export_user", "tenant_id", "user_id", "id"),
        # The worker's look-up of what is due, across tenants.
        Index("ix_data_export_state", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The company of the user who asked (what the client criterion limits).
    client_id: Mapped[int]
    #: The client user who asked; only they may see and download it.
    user_id: Mapped[int]
    #: Queued, being built, ready, or failed.
    state: Mapped[ExportState] = mapped_column(
        db_enum(ExportState, "export_state"), default=ExportState.QUEUED
    )
    #: How many entries (files and rows) the ZIP holds, once counted.
    total: Mapped[int] = mapped_column(default=0)
    #: How many of them are written so far.
    done: Mapped[int] = mapped_column(default=0)
    #: Where the ZIP lies in the storage, once built.
    storage_key: Mapped[str | None] = mapped_column(String(200))
    #: The ZIP's size in bytes.
    size: Mapped[int | None]
    #: When it was asked for.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the worker finished it.
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: After this the file and the row are deleted.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped["User"] = relationship(  # noqa: F821
        primaryjoin="and_(User.id == foreign(DataExport.user_id),"
        " User.tenant_id == DataExport.tenant_id)",
    )

    @classmethod
    def client_scope(cls, visibility: ClientVisibility) -> ColumnElement[bool]:
        return visible_clients(cls.client_id, visibility)

    @property
    def percent(self) -> int:
        if self.state is ExportState.READY:
            return 100
        return min(99, self.done * 100 // self.total) if self.total else 0
