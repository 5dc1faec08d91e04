"""Portal access for a client's contact: the user, its invitation, the mailed link."""

import hashlib
import hmac
import ipaddress
import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import select, update

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import (
    Contact,
    Invitation,
    InvitationState,
    OutboxMail,
    SystemRole,
    Tenant,
    User,
    UserKind,
    UserStatus,
)
from portal.models.base import utcnow
from portal.services import audit, authority, outbox, search, sessions, users
from portal.services.tenants import system_role

#: One salt per purpose, so that a token of one kind is worthless as another.
INVITATION_SALT = "portal.invitation"


#: The IPv6 addresses that stand for IPv4 ones (RFC 4291); clients from there are
#: compared as the IPv4 address they stand for.
IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def _is_ipv4_address(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).version == 4
    except ValueError:
        return False


def _unmapped(network: ipaddress.IPv4Network | ipaddress.IPv6Network):
    """An IPv4-mapped network as the IPv4 network it stands for; others unchanged."""
    if network.version == 6 and network.subnet_of(IPV4_MAPPED):
        first = int(network.network_address) - int(IPV4_MAPPED.network_address)
        return ipaddress.IPv4Network((first, network.prefixlen - 96))
    return network


def normalise_network(value: str) -> str:
    """One IPv4/IPv6 address or CIDR network, as the stdlib ``ipaddress`` writes it (an
    IPv4-mapped one as the IPv4 network it stands for: ``::ffff:192.0.2.1`` is
    ``192.0.2.1/32``). ValueError says what is wrong with anything else: a limit that
    lets every address in, or none; a scoped address; a mask that is not a prefix;
    host bits set (naming the network it would be); a network that straddles the
    IPv4-mapped range."""
    text = value.strip()
    address, _slash, mask = text.partition("/")
    if "%" in address:
        raise ValueError(
            _l(
                "Remove “%(zone)s”: an address with a zone only means something on one "
                "computer's network interface, so it cannot limit access.",
                zone=address[address.index("%") :],
            )
        )
    try:
        loose = ipaddress.ip_network(text, strict=False)
    except ValueError:
        if _is_ipv4_address(address) and _is_ipv4_address(mask):
            raise ValueError(
                _l(
                    "%(mask)s is not a network mask: its one bits must all come first, "
                    "as in 255.255.255.0. Or give the prefix length, as in /24.",
                    mask=mask,
                )
            ) from None
        raise ValueError(
            _l(
                "Enter one IPv4 or IPv6 address (such as 203.0.113.7) or network "
                "(such as 203.0.113.0/24)."
            )
        ) from None
    network = _unmapped(loose)
    if network.prefixlen == 0:
        raise ValueError(
            _l(
                "%(network)s takes in every address: it is no limit. Leave the field empty "
                "to allow any address.",
                network=str(network),
            )
        )
    if loose.version == 6 and loose.overlaps(IPV4_MAPPED) and not loose.subnet_of(IPV4_MAPPED):
        raise ValueError(
            _l(
                "%(value)s mixes IPv6 addresses with IPv4-mapped ones (::ffff:0:0/96): an "
                "IPv4-mapped network needs a prefix of /96 or longer, such as "
                "::ffff:192.0.2.0/120, or write it in IPv4, such as 192.0.2.0/24.",
                value=text,
            )
        )
    if network.is_multicast or network.is_unspecified:
        raise ValueError(
            _l(
                "Nobody connects from %(network)s: enter the address or network your user "
                "connects from.",
                network=str(network),
            )
        )
    try:
        ipaddress.ip_network(text, strict=True)
    except ValueError:
        raise ValueError(
            _l(
                "%(value)s is not a network: its address has bits set beyond the prefix. "
                "Did you mean the network %(network)s? Enter it, or enter %(address)s "
                "alone to allow only that address.",
                value=text,
                network=str(network),
                address=str(_unmapped(ipaddress.ip_network(address)).network_address),
            )
        ) from None
    return str(network)


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


def portal_url(endpoint: str, **values) -> str:
    """An absolute link for a mail: PORTAL_BASE_URL, never the request's Host header."""
    path = current_app.url_map.bind("portal.invalid").build(endpoint, values)
    return current_app.config["PORTAL_BASE_URL"] + path


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=INVITATION_SALT)


def _digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def _revoke_pending(user: User, *, but: Invitation | None = None) -> None:
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


def invite(user: User, tenant: Tenant, *, invited_by: User | None) -> Invitation:
    """Revoke the user's open links, make a new one and queue its mail (staff granting
    or resending access)."""
    _revoke_pending(user)
    return send_invitation(user, tenant, invited_by=invited_by)


