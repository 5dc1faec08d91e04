"""Telling the staff assigned to a client what the client's own contacts changed.

One mail per editing session, not one per save: the notice waits in the outbox
under a merge key (browser session, client, recipient) until the contact has been
quiet for ``CHANGE_NOTICE_QUIET`` or signs out; each new save rewrites the waiting
mail with everything changed since the session's first save.
"""

from datetime import datetime

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select, update

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.mail import outbox
from portal.models import AuditEvent, Client, MailState, OutboxMail, Tenant, User, UserStatus
from portal.models.base import utcnow
from portal.services import languages
from portal.services.actor import Actor
from portal.services.links import portal_url

#: The client-side actions a notice reports.
REPORTED_ACTIONS = ("client.updated", "contact.updated", "proposal.created")


def merge_key(session_id: int, client: Client, recipient: User) -> str:
    return f"client-changes:{session_id}:{client.id}:{recipient.id}"


def recipients(client: Client) -> list[User]:
    return [
        assignment.user
        for assignment in client.assignments
        if assignment.user.status is UserStatus.ACTIVE and assignment.user.email
    ]


def client_changed(client: Client, *, actor: Actor, since: datetime) -> None:
    """Queue, or bring up to date, the notice of what ``actor``'s user changed since
    ``since``, merged with the rest of their browser session's changes."""
    tenant, user = actor.tenant, actor.user
    due = utcnow() + current_app.config["CHANGE_NOTICE_QUIET"]
    for recipient in recipients(client):
        key = merge_key(actor.session_id, client, recipient)
        waiting = db.session.scalar(
            select(OutboxMail).where(
                OutboxMail.merge_key == key,
                OutboxMail.state == MailState.PENDING,
                OutboxMail.attempts == 0,
            )
        )
        start = waiting.created_at if waiting else since
        parts = _render(tenant, client, user, recipient, start)
        if waiting is not None:
            # Conditional: a worker that claimed the mail meanwhile has bumped attempts.
            rewritten = db.session.execute(
                update(OutboxMail)
                .where(OutboxMail.id == waiting.id, OutboxMail.attempts == 0)
                .values(
                    next_attempt_at=due,
                    subject=outbox.subject_line(parts["subject"]),
                    text_body=parts["text"],
                    html_body=parts["html"],
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            if rewritten:
                continue
            parts = _render(tenant, client, user, recipient, since)
        mail = outbox.queue(tenant, kind="client_changes", to=recipient.email, **parts)
        mail.merge_key, mail.created_at, mail.next_attempt_at = key, since, due


def send_now(session_id: int) -> None:
    """The editing session is over (sign-out): its notices need not wait any longer."""
    db.session.execute(
        update(OutboxMail)
        .where(
            OutboxMail.merge_key.startswith(f"client-changes:{session_id}:", autoescape=True),
            OutboxMail.state == MailState.PENDING,
            OutboxMail.attempts == 0,
        )
        .values(next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def _render(
    tenant: Tenant, client: Client, author: User, recipient: User, since: datetime
) -> dict[str, str]:
    events = db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.client_id == client.id,
            AuditEvent.actor_id == author.id,
            AuditEvent.action.in_(REPORTED_ACTIONS),
            AuditEvent.created_at >= since,
        )
        .order_by(AuditEvent.id)
    ).all()
    with force_locale(languages.locale_for(tenant, user=recipient)):
        context = {
            "tenant": tenant,
            "client": client,
            "actor": author,
            "recipient": recipient,
            "events": events,
            "log_link": portal_url("clients.log", tenant=tenant.slug, client_id=client.id),
        }
        return {
            "subject": str(
                _l(
                    "%(client)s: %(name)s updated their details on the portal",
                    client=client.name,
                    name=author.name,
                )
            ),
            "text": render_template("mail/client_changes.txt", **context),
            "html": render_template("mail/client_changes.html", **context),
        }
