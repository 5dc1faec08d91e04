"""Staff erase a client's contact (GDPR article 17).

The contact's personal fields are emptied and its name becomes a stable pseudonym
(``ANON-4K7Q2M``, random, unique in the tenant, kept on the contact). Its portal user, if
it has one, takes the pseudonym as name and ``<pseudonym>@erased.invalid`` as address,
loses its password, second factors and network limit, is disabled, and every one of its
sessions ends (their addresses and browsers forgotten); its open links are revoked, its
exports deleted. What the business must keep stays, under the pseudonym: the time-credit
ledger (balances and chains unchanged), the support requests and their messages, the
audit log, whose events keep referring to the user by id while the personal values in
their details (names, addresses, phones, logins) are replaced by the pseudonym.
"""

import secrets
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, or_, select, update

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import (
    AuditEvent,
    Contact,
    ContactProposal,
    DataExport,
    MailState,
    OutboxMail,
    Passkey,
    ProposalState,
    RecoveryCode,
    User,
    UserSession,
    UserStatus,
)
from portal.models.base import utcnow
from portal.services import audit, authority, invitations, search, sessions
from portal.services.actor import Actor
from portal.services.refusal import Refusal
from portal.storage import delete_after_commit

#: Letters and digits that cannot be misread (Crockford's base 32).
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX = "ANON-"
#: The domain of an erased user's address: reserved, never delivered (RFC 2606).
ERASED_DOMAIN = "erased.invalid"
#: The contact's personal fields, emptied (its name becomes the pseudonym).
PERSONAL_FIELDS = ("title", "department", "email", "type", "phone", "mobile", "fax", "location")
#: Audit events read per query while their details are scrubbed.
BATCH = 500
#: Shorter values are not replaced inside longer texts (only where they are the whole value).
MIN_SUBSTRING = 5


class ErasureRefused(Refusal):
    """The contact cannot be erased (already erased, or a user the actor may not touch)."""


class ContactErased(Refusal):
    """An erased contact is kept as it is: it is never edited, archived or restored."""

    def __init__(self):
        super().__init__(_l("This contact was erased: it can no longer be changed."))


def check_not_erased(contact: Contact) -> None:
    if contact.erased_at is not None:
        raise ContactErased()


def new_pseudonym() -> str:
    """A pseudonym no contact of the bound tenant goes by."""
    while True:
        pseudonym = PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(6))
        if db.session.scalar(select(Contact.id).where(Contact.pseudonym == pseudonym)) is None:
            return pseudonym


def erase_refusal(contact: Contact, user: User | None, *, actor: Actor) -> str | None:
    """Why ``actor`` may not erase ``contact`` (the page says it instead of the form)."""
    try:
        check_erasable(contact, user, actor=actor)
    except (ErasureRefused, authority.Refused) as refusal:
        return str(getattr(refusal, "message", refusal))
    return None


def check_erasable(contact: Contact, user: User | None, *, actor: Actor) -> None:
    if contact.erased_at is not None:
        raise ErasureRefused(_l("This contact was already erased."))
    if user is not None:
        authority.check_user(actor.user, user)
        if user.id == actor.user.id:
            raise ErasureRefused(_l("You cannot erase your own contact."))


def erase_contact(contact: Contact, *, actor: Actor) -> str:
    """Erase ``contact`` (and its portal user); returns its pseudonym. Refused
    (``ErasureRefused``, ``authority.Refused``) before anything is written."""
    user = db.session.scalar(select(User).where(User.contact_id == contact.id))
    check_erasable(contact, user, actor=actor)
    pseudonym = new_pseudonym()
    personal = _personal_values(contact, user)
    now = utcnow()

    contact.pseudonym = pseudonym
    contact.name = pseudonym
    for field in PERSONAL_FIELDS:
        setattr(contact, field, None)
    contact.recap_mails = False
    contact.erased_at = now
    contact.archived_at = contact.archived_at or now
    db.session.flush()
    search.reindex(contact.client)

    _drop_pending_mail(value for value in personal if "@" in value)
    _withdraw_proposals(contact, pseudonym, actor=actor, now=now)
    if user is not None:
        _erase_user(user, pseudonym)
    _scrub_audit(personal, pseudonym, contact_id=contact.id, user_id=user.id if user else None)
    audit.record(
        "contact.erased",
        actor=actor,
        client_id=contact.client_id,
        contact_id=contact.id,
        user_id=user.id if user else None,
        contact=pseudonym,
    )
    return pseudonym