def send_invitation(user: User, tenant: Tenant, *, invited_by: User | None) -> Invitation:
    """Make one more link and queue its mail. The user's other open links keep working
    until one of them is used: asking for a link anonymously must not revoke anyone's."""
    now = utcnow()
    nonce = secrets.token_urlsafe(24)
    invitation = Invitation(
        user_id=user.id,
        tenant_id=tenant.id,
        invited_by_id=invited_by.id if invited_by else None,
        nonce_hash=_digest(nonce),
        expires_at=now + timedelta(days=tenant.invitation_days),
    )
    db.session.add(invitation)
    db.session.flush()
    token = _serializer().dumps({"i": invitation.id, "n": nonce})
    outbox.queue_from_templates(
        tenant,
        kind="invitation",
        to=user.email,
        subject=str(_l("Your access to %(tenant)s", tenant=tenant.name)),
        template="invitation",
        user=user,
        invited_by=invited_by,
        link=portal_url("auth.set_password", tenant=tenant.slug, token=token),
        expires_at=invitation.expires_at,
    )
    return invitation


def read_token(serializer, token: str, **loads) -> dict | None:
    """A token's payload if its signature (and, when asked, its age) holds, else None."""
    try:
        data = serializer.loads(token, **loads)
    except BadData:
        return None
    return data if isinstance(data, dict) else None


def token_id(value) -> int | None:
    """A database id from a token payload, or None for anything that cannot be one."""
    return value if isinstance(value, int) and 0 < value < 2**31 else None


def invitation_for(token: str) -> Invitation | None:
    """The invitation a link names, if the link is genuine (whatever its state)."""
    data = read_token(_serializer(), token) or {}
    invitation_id, nonce = token_id(data.get("i")), data.get("n")
    if invitation_id is None or not isinstance(nonce, str):
        return None
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or not hmac.compare_digest(invitation.nonce_hash, _digest(nonce)):
        return None
    return invitation


def grant(
    contact: Contact,
    tenant: Tenant,
    *,
    code: str,
    email: str,
    allowed_network: str | None,
    branch_id: int | None,
    actor: User,
    ip_address: str | None,
) -> User:
    """Create the contact's client user (role Client) and mail it an invitation."""
    user = User(
        tenant_id=tenant.id,
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
    invite(user, tenant, invited_by=actor)
    audit.record(
        "access.granted",
        actor=actor,
        client_id=contact.client_id,
        ip_address=ip_address,
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
    actor: User,
    ip_address: str | None,
) -> None:
    """Change where and what a user may reach; both apply from its next request.
    Refused (``authority.Refused``) when the actor holds less than the user, or when
    it would limit the last active Administrator free of limits."""
    from portal.services.clients import apply_changes

    authority.check_user(actor, user)
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
            ip_address=ip_address,
            contact=user.name,
            changes=changes,
        )


def resend(user: User, tenant: Tenant, *, actor: User, ip_address: str | None) -> Invitation:
    """Staff send a fresh link (the older one stops working); refused
    (``authority.Refused``) when the actor holds less than the user."""
    authority.check_user(actor, user)
    invitation = invite(user, tenant, invited_by=actor)
    audit.record(
        "access.resent",
        actor=actor,
        client_id=user.client_id,
        ip_address=ip_address,
        contact=user.name,
    )
    return invitation


def accept(invitation: Invitation, password: str, *, ip_address: str | None) -> User:
    """Use the link: the user chooses a password and becomes active."""
    user = invitation.user
    user.set_password(password)
    user.status = UserStatus.ACTIVE
    sessions.end_all(user)
    invitation.state, invitation.closed_at = InvitationState.ACCEPTED, utcnow()
    _revoke_pending(user, but=invitation)  # a link asked for since, or this one's elders
    audit.record(
        "access.accepted",
        actor=user,
        client_id=user.client_id,
        ip_address=ip_address,
        contact=user.name,
    )
    return user


#: Reset links: their own salt, one hour, dead once the password changes.
RESET_SALT = "portal.password-reset"
RESET_MAX_AGE = 3600


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def _password_fingerprint(user: User) -> str:
    return _digest(user.password_hash or "")[:16]


def send_reset(user: User, tenant: Tenant) -> OutboxMail:
    """Queue a mail with a link to choose a new password (never the password itself)."""
    token = _reset_serializer().dumps({"u": user.id, "f": _password_fingerprint(user)})
    return outbox.queue_from_templates(
        tenant,
        kind="password_reset",
        to=user.email,
        subject=str(_l("Choose a new password for %(tenant)s", tenant=tenant.name)),
        template="reset",
        user=user,
        link=portal_url("auth.reset_password", tenant=tenant.slug, token=token),
        minutes=RESET_MAX_AGE // 60,
    )


