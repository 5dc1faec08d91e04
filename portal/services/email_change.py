"""Changing one's sign-in address: the confirmation link to the new address, then the switch."""

import hmac

from flask import current_app
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from portal.extensions import db
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.mail import outbox
from portal.models import User
from portal.services import audit, languages, search
from portal.services.actor import Actor
from portal.services.links import digest, portal_url, read_token, token_id

#: Email-change links: their own salt, one day, dead once the address has changed.
EMAIL_SALT = "portal.email-change"
EMAIL_MAX_AGE = 24 * 3600


def _email_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=EMAIL_SALT)


class AddressRefused(Exception):
    """The new address cannot be asked for; the message says why."""


def request_email_change(new_email: str, *, actor: Actor) -> None:
    """Mail a confirmation link to ``actor.user``'s new address; nothing changes until it
    is opened. Refused (``AddressRefused``) for their own address or another user's."""
    user = actor.user
    if new_email == user.email:
        raise AddressRefused(_("This is already your address."))
    if db.session.scalar(select(User.id).where(User.email == new_email)):
        raise AddressRefused(_("Another user already signs in with this email."))
    token = _email_serializer().dumps({"u": user.id, "e": new_email, "o": digest(user.email)})
    outbox.queue_from_templates(
        actor.tenant,
        kind="email_change",
        to=new_email,
        subject=_l("Confirm your new address for %(tenant)s", tenant=actor.tenant.name),
        locale=languages.locale_for(actor.tenant, user=user),
        template="email_confirm",
        user=user,
        new_email=new_email,
        link=portal_url("auth.confirm_email", tenant=actor.tenant.slug, token=token),
    )
    audit.record(
        "user.email_change_requested",
        actor=actor,
        client_id=user.client_id,
        new_email=new_email,
    )


def email_change_for(token: str) -> tuple[User, str] | None:
    """The user and new address a confirmation link carries, while it is fresh, the
    address it replaces is still the user's, and no other user signs in with the new one."""
    data = read_token(_email_serializer(), token, max_age=EMAIL_MAX_AGE) or {}
    user_id, new_email, old_digest = token_id(data.get("u")), data.get("e"), data.get("o")
    if user_id is None or not isinstance(new_email, str) or not isinstance(old_digest, str):
        return None
    user = db.session.get(User, user_id)
    if user is None or not hmac.compare_digest(digest(user.email), old_digest):
        return None
    if db.session.scalar(select(User.id).where(User.email == new_email, User.id != user.id)):
        return None  # another user signs in with it since
    return user, new_email


def change_email(user: User, new_email: str, *, actor: Actor) -> None:
    """Switch ``user``'s sign-in address (and the contact card's), and tell the old
    address. Whoever opens the link acts as its user: the link proves who they are."""
    old_email = user.email
    user.email = new_email
    if user.contact is not None:
        user.contact.email = new_email
        search.reindex(user.contact.client)  # its client is found by its contacts' emails
    outbox.queue_from_templates(
        actor.tenant,
        kind="email_changed_notice",
        to=old_email,
        subject=_l("Your address for %(tenant)s has changed", tenant=actor.tenant.name),
        locale=languages.locale_for(actor.tenant, user=user),
        template="email_changed",
        user=user,
        new_email=new_email,
    )
    audit.record(
        "user.email_changed",
        actor=actor.signed_in_as(user),
        client_id=user.client_id,
        changes={"email": [old_email, new_email]},
    )
