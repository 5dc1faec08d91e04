"""The recap mail of seed 002, sent after every intervention, and its one-click
unsubscribe (RFC 8058): a ``List-Unsubscribe`` header for mail clients, and a link
to a page that asks for a confirming click, so that link scanners unsubscribe no one.

Recipients are the served client's billing address and its contacts who opted in;
each gets its own mail, whose unsubscribe link names that address only: the link
carries a keyed digest of the address it was mailed to, so once the client's or
contact's address changes, the old link neither shows nor switches the new address.
"""

import hashlib
import hmac
from dataclasses import dataclass

from flask import current_app
from itsdangerous import URLSafeSerializer

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.mail import outbox
from portal.models import Client, Contact, CreditAccount, LedgerEntry, Tenant
from portal.services import audit, languages
from portal.services.actor import Actor
from portal.services.links import portal_url, read_token, token_id

UNSUBSCRIBE_SALT = "portal.unsubscribe"


@dataclass(frozen=True)
class Recipient:
    """An address that receives recaps: a client's billing address or a contact."""

    record: Client | Contact

    @property
    def address(self) -> str:
        return self.record.email

    @property
    def kind(self) -> str:
        return "client" if isinstance(self.record, Client) else "contact"


def recipients(client: Client) -> list[Recipient]:
    """The billing address (unless unsubscribed) and the contacts who opted in, once each."""
    found: dict[str, Recipient] = {}
    if client.email and client.recap_mails:
        found[client.email.lower()] = Recipient(client)
    # From the client's contacts, which a recording has already read with its account.
    for contact in sorted(client.contacts, key=lambda contact: contact.id):
        if contact.recap_mails and contact.archived_at is None and contact.email:
            found.setdefault(contact.email.lower(), Recipient(contact))
    return list(found.values())


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def _address_digest(address: str) -> str:
    """Keyed, so that a link in a URL does not let anyone confirm a guessed address."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, address.strip().lower().encode(), hashlib.sha256).hexdigest()[:32]


def unsubscribe_token(recipient: Recipient) -> str:
    return _serializer().dumps(
        {
            "t": recipient.record.tenant_id,
            "k": recipient.kind,
            "i": recipient.record.id,
            "a": _address_digest(recipient.address),
        }
    )


@dataclass(frozen=True)
class UnsubscribeLink:
    """A genuine unsubscribe link. Its recipient is None when the address it was mailed
    to is no longer the record's: the link then manages nothing and shows no address."""

    recipient: Recipient | None


def link_for(token: str, tenant: Tenant) -> UnsubscribeLink | None:
    """What a genuine unsubscribe link of this tenant names; None for any other token."""
    data = read_token(_serializer(), token) or {}
    record_id, kind, mailed_to = token_id(data.get("i")), data.get("k"), data.get("a")
    if record_id is None or data.get("t") != tenant.id or kind not in ("client", "contact"):
        return None
    record = db.session.get(Client if kind == "client" else Contact, record_id)
    if record is None:
        return None
    # A link signed before links named their address (no digest) cannot tell which
    # address it was mailed to, so it is treated like one whose address changed.
    still_mailed_here = (
        isinstance(mailed_to, str)
        and bool(record.email)
        and hmac.compare_digest(_address_digest(record.email), mailed_to)
    )
    return UnsubscribeLink(Recipient(record) if still_mailed_here else None)


def recipient_locale(recipient: Recipient, client: Client, tenant: Tenant) -> str:
    """A contact who has portal access reads in their own language; others in the
    client's."""
    user = recipient.record.user if recipient.kind == "contact" else None
    return languages.locale_for(tenant, user=user, client=client)


def queue_recap(tenant: Tenant, account: CreditAccount, entry: LedgerEntry, client: Client) -> int:
    """Queue one recap per recipient with the entry's transaction; return how many."""
    queued = 0
    statement_link = portal_url("statement.account", tenant=tenant.slug, account_id=account.id)
    for recipient in recipients(client):
        link = portal_url(
            "mailing.unsubscribe", tenant=tenant.slug, token=unsubscribe_token(recipient)
        )
        outbox.queue_from_templates(
            tenant,
            kind="recap",
            to=recipient.address,
            subject=_l("Your time credit situation"),
            template="recap",
            locale=recipient_locale(recipient, client, tenant),
            support=True,
            headers={
                "List-Unsubscribe": f"<{link}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
            account=account,
            entry=entry,
            client=client,
            technician=entry.technician,
            unsubscribe_link=link,
            statement_link=statement_link,
        )
        queued += 1
    return queued


def set_recap_mails(recipient: Recipient, wanted: bool, *, actor: Actor, one_click: bool) -> bool:
    """Subscribe ``recipient`` again or unsubscribe it, as its link asked; return whether
    anything changed. The link, not whoever is signed in on that browser, speaks for
    the address: the log names no user."""
    record = recipient.record
    if record.recap_mails == wanted:
        return False
    record.recap_mails = wanted
    audit.record(
        "mailing.resubscribed" if wanted else "mailing.unsubscribed",
        actor=Actor(actor.tenant, address=actor.address),
        client_id=record.client_id if recipient.kind == "contact" else record.id,
        address=recipient.address,
        one_click=one_click,
    )
    return True