def send_password_link(
    tenant: Tenant, user: User | None, *, login: str, ip_address: str | None
) -> None:
    """Forgot-password for whatever ``login`` named (``user``, or None): a reset link for
    an active or invited user (whose invitation links keep working: a stranger must not
    revoke them), no mail otherwise. Every case builds the same mail and records one
    audit event, so that the time the answer takes does not tell which logins exist."""
    if user is not None and user.status in (UserStatus.ACTIVE, UserStatus.INVITED):
        send_reset(user, tenant)
    else:
        _build_reset_for_nobody(tenant, login)
    audit.record(
        "auth.reset_requested",
        client_id=user.client_id if user else None,
        ip_address=ip_address,
        login=login[:254],
        user_id=user.id if user else None,
        status=user.status.value if user else None,
    )


def _build_reset_for_nobody(tenant: Tenant, login: str) -> None:
    """``send_reset`` for a stand-in user, its mail dropped before it is written: an
    unknown or disabled login costs what a real one does."""
    stand_in = User(id=0, name=login, email=login, code=login)  # never added to the session
    db.session.expunge(send_reset(stand_in, tenant))


def user_for_reset(token: str) -> User | None:
    """The user a reset link names, while it is fresh and the password unchanged."""
    data = read_token(_reset_serializer(), token, max_age=RESET_MAX_AGE) or {}
    user_id, fingerprint = token_id(data.get("u")), data.get("f")
    if user_id is None or not isinstance(fingerprint, str):
        return None
    user = db.session.get(User, user_id)
    if user is None or user.status not in (UserStatus.ACTIVE, UserStatus.INVITED):
        return None
    if not hmac.compare_digest(_password_fingerprint(user), fingerprint):
        return None
    return user


def use_reset_link(user: User, password: str, *, ip_address: str | None) -> None:
    """Set the password a reset link was mailed for. For an invited user it is their
    first: their invitation links stop working, as a used invitation's siblings do."""
    if user.status is UserStatus.INVITED:
        _revoke_pending(user)
    users.change_password(user, password, actor=user, ip_address=ip_address)


#: Email-change links: their own salt, one day, dead once the address has changed.
EMAIL_SALT = "portal.email-change"
EMAIL_MAX_AGE = 24 * 3600


def _email_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=EMAIL_SALT)


def request_email_change(user: User, tenant: Tenant, new_email: str) -> None:
    """Mail a confirmation link to the new address; nothing changes until it is opened."""
    token = _email_serializer().dumps({"u": user.id, "e": new_email, "o": _digest(user.email)})
    outbox.queue_from_templates(
        tenant,
        kind="email_change",
        to=new_email,
        subject=str(_l("Confirm your new address for %(tenant)s", tenant=tenant.name)),
        template="email_confirm",
        user=user,
        new_email=new_email,
        link=portal_url("auth.confirm_email", tenant=tenant.slug, token=token),
    )


def email_change_for(token: str) -> tuple[User, str] | None:
    """The user and new address a confirmation link carries, while it is fresh and the
    address it replaces is still the user's."""
    data = read_token(_email_serializer(), token, max_age=EMAIL_MAX_AGE) or {}
    user_id, new_email, old_digest = token_id(data.get("u")), data.get("e"), data.get("o")
    if user_id is None or not isinstance(new_email, str) or not isinstance(old_digest, str):
        return None
    user = db.session.get(User, user_id)
    if user is None or not hmac.compare_digest(_digest(user.email), old_digest):
        return None
    return user, new_email


def change_email(user: User, tenant: Tenant, new_email: str, *, ip_address: str | None) -> None:
    """Switch the sign-in address (and the contact card's), and tell the old address."""
    old_email = user.email
    user.email = new_email
    if user.contact is not None:
        user.contact.email = new_email
        search.reindex(user.contact.client)  # its client is found by its contacts' emails
    outbox.queue_from_templates(
        tenant,
        kind="email_changed_notice",
        to=old_email,
        subject=str(_l("Your address for %(tenant)s has changed", tenant=tenant.name)),
        template="email_changed",
        user=user,
        new_email=new_email,
    )
    audit.record(
        "user.email_changed",
        actor=user,
        client_id=user.client_id,
        ip_address=ip_address,
        changes={"email": [old_email, new_email]},
    )
