"""Changing users in ways that affect their sessions."""

from portal.models import User, UserStatus
from portal.services import audit, sessions

MIN_PASSWORD_LENGTH = 10


def change_password(user: User, new_password: str, *, actor: User, ip_address: str | None) -> None:
    """Set a new password and end every session of the user."""
    user.set_password(new_password)
    if user.status is UserStatus.INVITED:
        user.status = UserStatus.ACTIVE
    sessions.end_all(user)
    audit.record(
        "user.password_changed", actor=actor, client_id=user.client_id, ip_address=ip_address,
        user_id=user.id,
    )


def set_disabled(user: User, disabled: bool, *, actor: User, ip_address: str | None) -> None:
    """Disable (ending every session) or re-enable a user."""
    if disabled:
        user.status = UserStatus.DISABLED
        sessions.end_all(user)
    else:
        user.status = UserStatus.ACTIVE if user.password_hash else UserStatus.INVITED
    audit.record(
        "user.disabled" if disabled else "user.enabled",
        actor=actor, client_id=user.client_id, ip_address=ip_address, user_id=user.id,
    )
