"""The business's clients (companies or individuals) and their contacts."""

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, ForeignKeyConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import UTCDateTime, db_enum, utcnow
from portal.tenancy import ClientOwned


class ClientMode(enum.StrEnum):
    COMPANY = "company"
    INDIVIDUAL = "individual"

    @property
    def label(self) -> str:
        return {self.COMPANY: _l("Company"), self.INDIVIDUAL: _l("Individual")}[self]


class ClientStatus(enum.StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    ARCHIVED = "archived"

    @property
    def label(self) -> str:
        return {
            self.ACTIVE: _l("Active"),
            self.INACTIVE: _l("Inactive"),
            self.ARCHIVED: _l("Archived"),
        }[self]


class Client(ClientOwned, db.Model):
    """A customer of the business."""

    __tablename__ = "client"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "code"),
        ForeignKeyConstraint(["tenant_id", "branch_id"], ["branch.tenant_id", "branch.id"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The client's code, unique in the tenant, quoted on the phone (e.g. 8005551).
    code: Mapped[str] = mapped_column(String(20))
    #: Company name, or the person's name for an individual.
    name: Mapped[str] = mapped_column(String(200), index=True)
    #: A company or an individual.
    mode: Mapped[ClientMode] = mapped_column(
        db_enum(ClientMode, "client_mode"), default=ClientMode.COMPANY
    )
    #: Active, inactive or archived.
    status: Mapped[ClientStatus] = mapped_column(
        db_enum(ClientStatus, "client_status"), default=ClientStatus.ACTIVE
    )
    #: Main email address of the client.
    email: Mapped[str | None] = mapped_column(String(254))
    #: Main phone number of the client.
    phone: Mapped[str | None] = mapped_column(String(40))
    #: Home branch; a branch-limited user sees only its branch's clients.
    branch_id: Mapped[int | None]
    #: When the client was created.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the client was last changed.
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    contacts: Mapped[list["Contact"]] = relationship(
        back_populates="client",
        order_by="Contact.name",
        primaryjoin="and_(Client.id == foreign(Contact.client_id),"
        " Client.tenant_id == Contact.tenant_id)",
    )
    branch: Mapped["Branch | None"] = relationship(  # noqa: F821
        primaryjoin="and_(Branch.id == foreign(Client.branch_id),"
        " Branch.tenant_id == Client.tenant_id)",
    )

    @classmethod
    def client_scope(cls, client_id: int) -> ColumnElement[bool]:
        return cls.id == client_id

    def __repr__(self) -> str:
        return f"<Client {self.code} {self.name}>"


class Contact(ClientOwned, db.Model):
    """A person at a client; the one who may be given portal access."""

    __tablename__ = "contact"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "client_id"], ["client.tenant_id", "client.id"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The client this person works for.
    client_id: Mapped[int] = mapped_column(index=True)
    #: Full name (required).
    name: Mapped[str] = mapped_column(String(200))
    #: Job title.
    title: Mapped[str | None] = mapped_column(String(120))
    #: Department.
    department: Mapped[str | None] = mapped_column(String(120))
    #: Email address.
    email: Mapped[str | None] = mapped_column(String(254))
    #: Phone number.
    phone: Mapped[str | None] = mapped_column(String(40))

    client: Mapped[Client] = relationship(
        back_populates="contacts",
        primaryjoin="and_(Client.id == foreign(Contact.client_id),"
        " Client.tenant_id == Contact.tenant_id)",
    )

    @classmethod
    def client_scope(cls, client_id: int) -> ColumnElement[bool]:
        return cls.client_id == client_id

    def __repr__(self) -> str:
        return f"<Contact {self.name}>"
