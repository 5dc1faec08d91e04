"""The business's clients (companies or individuals) and their contacts."""

import enum
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    ForeignKeyConstraint,
    Index,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
    and_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models.base import UTCDateTime, db_enum, utcnow
from portal.tenancy import ClientOwned, ClientVisibility, TenantScoped


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


def visible_clients(
    client_column, visibility: ClientVisibility, branch_column=None
) -> ColumnElement[bool]:
    """The criterion limiting ``client_column`` to the clients ``visibility`` allows."""
    criteria = []
    if visibility.client_id is not None:
        criteria.append(client_column == visibility.client_id)
    if visibility.assigned_to is not None:
        criteria.append(
            client_column.in_(
                select(ClientAssignment.client_id).where(
                    ClientAssignment.user_id == visibility.assigned_to
                )
            )
        )
    if visibility.branch_id is not None:
        if branch_column is not None:
            criteria.append(branch_column == visibility.branch_id)
        else:
            criteria.append(
                client_column.in_(select(Client.id).where(Client.branch_id == visibility.branch_id))
            )
    return and_(*criteria)


class ClientType(enum.StrEnum):
    CLIENT = "client"
    PROSPECT = "prospect"

    @property
    def label(self) -> str:
        return {self.CLIENT: _l("Client"), self.PROSPECT: _l("Prospect")}[self]


#: The address fields, repeated for billing and shipping.
ADDRESS_FIELDS = ("address", "address2", "city", "province", "country", "postal_code")


class Client(ClientOwned, db.Model):
    """A customer of the business."""

    __tablename__ = "client"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "code"),
        ForeignKeyConstraint(["tenant_id", "branch_id"], ["branch.tenant_id", "branch.id"]),
        ForeignKeyConstraint(["tenant_id", "bill_to_id"], ["client.tenant_id", "client.id"]),
        Index("ix_client_tenant_name", "tenant_id", "name", "id"),
        Index("ix_client_tenant_modified", "tenant_id", "modified_at", "id"),
        Index("ix_client_tenant_created", "tenant_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The client's code, unique in the tenant, quoted on the phone (e.g. 8005551).
    code: Mapped[str] = mapped_column(String(20))
    #: Company name, or the person's name for an individual.
    name: Mapped[str] = mapped_column(String(200))
    #: A company or an individual.
    mode: Mapped[ClientMode] = mapped_column(
        db_enum(ClientMode, "client_mode"), default=ClientMode.COMPANY
    )
    #: Active, inactive or archived.
    status: Mapped[ClientStatus] = mapped_column(
        db_enum(ClientStatus, "client_status"), default=ClientStatus.ACTIVE
    )
    #: A client, or a prospect not yet buying.
    type: Mapped[ClientType] = mapped_column(
        db_enum(ClientType, "client_type"), default=ClientType.CLIENT
    )
    #: Language for mails and documents (ISO 639-1).
    language: Mapped[str] = mapped_column(String(2), default="en")
    #: Currency of invoices (ISO 4217).
    currency: Mapped[str] = mapped_column(String(3), default="CAD")
    #: Billing address: street.
    billing_address: Mapped[str | None] = mapped_column(String(200))
    #: Billing address: second line.
    billing_address2: Mapped[str | None] = mapped_column(String(200))
    #: Billing address: city.
    billing_city: Mapped[str | None] = mapped_column(String(100))
    #: Billing address: province or state.
    billing_province: Mapped[str | None] = mapped_column(String(100))
    #: Billing address: country (ISO 3166 alpha-2).
    billing_country: Mapped[str | None] = mapped_column(String(2))
    #: Billing address: postal or ZIP code, normalised for CA, US and FR.
    billing_postal_code: Mapped[str | None] = mapped_column(String(20))
    #: Goods go to the billing address; the shipping fields are then ignored.
    shipping_same_as_billing: Mapped[bool] = mapped_column(default=True)
    #: Shipping address: street.
    shipping_address: Mapped[str | None] = mapped_column(String(200))
    #: Shipping address: second line.
    shipping_address2: Mapped[str | None] = mapped_column(String(200))
    #: Shipping address: city.
    shipping_city: Mapped[str | None] = mapped_column(String(100))
    #: Shipping address: province or state.
    shipping_province: Mapped[str | None] = mapped_column(String(100))
    #: Shipping address: country (ISO 3166 alpha-2).
    shipping_country: Mapped[str | None] = mapped_column(String(2))
    #: Shipping address: postal or ZIP code.
    shipping_postal_code: Mapped[str | None] = mapped_column(String(20))
    #: Main email address of the client.
    email: Mapped[str | None] = mapped_column(String(254))
    #: Main phone number, in international format.
    phone: Mapped[str | None] = mapped_column(String(40))
    #: Mobile phone number, in international format.
    mobile: Mapped[str | None] = mapped_column(String(40))
    #: Fax number, in international format.
    fax: Mapped[str | None] = mapped_column(String(40))
    #: The billing email receives the recap of each intervention (until unsubscribed).
    recap_mails: Mapped[bool] = mapped_column(default=True)
    #: Web site (http or https URL).
    website: Mapped[str | None] = mapped_column(String(255))
    #: Another client of the tenant that receives this client's invoices.
    bill_to_id: Mapped[int | None]
    #: The number the client gives us for itself (its own reference, "# attribué par le client").
    reference: Mapped[str | None] = mapped_column(String(60))
    #: Business registration number (the seed's N.E.Q.).
    business_number: Mapped[str | None] = mapped_column(String(40))
    #: Home branch; a branch-limited user sees only its branch's clients.
    branch_id: Mapped[int | None] = mapped_column(index=True)
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
    bill_to: Mapped["Client | None"] = relationship(
        primaryjoin="and_(remote(Client.id) == foreign(Client.bill_to_id),"
        " remote(Client.tenant_id) == Client.tenant_id)",
    )
    assignments: Mapped[list["ClientAssignment"]] = relationship(
        primaryjoin="and_(Client.id == foreign(ClientAssignment.client_id),"
        " Client.tenant_id == ClientAssignment.tenant_id)",
        cascade="all, delete-orphan",
    )

    @classmethod
    def client_scope(cls, visibility: ClientVisibility) -> ColumnElement[bool]:
        return visible_clients(cls.id, visibility, branch_column=cls.branch_id)

    @property
    def archived(self) -> bool:
        return self.status is ClientStatus.ARCHIVED

    def address(self, kind: str) -> dict[str, str | None]:
        """The billing or shipping address as a mapping of ADDRESS_FIELDS."""
        if kind == "shipping" and self.shipping_same_as_billing:
            kind = "billing"
        return {field: getattr(self, f"{kind}_{field}") for field in ADDRESS_FIELDS}

    def __repr__(self) -> str:
        return f"<Client {self.code} {self.name}>"


class ClientAssignment(TenantScoped, db.Model):
    """A staff user assigned to a client (the seed's VENDEURS tab): without
    ``clients.view_all``, staff see only the clients assigned to them."""

    __tablename__ = "client_assignment"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "client_id"], ["client.tenant_id", "client.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["user_account.tenant_id", "user_account.id"],
            ondelete="CASCADE",
        ),
        Index("ix_client_assignment_user", "tenant_id", "user_id", "client_id"),
    )

    #: The client.
    client_id: Mapped[int] = mapped_column(primary_key=True)
    #: The staff user in charge of it.
    user_id: Mapped[int] = mapped_column(primary_key=True)
    #: When the assignment was made.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped["User"] = relationship(  # noqa: F821
        primaryjoin="and_(User.id == foreign(ClientAssignment.user_id),"
        " User.tenant_id == ClientAssignment.tenant_id)",
    )


