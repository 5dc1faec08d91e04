"""Who may act on whom. Nobody changes, gives or deletes a role, nor acts on a user,
that holds a staff permission they lack: a lesser administrator can neither lock out
nor weaken a stronger one. And the tenant always keeps one active Administrator
limited to no network and no branch, who can undo what any other user did."""

from collections.abc import Iterable

from sqlalchemy import select

from portal.extensions import db
from portal.i18n import gettext as _
from portal.models import Role, SystemRole, User, UserStatus
from portal.permissions import STAFF_PERMISSIONS


class Refused(Exception):
    """The actor may not make this change; the message says why, for the user, and
    ``field`` names the form field it is about, when there is one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def lacking(actor: User, permissions: Iterable[str]) -> list[str]:
    """The staff permissions among ``permissions`` that ``actor`` does not hold, sorted.
    Client permissions do not count: they reach only the client's own data, which
    staff manage anyway."""
    return sorted((set(permissions) & STAFF_PERMISSIONS.keys()) - actor.role.permissions)


def check_grant(actor: User, permissions: Iterable[str]) -> None:
    """Nobody hands out a permission they do not hold."""
    missing = lacking(actor, permissions)
    if missing:
        raise Refused(
            _(
                "You can only grant permissions you hold yourself: %(names)s.",
                names=", ".join(missing),
            ),
            field="permissions",
        )


def check_role(actor: User, role: Role) -> None:
    """A role that grants more than ``actor`` holds is neither changed, given nor
    deleted by them."""
    missing = lacking(actor, role.permissions)
    if missing:
        raise Refused(
            _(
                "The role %(name)s grants permissions you do not hold (%(names)s): only a "
                "user who holds them all may change, give or delete it.",
                name=role.name,
                names=", ".join(missing),
            ),
            field="role_id",
        )


def role_refusal(actor: User, role: Role) -> str | None:
    """Why ``actor`` may not change, give or delete ``role`` (what the role pages say
    instead of offering a form), or None."""
    try:
        check_role(actor, role)
    except Refused as refusal:
        return str(refusal)
    return None


def check_user(actor: User, user: User) -> None:
    """Nobody acts on a user (edit, limits, disable, enable, resend) who holds a
    permission they lack."""
    missing = lacking(actor, user.role.permissions)
    if missing:
        raise Refused(
            _(
                "%(name)s holds permissions you do not (%(names)s): only a user who holds "
                "them all may change their access.",
                name=user.name,
                names=", ".join(missing),
            )
        )


def _unrestricted(role: Role, status: UserStatus, allowed_network, branch_id) -> bool:
    return (
        role.system is SystemRole.ADMINISTRATOR
        and status is UserStatus.ACTIVE
        and not allowed_network
        and branch_id is None
    )


def unrestricted_administrators() -> list[int]:
    """Ids of the active Administrators limited to no network and no branch; their rows
    stay locked until the commit (PostgreSQL), so that two administrators cannot each
    limit, demote or disable the other at the same time."""
    return db.session.scalars(
        select(User.id)
        .join(User.role)
        .where(
            Role.system == SystemRole.ADMINISTRATOR,
            User.status == UserStatus.ACTIVE,
            User.allowed_network.is_(None),
            User.branch_id.is_(None),
        )
        .with_for_update(of=User)
    ).all()


def check_keeps_an_administrator(
    user: User,
    *,
    role: Role,
    status: UserStatus,
    allowed_network: str | None,
    branch_id: int | None,
) -> None:
    """Refuse to give ``user`` this role, status and limits when they are the last
    active Administrator without limits and would stop being one. Call it before
    changing ``user``."""
    if not _unrestricted(user.role, user.status, user.allowed_network, user.branch_id):
        return
    if _unrestricted(role, status, allowed_network, branch_id):
        return
    if any(other != user.id for other in unrestricted_administrators()):
        return
    if role.system is not SystemRole.ADMINISTRATOR:
        field = "role_id"
    elif status is not UserStatus.ACTIVE:
        field = None
    else:
        field = "allowed_network" if allowed_network else "branch_id"
    raise Refused(
        _(
            "%(name)s is the last active administrator without a network or branch limit: "
            "first give another user the Administrator role, with no limits.",
            name=user.name,
        ),
        field=field,
    )
