"""A user who cannot sign in asks for a new link: forgot-password's reset link (and
using it), or a fresh invitation in place of an expired one."""

import hmac

from flask import current_app
from itsdangerous import URLSafeTimedSerializer

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.mail import outbox
from portal.models import (
    OutboxMail,
    Tenant,
    User,
    UserStatus,
)
from portal.services import audit, auth, languages, users
from portal.services.actor import Actor
from portal.services.invitations import revoke_pending
from portal.services.links import digest, portal_url, read_token, token_id

#: Reset links: their own salt, one hour, dead once the password changes.
RESET_SALT = "portal.password-reset"
RESET_MAX_AGE = 3600


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def _password_fingerprint(user: User) -> str:
    return digest(user.password_hash or "")[:16]


def send_reset(user: User, tenant: Tenant) -> OutboxMail:
    """Queue a mail with a link to choose a new password (never the password itself)."""
    token = _reset_serializer().dumps({"u": user.id, "f": _password_fingerprint(user)})
    return outbox.queue_from_templates(
        tenant,
        kind="password_reset",
        to=user.email,
        subject=_l("Choose a new password for %(tenant)s", tenant=tenant.name),
        locale=languages.locale_for(tenant, user=user),
        template="reset",
        user=user,
        link=portal_url("auth.reset_password", tenant=tenant.slug, token=token),
        minutes=RESET_MAX_AGE // 60,
    )


def send_password_link(login: str, *, actor: Actor) -> None:
    """Forgot-password for whatever ``login`` names: a reset link for an active or
    invited user (whose invitation links keep working: a stranger must not revoke
    them), no mail otherwise. Every case builds the same mail and records one audit
    event, so that the time the answer takes does not tell which logins exist."""
    login = login.strip()
    user = auth.find_user(login)
    if user is not None and user.status in (UserStatus.ACTIVE, UserStatus.INVITED):
        send_reset(user, actor.tenant)
    else:
        _build_reset_for_nobody(actor.tenant, login)
    audit.record(
        "auth.reset_requested",
        actor=actor,
        client_id=user.client_id if user else None,
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


def use_reset_link(user: User, password: str, *, actor: Actor) -> None:
    """Set the password a reset link was mailed for. For an invited user it is their
    first: their invitation links stop working, as a used invitation's siblings do.
    Refused before anything changes, the link kept, from outside the user's network
    limit (``auth.NetworkRefused``) or for a weak password (``users.WeakPassword``)."""
    auth.check_network(user, actor=actor)
    first_password = user.status is UserStatus.INVITED
    users.change_password(user, password, actor=actor.signed_in_as(user))
    if first_password:
        revoke_pending(user)
