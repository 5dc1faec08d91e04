"""Changing users in ways that affect their sessions, and password rules."""

from functools import cache
from pathlib import Path

from portal.i18n import gettext as _
from portal.models import User, UserStatus
from portal.services import audit, authority, sessions
from portal.services.actor import Actor

MIN_PASSWORD_LENGTH = 10
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line and line[0] != "#")


class WeakPassword(Exception):
    """A password not good enough for its user; the message says why."""


def check_password_strength(password: str, user: User) -> None:
    """Refuse (``WeakPassword``) a password not good enough for ``user``."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(_("Use at least %(min)d characters.", min=MIN_PASSWORD_LENGTH))
    folded = password.casefold()
    if folded in {user.code.casefold(), user.email.casefold()}:
        raise WeakPassword(_("Do not use your user code or your email as password."))
    if folded in common_passwords():
        raise WeakPassword(_("This password is among the most common ones; choose another."))


def change_password(user: User, new_password: str, *, actor: Actor) -> None:
    """Set a new password (refused with ``WeakPassword`` before anything changes) and
    end every session of the user."""
    check_password_strength(new_password, user)
    user.set_password(new_password)
    if user.status is UserStatus.INVITED:
        user.status = UserStatus.ACTIVE
    sessions.end_all(user)
    audit.record("user.password_changed", actor=actor, client_id=user.client_id, user_id=user.id)


def set_disabled(user: User, disabled: bool, *, actor: Actor) -> None:
    """Disable (ending every session) or re-enable a user; refused
    (``authority.Refused``) when the actor holds less than the user, disables
    themselves, or would leave no active Administrator free of limits."""
    authority.check_user(actor.user, user)
    if disabled:
        if user.id == actor.user.id:
            raise authority.Refused(_("You cannot disable your own access."))
        authority.check_keeps_an_administrator(
            user,
            role=user.role,
            status=UserStatus.DISABLED,
            allowed_network=user.allowed_network,
            branch_id=user.branch_id,
        )
        user.status = UserStatus.DISABLED
        sessions.end_all(user)
    else:
        user.status = UserStatus.ACTIVE if user.password_hash else UserStatus.INVITED
    audit.record(
        "user.disabled" if disabled else "user.enabled",
        actor=actor,
        client_id=user.client_id,
        user_id=user.id,
    )


def set_locale(user: User, locale: str | None) -> None:
    """The language ``user`` reads the portal and their mails in; None follows their
    company's, else the tenant's (a display preference: not audited)."""
    user.locale = locale
