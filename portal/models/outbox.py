"""Mails waiting to be delivered: written in the transaction of the change that
causes them, delivered later by the outbox worker."""

import enum
from datetime import datetime

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.base import UTCDateTime, db_enum, utcnow
from portal.tenancy import TenantScoped


class MailState(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMail(TenantScoped, db.Model):
    """One mail to one recipient; never deleted, so support can see what was sent."""

    __tablename__ = "outbox_mail"
    __table_args__ = (
        Index("ix_outbox_mail_due", "state", "next_attempt_at", "id"),
        Index("ix_outbox_mail_merge_key", "tenant_id", "merge_key", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What the mail is for (``invitation``, ``password_reset``, ``recap`` ...).
    kind: Mapped[str] = mapped_column(String(40))
    #: The recipient's address.
    to_address: Mapped[str] = mapped_column(String(254))
    #: The From header: the tenant's name with the configured sender address.
    from_address: Mapped[str] = mapped_column(String(320))
    #: Subject line.
    subject: Mapped[str] = mapped_column(String(255))
    #: Extra headers ({name: value}), such as List-Unsubscribe.
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    #: The plain-text part.
    text_body: Mapped[str] = mapped_column(Text)
    #: The HTML part.
    html_body: Mapped[str] = mapped_column(Text)
    #: pending until delivered (sent) or given up after too many attempts (failed).
    state: Mapped[MailState] = mapped_column(
        db_enum(MailState, "mail_state"), default=MailState.PENDING
    )
    #: Delivery attempts made so far.
    attempts: Mapped[int] = mapped_column(default=0)
    #: Not tried again before this time (back-off after a failure, lease while sending).
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Why the last attempt failed, for the operator.
    last_error: Mapped[str | None] = mapped_column(String(500))
    #: Mails with the same key, still waiting, are merged into one (a digest);
    #: empty for mails that stand alone.
    merge_key: Mapped[str | None] = mapped_column(String(120))
    #: When the mail was queued.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the SMTP server (or other backend) accepted it.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