class ClientSearchTerm(TenantScoped, db.Model):
    """One normalised word of a client's name, code, email or phone. Searching looks
    words up by prefix in this index, so a search costs the same with 100 or 100,000
    clients, and "herve" finds "Hervé"."""

    __tablename__ = "client_search_term"
    __table_args__ = (
        # tenant first: a prefix lookup then reads only the bound tenant's words.
        PrimaryKeyConstraint("tenant_id", "term", "client_id"),
        ForeignKeyConstraint(
            ["tenant_id", "client_id"], ["client.tenant_id", "client.id"], ondelete="CASCADE"
        ),
    )

    #: The word, lowercased, accents removed, only letters and digits; compared byte by
    #: byte on PostgreSQL ("C" collation) so that a prefix is an index range.
    term: Mapped[str] = mapped_column(
        String(60).with_variant(String(60, collation="C"), "postgresql")
    )
    #: The client it belongs to.
    client_id: Mapped[int]


class Contact(ClientOwned, db.Model):
    """A person at a client; the one who may be given portal access."""

    __tablename__ = "contact"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "client_id"], ["client.tenant_id", "client.id"]),
        Index("ix_contact_client_name", "tenant_id", "client_id", "name", "id"),
        UniqueConstraint("tenant_id", "pseudonym"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The client this person works for.
    client_id: Mapped[int]
    #: Full name (required).
    name: Mapped[str] = mapped_column(String(200))
    #: Job title.
    title: Mapped[str | None] = mapped_column(String(120))
    #: Department.
    department: Mapped[str | None] = mapped_column(String(120))
    #: Email address.
    email: Mapped[str | None] = mapped_column(String(254))
    #: The contact's role for us (the seed's TYPE: Opérations, Comptabilité, ...).
    type: Mapped[str | None] = mapped_column(String(60))
    #: Phone number.
    phone: Mapped[str | None] = mapped_column(String(40))
    #: Mobile phone number.
    mobile: Mapped[str | None] = mapped_column(String(40))
    #: Fax number.
    fax: Mapped[str | None] = mapped_column(String(40))
    #: Where the person works (the seed's Lieu): a site, building or office.
    location: Mapped[str | None] = mapped_column(String(120))
    #: The contact receives the recap of each intervention (opted in, until unsubscribed).
    recap_mails: Mapped[bool] = mapped_column(default=False)
    #: Set when the contact was archived; archived contacts leave the lists but stay referable.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set when staff erased the contact (GDPR article 17): its personal fields are gone
    #: and it can no longer be edited.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The stable pseudonym an erased contact and its user go by (``ANON-4K7Q2M``),
    #: unique in the tenant; what the ledger, the requests and the log show of them.
    pseudonym: Mapped[str | None] = mapped_column(String(20))

    client: Mapped[Client] = relationship(
        back_populates="contacts",
        primaryjoin="and_(Client.id == foreign(Contact.client_id),"
        " Client.tenant_id == Contact.tenant_id)",
    )
    #: The portal user this contact signs in as, once given access: mails to the
    #: contact are written in that user's language.
    user: Mapped["User | None"] = relationship(  # noqa: F821
        primaryjoin="and_(Contact.id == foreign(User.contact_id),"
        " Contact.tenant_id == User.tenant_id)",
        uselist=False,
        viewonly=True,
    )

    @classmethod
    def client_scope(cls, visibility: ClientVisibility) -> ColumnElement[bool]:
        return visible_clients(cls.client_id, visibility)

    def __repr__(self) -> str:
        return f"<Contact {self.name}>"
