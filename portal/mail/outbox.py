"""The mail outbox: queue a mail in the caller's transaction; deliver what is due.

Delivery is at least once and, short of a crash between the SMTP server's
acceptance and our commit, exactly once: a worker first claims a mail (a
conditional update, with SKIP LOCKED on PostgreSQL so that concurrent workers
pass each other by), commits the claim, sends, then records the outcome.

Queueing never fails on what a mail says: the headers are composed here, from
text made fit for a header, and the message is built only when it is sent. A
mail that cannot be built all the same (a row written before these rules) is
marked failed with the reason at once, since no retry would mend it.
"""

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.mime.image import MIMEImage

from flask import current_app, render_template
from flask_babel import force_locale
from flask_mailman import EmailMultiAlternatives
from flask_mailman.message import SafeMIMEMultipart, sanitize_address
from sqlalchemy import select, update

from portal.extensions import db, mail
from portal.models import MailState, OutboxMail, Tenant
from portal.models.base import utcnow
from portal.services import brand
from portal.tenancy import cross_tenant

#: Attempts before a mail is marked failed (about two days with the back-off below).
MAX_ATTEMPTS = 10
#: How long a claimed mail is left to the worker that claimed it.
LEASE = timedelta(minutes=10)
MAX_BACKOFF = timedelta(hours=6)


def backoff(attempts: int) -> timedelta:
    """Wait 1, 2, 4 ... minutes after successive failures, at most MAX_BACKOFF."""
    return min(timedelta(minutes=2 ** (attempts - 1)), MAX_BACKOFF)


def header_text(value: str, max_length: int | None = None) -> str:
    """``value`` fit for a mail header: each run of white space, control characters
    and line separators becomes one space, so a name stored with a line break cannot
    break the header or add one; at most ``max_length`` characters."""
    text = " ".join(
        "".join(
            " " if unicodedata.category(character) in ("Cc", "Zl", "Zp") else character
            for character in value
        ).split()
    )
    if max_length is not None and len(text) > max_length:
        text = text[: max_length - 1].rstrip() + "…"
    return text


def subject_line(subject: str) -> str:
    """A subject as stored: one line, cut to fit its column (names in it may be long)."""
    return header_text(subject, OutboxMail.subject.type.length)


def sender(name: str, address: str) -> str:
    """The From header, readable; the mail backend encodes it when it sends. An address
    that does not parse is kept as it is: the mail then fails when it is sent, with the
    reason, instead of the request that queues it."""
    display_name = header_text(name)
    try:
        return str(Address(display_name=display_name, addr_spec=address))
    except (ValueError, HeaderParseError, IndexError):  # what the stdlib's parser raises
        return f"{display_name} <{address}>"


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
        from_address=sender(name, address),
        subject=subject_line(subject),
        text_body=text,
        html_body=html,
        headers={key: header_text(value) for key, value in headers.items()} if headers else None,
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
    locale: str,
    headers: dict[str, str] | None = None,
    support: bool = False,
    **context,
) -> OutboxMail:
    """Queue a mail whose parts are ``mail/<template>.txt`` and ``mail/<template>.html``,
    subject (a lazy string) included, in the recipient's ``locale``: its words, dates and
    durations are theirs, whoever sends it."""
    context = {"tenant": tenant, **context}
    with force_locale(locale):
        return queue(
            tenant,
            kind=kind,
            to=to,
            subject=str(subject),
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
                message = build(claimed, connection)
            except Exception as error:  # the mail itself is wrong: no later attempt can send it
                outcome = record_unbuildable(claimed, error)
            else:
                try:
                    message.send()
                except Exception as error:  # any failure of the backend: try again later
                    outcome = record_failure(claimed, error, now or utcnow())
                else:
                    claimed.state, claimed.sent_at = MailState.SENT, utcnow()
                    claimed.last_error, outcome = None, "sent"
            setattr(report, outcome, getattr(report, outcome) + 1)
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


class RelatedMessage(EmailMultiAlternatives):
    """A text part and an HTML alternative that carries the images it shows: the HTML
    and its images in one multipart/related part, each image named by its Content-ID
    (``<img src="cid:…">``), so that no mail client fetches anything from outside."""

    def __init__(self, *args, related: list[tuple[str, bytes, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        #: (Content-ID, bytes, image subtype) of each image the HTML shows.
        self.related = list(related)

    def _create_mime_attachment(self, content, mimetype):
        part = super()._create_mime_attachment(content, mimetype)
        if mimetype != "text/html" or not self.related:
            return part
        encoding = self.encoding or current_app.extensions["mailman"].default_charset
        related = SafeMIMEMultipart(_subtype="related", encoding=encoding)
        related.attach(part)
        for cid, data, subtype in self.related:
            image = MIMEImage(data, _subtype=subtype)
            image.add_header("Content-ID", f"<{cid}>")
            image.add_header("Content-Disposition", "inline", filename=cid.split("@", 1)[0])
            related.attach(image)
        return related


def related_images(queued: OutboxMail) -> list[tuple[str, bytes, str]]:
    """The images the mail's HTML shows from its own parts (the tenant's logo)."""
    if "cid:" not in queued.html_body:
        return []
    tenant = db.session.get(Tenant, queued.tenant_id)
    return brand.mail_images(tenant, queued.html_body) if tenant is not None else []


def build(queued: OutboxMail, connection) -> EmailMultiAlternatives:
    """The message, checked as the backend will check it before sending: a header
    with a line break or an address that does not parse raises here (ValueError)."""
    message = RelatedMessage(
        subject=queued.subject,
        body=queued.text_body,
        from_email=queued.from_address,
        to=[queued.to_address],
        headers=queued.headers or None,
        connection=connection,
        related=related_images(queued),
    )
    message.attach_alternative(queued.html_body, "text/html")
    message.message()
    encoding = message.encoding or current_app.extensions["mailman"].default_charset
    for address in (message.from_email, *message.recipients()):
        sanitize_address(address, encoding)
    return message


def record_unbuildable(queued: OutboxMail, error: Exception) -> str:
    queued.state = MailState.FAILED
    queued.last_error = f"Cannot be built: {type(error).__name__}: {error}"[:500]
    current_app.logger.error("mail %s failed for good: %s", queued.id, queued.last_error)
    return "failed"


def record_failure(queued: OutboxMail, error: Exception, now: datetime) -> str:
    queued.last_error = f"{type(error).__name__}: {error}"[:500]
    if queued.attempts >= MAX_ATTEMPTS:
        queued.state = MailState.FAILED
        current_app.logger.error("mail %s failed for good: %s", queued.id, queued.last_error)
        return "failed"
    queued.next_attempt_at = now + backoff(queued.attempts)
    current_app.logger.warning("mail %s will be retried: %s", queued.id, queued.last_error)
    return "retried"
