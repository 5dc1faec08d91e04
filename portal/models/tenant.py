"""Tenants (the service businesses) and their branches."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import UTCDateTime, utcnow
from portal.tenancy import TenantScoped


class Tenant(db.Model):
    """A service business using Portal; the one table that is not tenant-scoped."""

    __tablename__ = "tenant"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The URL prefix, ``/<slug>/...``: lowercase letters, digits and hyphens.
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    #: The business's name, shown in the page header and in mails.
    name: Mapped[str] = mapped_column(String(120))
    #: Minutes below zero beyond which an intervention needs an override.
    credit_threshold_minutes: Mapped[int] = mapped_column(default=60)
    #: Days an invitation link stays valid.
    invitation_days: Mapped[int] = mapped_column(default=7)
    #: The audit log's network addresses are erased after this many days (GDPR's
    #: storage limitation); the events stay.
    audit_address_days: Mapped[int] = mapped_column(default=365, server_default="365")
    #: Locale used when neither the user nor the browser says otherwise.
    default_locale: Mapped[str] = mapped_column(String(10), default="en")
    #: Time zone in which dates are shown to the tenant's users (IANA name).
    timezone: Mapped[str] = mapped_column(String(60), default="UTC")
    #: Country assumed for phone numbers and new clients (ISO 3166 alpha-2).
    default_country: Mapped[str] = mapped_column(String(2), default="CA")
    #: Currency of new clients (ISO 4217).
    default_currency: Mapped[str] = mapped_column(String(3), default="CAD")
    #: The name the recap mails come from (the tenant's name when unset).
    support_sender_name: Mapped[str | None] = mapped_column(String(120))
    #: The address the recap mails come from, which customers reply to (the
    #: server's MAIL_DEFAULT_SENDER when unset).
    support_sender_email: Mapped[str | None] = mapped_column(String(254))
    #: The support desk's phone, signing the recap mails under the technician's name.
    support_phone: Mapped[str | None] = mapped_column(String(40))
    #: The support desk's week, Monday first: each day closed (null) or its opening
    #: and closing times and whether only urgent matters are handled (seed 001's
    #: Saturday); seed 001's week when unset. See ``portal.services.hours``.
    opening_hours: Mapped[list | None] = mapped_column(JSON)
    #: Dates (ISO) on which the desk is closed whatever the week says.
    holidays: Mapped[list | None] = mapped_column(JSON)
    #: Balance, in minutes, below which a customer is mailed a low-credit alert, for
    #: the accounts that set no threshold of their own.
    credit_alert_minutes: Mapped[int] = mapped_column(default=60)
    #: The colour of the header, buttons and mails (``#rrggbb``), checked for contrast
    #: with white text; Portal's blue when unset.
    accent_color: Mapped[str | None] = mapped_column(String(7))
    #: Where the logo lies in the upload storage (``portal.storage``); none when unset.
    logo_key: Mapped[str | None] = mapped_column(String(120))
    #: The price of a person-day of specific development, quoted for improvements that
    #: serve one customer (the seed's 480 € per day), in ``default_currency``.
    day_rate: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("480.00"))
    #: The expected delay of a flash malfunction as customers read it; the seed's when unset.
    delay_flash: Mapped[str | None] = mapped_column(String(200))
    #: The expected delay of a high-priority malfunction; the seed's when unset.
    delay_high: Mapped[str | None] = mapped_column(String(200))
    #: The expected delay of a normal-priority malfunction; the seed's when unset.
    delay_normal: Mapped[str | None] = mapped_column(String(200))
    #: The expected delay of a low-priority malfunction; the seed's when unset.
    delay_low: Mapped[str | None] = mapped_column(String(200))
    #: The page where customers leave a review (the seed's Facebook invitation).
    review_url: Mapped[str | None] = mapped_column(String(255))
    #: The code proposed to the next client created without one.
    next_client_number: Mapped[int] = mapped_column(default=1000)
    #: When the tenant was created.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    branches: Mapped[list["Branch"]] = relationship(order_by="Branch.name", viewonly=True)
    clients: Mapped[list["Client"]] = relationship(  # noqa: F821
        order_by="Client.name", viewonly=True
    )

    def __repr__(self) -> str:
        return f"<Tenant {self.slug}>"


class Branch(TenantScoped, db.Model):
    """A branch (succursale) of the business; users and records may be limited to one."""

    __tablename__ = "branch"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The branch's name, unique in the tenant.
    name: Mapped[str] = mapped_column(String(120))
    #: An inactive branch is kept for the records that refer to it but offered no more.
    active: Mapped[bool] = mapped_column(default=True)

    def __repr__(self) -> str:
        return f"<Branch {self.name}>"
