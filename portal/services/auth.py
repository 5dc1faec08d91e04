"""Signing in and out: who may have a session, from where, and the trace each attempt leaves.

The session cookie itself is the web layer's (``portal.web.sessions``): these functions
decide and record, the view then sets or clears the cookie.
"""

import secrets
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from portal.extensions import db
from portal.i18n import gettext as _
from portal.mail import notices
from portal.models import User, UserStatus
from portal.network import address_allowed
from portal.services import audit, chat, passkeys, sessions, two_factor
from portal.services.actor import Actor


class SignInRefused(Exception):
    """Nobody gets a session this time; the message says why, for the visitor."""


class NetworkRefused(SignInRefused):
    """The user's network limit refuses the address the request comes from."""

    def __init__(self, user: User, actor: Actor):
        super().__init__(
            _(
                "Access to this account is not allowed from your network address. "
                "It is limited to %(network)s and this request comes from %(address)s. "
                "Sign in from your usual network, or ask your contact at %(tenant)s "
                "to change the limit.",
                network=user.allowed_network,
                address=actor.address,
                tenant=actor.tenant.name,
            )
        )
        #: The limit and the address, for the page that ends a session refused mid-way.
        self.allowed_network = user.allowed_network
        self.address = actor.address


@cache
def dummy_hash() -> str:
    """Checked when no user matches, so that a miss takes as long as a wrong password."""
    return generate_password_hash(secrets.token_hex(16), method="scrypt")


def find_user(login: str) -> User | None:
    """By email when the login looks like one (any case), else by user code; with the
    client user's company, read in the same statement: what follows (a mail in the
    company's language) then costs no more statements for a known login than for an
    unknown one, whose answer must take as long."""
    login = login.strip()
    found = User.email == login.lower() if "@" in login else User.code == login
    return db.session.scalar(select(User).where(found).options(joinedload(User.client)))


def check_network(user: User, *, actor: Actor) -> None:
    """Refuse (``NetworkRefused``, the refusal recorded) a session for ``user`` from an
    address outside their network limit. Every way into a session asks before it uses
    anything up (a refused password, invitation or reset link still works from inside the
    network), and so does every request of a session."""
    if address_allowed(user.allowed_network, actor.address):
        return
    audit.record_refusal(
        "auth.network_refused",
        actor=actor.signed_in_as(user),
        client_id=user.client_id,
        allowed_network=user.allowed_network,
    )
    raise NetworkRefused(user, actor)


def sign_in(login: str, password: str, *, actor: Actor) -> User:
    """The active user whose ``login`` and ``password`` these are, allowed in from where
    the request comes from; else ``SignInRefused`` (recorded). An unknown login costs the
    same password check as a known one, so that the time taken does not tell them apart."""
    user = find_user(login)
    if user is None:
        check_password_hash(dummy_hash(), password)
        valid = False
    else:
        valid = user.check_password(password)
    if not valid or user.status is not UserStatus.ACTIVE:
        audit.record_refusal(
            "auth.login_failed",
            actor=actor,
            client_id=user.client_id if user else None,
            login=login[:254],
            user_id=user.id if user else None,
            reason="password" if not valid else user.status.value,
        )
        raise SignInRefused(_("Unknown user code or email, or wrong password."))
    check_network(user, actor=actor)
    if not user.has_second_factor:
        audit.record("auth.login", actor=actor.signed_in_as(user), client_id=user.client_id)
    return user


def second_factor(user: User, code: str, *, actor: Actor) -> str:
    """Finish the sign-in of ``user``, whose password was right, with the code of their
    authenticator app or one of their recovery codes; returns how they signed in
    (``password+totp`` or ``password+recovery``), else ``SignInRefused`` (recorded)."""
    check_network(user, actor=actor)
    method = None
    if user.status is UserStatus.ACTIVE and user.has_second_factor:
        if two_factor.check_code(user, code):
            method = "password+totp"
        elif two_factor.use_recovery_code(user, code, actor=actor):
            method = "password+recovery"
    if method is None:
        _refuse(user, "code", actor=actor)
        raise SignInRefused(_("This code is not right, or it was used already."))
    _signed_in(user, method, actor=actor)
    return method


def second_factor_passkey(
    user: User, response: str, challenge: bytes | None, party, *, actor: Actor
) -> str:
    """Finish the sign-in of ``user``, whose password was right, with one of their
    passkeys' answer to ``challenge``; else ``SignInRefused`` (recorded)."""
    check_network(user, actor=actor)
    try:
        if challenge is None or user.status is not UserStatus.ACTIVE:
            raise passkeys.PasskeyRefused(_("This passkey was not accepted."))
        passkeys.authenticate(response, challenge, party, user=user)
    except passkeys.PasskeyRefused as refusal:
        _refuse(user, "passkey", actor=actor)
        raise SignInRefused(_("This passkey was not accepted. Try again.")) from refusal
    _signed_in(user, "password+passkey", actor=actor)
    return "password+passkey"


def passkey_sign_in(response: str, challenge: bytes | None, party, *, actor: Actor) -> User:
    """The active user whose passkey signed ``challenge`` after checking its user on the
    device (a PIN, a fingerprint): a sign-in without password. Else ``SignInRefused``
    (recorded)."""
    try:
        if challenge is None:
            raise passkeys.PasskeyRefused(_("This passkey was not accepted."))
        user = passkeys.authenticate(response, challenge, party).user
    except passkeys.PasskeyRefused:
        audit.record_refusal("auth.login_failed", actor=actor, login="", reason="passkey")
        raise SignInRefused(_passkey_refused()) from None
    if user.status is not UserStatus.ACTIVE:
        _refuse(user, user.status.value, actor=actor)
        raise SignInRefused(_passkey_refused())
    check_network(user, actor=actor)
    _signed_in(user, "passkey", actor=actor)
    return user


def _passkey_refused() -> str:
    return _("This passkey was not accepted. Try again, or sign in with your password.")


def _refuse(user: User, reason: str, *, actor: Actor) -> None:
    audit.record_refusal(
        "auth.login_failed",
        actor=actor,
        client_id=user.client_id,
        login=user.email,
        user_id=user.id,
        reason=reason,
    )


def _signed_in(user: User, method: str, *, actor: Actor) -> None:
    audit.record(
        "auth.login", actor=actor.signed_in_as(user), client_id=user.client_id, method=method
    )


def sign_out(*, actor: Actor) -> None:
    """Record the sign-out; the session's change notices need not wait any longer."""
    audit.record("auth.logout", actor=actor, client_id=actor.user.client_id)
    notices.send_now(actor.session_id)
    chat.went_away(actor.user)


def reauthenticate(secret: str, *, actor: Actor) -> None:
    """The signed-in user gives their password, or a code of their app, again before a
    sensitive action; else ``SignInRefused`` (recorded)."""
    user = actor.user
    if not (user.check_password(secret) or two_factor.check_code(user, secret)):
        audit.record_refusal(
            "auth.reauth_failed", actor=actor, client_id=user.client_id, user_id=user.id
        )
        raise SignInRefused(_("This is not your password, nor a code of your app."))
    sessions.verified(actor.session_id)
