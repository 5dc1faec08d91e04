"""Portal access for a client's contact: the user, its invitation, the mailed link."""

import hmac
import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import URLSafeSerializer
from sqlalchemy import select, update

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.mail import outbox
from portal.models import (
    Contact,
    Invitation,
    InvitationState,
    SystemRole,
    Tenant,
    User,
    UserKind,
    UserStatus,
)
from portal.models.base import utcnow
from portal.services import audit, auth, authority, languages, sessions, users
from portal.services.actor import Actor
from portal.services.links import digest, portal_url, read_token, token_id
from portal.services.tenants import system_role

#: One salt per purpose, so that a token of one kind is worthless as another.
INVITATION_SALT = "portal.invitation"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=INVITATION_SALT)


def propose_user_code(contact: Contact) -> str:
    """The client's code followed by the first free short number (8005551 -> 80055511)."""
    prefix = contact.client.code
    taken = set(
        db.session.scalars(select(User.code).where(User.code.startswith(prefix, autoescape=True)))
    )
    number = 1
    while f"{prefix}{number}" in taken:
        number += 1
    return f"{prefix}{number}"


def revoke_pending(user: User, *, but: Invitation | None = None) -> None:
    """Close the user's open links (all of them, or all but ``but``)."""
    statement = update(Invitation).where(
        Invitation.user_id == user.id, Invitation.state == InvitationState.PENDING
    )
    if but is not None:
        statement = statement.where(Invitation.id != but.id)
    db.session.execute(
        statement.values(state=InvitationState.REVOKED, closed_at=utcnow()).execution_options(
            synchronize_session="fetch"
        )
    )


def invite(user: User, *, actor: Actor) -> Invitation:
    """Revoke the user's open links, make a new one and queue its mail (staff granting
    or resending access; the mail names ``actor.user`` as who invites)."""
    revoke_pending(user)
    return send_invitation(user, actor.tenant, invited_by=actor.user)


def send_invitation(user: User, tenant: Tenant, *, invited_by: User | None) -> Invitation:
    """Make one more link and queue its mail. The user's other open links keep working
    until one of them is used: asking for a link anonymously must not revoke anyone's."""
    now = utcnow()
    nonce = secrets.token_urlsafe(24)
    invitation = Invitation(
        user_id=user.id,
        tenant_id=tenant.id,
        invited_by_id=invited_by.id if invited_by else None,
        nonce_hash=digest(nonce),
        expires_at=now + timedelta(days=tenant.invitation_days),
    )
    db.session.add(invitation)
    db.session.flush()
    token = _serializer().dumps({"i": invitation.id, "n": nonce})
    outbox.queue_from_templates(
        tenant,
        kind="invitation",
        to=user.email,
        subject=_l("Your access to %(tenant)s", tenant=tenant.name),
        locale=languages.locale_for(tenant, user=user),
        template="invitation",
        user=user,
        invited_by=invited_by,
        link=portal_url("auth.set_password", tenant=tenant.slug, token=token),
        expires_at=invitation.expires_at,
    )
    return invitation


def invitation_for(token: str) -> Invitation | None:
    """The invitation a link names, if the link is genuine (whatever its state)."""
    data = read_token(_serializer(), token) or {}
    invitation_id, nonce = token_id(data.get("i")), data.get("n")
    if invitation_id is None or not isinstance(nonce, str):
        return None
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or not hmac.compare_digest(invitation.nonce_hash, digest(nonce)):
        return None
    return invitation


def grant(
    contact: Contact,
    *,
    code: str,
    email: str,
    allowed_network: str | None,
    branch_id: int | None,
    actor: Actor,
) -> User:
    """Create the contact's client user (role Client) and mail it an invitation."""
    user = User(
        tenant_id=actor.tenant.id,
        code=code,
        email=email.lower(),
        name=contact.name,
        role=system_role(SystemRole.CLIENT),
        kind=UserKind.CLIENT,
        client_id=contact.client_id,
        contact_id=contact.id,
        allowed_network=allowed_network,
        branch_id=branch_id,
        status=UserStatus.INVITED,
    )
    db.session.add(user)
    db.session.flush()
    invite(user, actor=actor)
    audit.record(
        "access.granted",
        actor=actor,
        client_id=contact.client_id,
        contact=contact.name,
        changes={
            "user code": [None, code],
            "email": [None, user.email],
            "allowed network": [None, allowed_network],
        },
    )
    return user


def set_limits(
    user: User,
    *,
    allowed_network: str | None,
    branch_id: int | None,
    actor: Actor,
) -> None:
    """Change where and what a user may reach; both apply from its next request.
    Refused (``authority.Refused``) when the actor holds less than the user, or when
    it would limit the last active Administrator free of limits."""
    from portal.services.clients import apply_changes

    authority.check_user(actor.user, user)
    authority.check_keeps_an_administrator(
        user,
        role=user.role,
        status=user.status,
        allowed_network=allowed_network,
        branch_id=branch_id,
    )
    changes = apply_changes(user, {"allowed_network": allowed_network, "branch_id": branch_id})
    if changes:
        audit.record(
            "access.limits_changed",
            actor=actor,
            client_id=user.client_id,
            contact=user.name,
            changes=changes,
        )


def resend(user: User, *, actor: Actor) -> Invitation:
    """Staff send a fresh link (the older one stops working), from the access list or
    the contact's card; refused (``authority.Refused``, nothing written) when the actor
    holds less than the user."""
    authority.check_user(actor.user, user)
    invitation = invite(user, actor=actor)
    audit.record("access.resent", actor=actor, client_id=user.client_id, contact=user.name)
    return invitation


def accept(invitation: Invitation, password: str, *, actor: Actor) -> User:
    """Use the link: the user chooses a password and becomes active. Refused before
    anything changes, and nothing used up, from outside the user's network limit
    (``auth.NetworkRefused``) or for a weak password (``users.WeakPassword``)."""
    user = invitation.user
    auth.check_network(user, actor=actor)
    users.check_password_strength(password, user)
    user.set_password(password)
    user.status = UserStatus.ACTIVE
    sessions.end_all(user)
    invitation.state, invitation.closed_at = InvitationState.ACCEPTED, utcnow()
    revoke_pending(user, but=invitation)  # a link asked for since, or this one's elders
    audit.record(
        "access.accepted",
        actor=actor.signed_in_as(user),
        client_id=user.client_id,
        contact=user.name,
    )
    return user


def renew(invitation: Invitation, *, actor: Actor) -> None:
    """Someone opened an expired or revoked invitation link: send a fresh one to the
    address on file (never to one typed), while the user has chosen no password. The
    newer links stay pending: whoever holds an old link must not be able to revoke the
    user's current one."""
    user = invitation.user
    if user.status is not UserStatus.INVITED or invitation.current_state() not in (
        InvitationState.EXPIRED,
        InvitationState.REVOKED,
    ):
        return
    send_invitation(user, actor.tenant, invited_by=None)
    audit.record("access.link_renewed", actor=actor, client_id=user.client_id, contact=user.name)