def _personal_values(contact: Contact, user: User | None) -> set[str]:
    """The texts that name or reach the person, to be scrubbed from the log."""
    values = {contact.name, contact.email, contact.phone, contact.mobile, contact.fax}
    if user is not None:
        values |= {user.name, user.email, user.phone}
        # The addresses the user signed in with before a change are in the log too.
        for (details,) in db.session.execute(
            select(AuditEvent.details).where(
                AuditEvent.action == "user.email_changed", AuditEvent.actor_id == user.id
            )
        ):
            for old_new in (details or {}).get("changes", {}).get("email", []) or []:
                values.add(old_new)
    return {value.strip() for value in values if isinstance(value, str) and value.strip()}


def _erase_user(user: User, pseudonym: str) -> None:
    user.name = pseudonym
    user.email = f"{pseudonym.lower()}@{ERASED_DOMAIN}"
    user.password_hash = None
    user.phone = user.initials = user.allowed_network = None
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    user.status = UserStatus.DISABLED
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(Passkey).where(Passkey.user_id == user.id))
    sessions.end_all(user)
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id)
        .values(ip_address=None, user_agent=None)
        .execution_options(synchronize_session=False)
    )
    invitations.revoke_pending(user)
    for key in db.session.scalars(
        select(DataExport.storage_key).where(
            DataExport.user_id == user.id, DataExport.storage_key.is_not(None)
        )
    ):
        delete_after_commit(db.session, key)
    db.session.execute(
        delete(DataExport)
        .where(DataExport.user_id == user.id)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(AuditEvent)
        .where(AuditEvent.actor_id == user.id)
        .values(ip_address=None)
        .execution_options(synchronize_session=False)
    )


def _withdraw_proposals(contact: Contact, pseudonym: str, *, actor: Actor, now) -> None:
    """Proposals about the contact keep only the pseudonym; waiting ones are closed."""
    for proposal in db.session.scalars(
        select(ContactProposal).where(ContactProposal.contact_id == contact.id)
    ):
        proposal.values = {"name": pseudonym}
        proposal.note = None
        if proposal.is_pending:
            proposal.state = ProposalState.REJECTED
            proposal.decided_by_id = actor.user.id
            proposal.decided_at = now
            proposal.decision_note = None


def _drop_pending_mail(addresses: Iterable[str]) -> None:
    """Mails still waiting for the person's addresses are not sent any more."""
    db.session.execute(
        delete(OutboxMail)
        .where(OutboxMail.to_address.in_(list(addresses)), OutboxMail.state == MailState.PENDING)
        .execution_options(synchronize_session=False)
    )


def _scrub_audit(personal: set[str], pseudonym: str, *, contact_id: int, user_id: int | None):
    """Replace the personal values in the details of the events that may hold them:
    those of the contact's client, of its user, and those about no client (refused
    sign-ins keep the login tried). Read in pages of ``BATCH``; only changed rows written."""
    if not personal:
        return
    lowered = {value.lower(): value for value in personal}
    about = [AuditEvent.client_id.is_(None)]
    client_id = db.session.scalar(select(Contact.client_id).where(Contact.id == contact_id))
    about.append(AuditEvent.client_id == client_id)
    if user_id is not None:
        about.append(AuditEvent.actor_id == user_id)
    last = 0
    while True:
        rows = db.session.execute(
            select(AuditEvent.id, AuditEvent.details)
            .where(or_(*about), AuditEvent.id > last)
            .order_by(AuditEvent.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for event_id, details in rows:
            scrubbed = _scrub(details, lowered, pseudonym)
            if scrubbed != details:
                db.session.execute(
                    update(AuditEvent)
                    .where(AuditEvent.id == event_id)
                    .values(details=scrubbed)
                    .execution_options(synchronize_session=False)
                )
        last = rows[-1].id


def _scrub(value: Any, lowered: dict[str, str], pseudonym: str) -> Any:
    if isinstance(value, dict):
        return {key: _scrub(item, lowered, pseudonym) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item, lowered, pseudonym) for item in value]
    if not isinstance(value, str):
        return value
    if value.strip().lower() in lowered:
        return pseudonym
    text = value
    for found in lowered:
        if len(found) >= MIN_SUBSTRING and found in text.lower():
            start = text.lower().index(found)
            while start >= 0:
                text = text[:start] + pseudonym + text[start + len(found) :]
                start = text.lower().find(found, start + len(pseudonym))
    return text
