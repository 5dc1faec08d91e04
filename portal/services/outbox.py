"""The mail outbox: queue a mail in the caller's transaction; deliver what is due.

Delivery is at least once and, short of a crash between the SMTP server's
acceptance and our commit, exactly once: a worker first claims a mail (a
conditional update, with SKIP LOCKED on PostgreSQL so that concurrent workers
pass each other by), commits the claim, sends, then records the outcome.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address

from flask import current_app, render_template
from flask_mailman import EmailMultiAlternatives
from sqlalchemy import select, update

from portal.extensions import db, mail
from portal.models import MailState, OutboxMail, Tenant
from portal.models.base import utcnow
from portal.tenancy import cross_tenant

#: Attempts before a mail is marked failed (about two days with the back-off below).
MAX_ATTEMPTS = 10
#: How long a claimed mail is left to the worker that claimed it.
LEASE = timedelta(minutes=10)
MAX_BACKOFF = timedelta(hours=6)


def backoff(attempts: int) -> timedelta:
    """Wait 1, 2, 4 ... minutes after successive failures, at most MAX_BACKOFF."""
    return min(timedelta(minutes=2 ** (attempts - 1)), MAX_BACKOFF)


def queue(
    tenant: Tenant,
    *,
    kind: str,
    to: str,
    subject: str,
    text: str,
    html: str,
    headers: dict[str, str] | None = None,
    support: bool = False,
) -> OutboxMail:
    """Add a mail to the session: it is sent only if the caller's transaction commits.
    A ``support`` mail comes from the support desk's sender when the tenant set one."""
    name, address = tenant.name, current_app.config["MAIL_DEFAULT_SENDER"]
    if support:
        name = tenant.support_sender_name or name
        address = tenant.support_sender_email or address
    queued = OutboxMail(
        tenant_id=tenant.id,
        kind=kind,
        to_address=to,
        # Readable here; the mail backend encodes the header when it sends.
        from_address=str(Address(display_name=name, addr_spec=address)),
        subject=subject,
        text_body=text,
        html_body=html,
        headers=headers,
    )
    db.session.add(queued)
    return queued


def queue_from_templates(
    tenant: Tenant,
    *,
    kind: str,
    to: str,
    subject: str,
    template: str,
    headers: dict[str, str] | None = None,
    support: bool = False,
    **context,
) -> OutboxMail:
    """Queue a mail whose parts are ``mail/<template>.txt`` and ``mail/<template>.html``."""
    context = {"tenant": tenant, **context}
    return queue(
        tenant,
        kind=kind,
        to=to,
        subject=subject,
        text=render_template(f"mail/{template}.txt", **context),
        html=render_template(f"mail/{template}.html", **context),
        headers=headers,
        support=support,
    )


@dataclass
class Report:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def deliver_due(limit: int = 100, now: datetime | None = None) -> Report:
    """Deliver up to ``limit`` due mails of every tenant (explicitly cross-tenant)."""
    report = Report()
    connection = mail.get_connection()
    with cross_tenant(db.session):
        for _ in range(limit):
            claimed = claim_next(now or utcnow())
            if claimed is None:
                break
            try:
                send(claimed, connection)
            except Exception as error:  # any failure of the backend: try again later
                outcome = record_failure(claimed, error, now or utcnow())
                setattr(report, outcome, getattr(report, outcome) + 1)
            else:
                claimed.state, claimed.sent_at, claimed.last_error = MailState.SENT, utcnow(), None
                report.sent += 1
            db.session.commit()
    return report


def claim_next(now: datetime) -> OutboxMail | None:
    """Take the next due mail for this worker, or None when nothing is due."""
    while True:
        due = db.session.scalar(
            select(OutboxMail)
            .where(OutboxMail.state == MailState.PENDING, OutboxMail.next_attempt_at <= now)
            .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if due is None:
            db.session.rollback()
            return None
        claimed = db.session.execute(
            update(OutboxMail)
            .where(
                OutboxMail.id == due.id,
                OutboxMail.state == MailState.PENDING,
                OutboxMail.next_attempt_at <= now,
            )
            .values(next_attempt_at=now + LEASE, attempts=OutboxMail.attempts + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        if claimed:
            db.session.refresh(due)
            return due
        # Another worker claimed it between our read and our update: look again.


def send(queued: OutboxMail, connection) -> None:
    message = EmailMultiAlternatives(
        subject=queued.subject,
        body=queued.text_body,
        from_email=queued.from_address,
        to=[queued.to_address],
        headers=queued.headers or None,
        connection=connection,
    )
    message.attach_alternative(queued.html_body, "text/html")
    message.send()


def record_failure(queued: OutboxMail, error: Exception, now: datetime) -> str:
    queued.last_error = f"{type(error).__name__}: {error}"[:500]
    if queued.attempts >= MAX_ATTEMPTS:
        queued.state = MailState.FAILED
        current_app.logger.error("mail %s failed for good: %s", queued.id, queued.last_error)
        return "failed"
    queued.next_attempt_at = now + backoff(queued.attempts)
    current_app.logger.warning("mail %s will be retried: %s", queued.id, queued.last_error)
    return "retried"
