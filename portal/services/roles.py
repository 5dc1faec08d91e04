"""The tenant's own roles: named sets of staff permissions. The two system roles
(Administrator, Client) take their permissions from code and are never edited; a
role that grants a permission the actor lacks is not changed by them either."""

from sqlalchemy import exists, select

from portal.extensions import db
from portal.models import Role, RolePermission, User
from portal.services import audit, authority
from portal.services.actor import Actor


def _describe(permissions) -> str | None:
    return ", ".join(sorted(permissions)) or None


def _grant(role: Role, permissions: set[str]) -> None:
    role.grants = [grant for grant in role.grants if grant.permission in permissions] + [
        RolePermission(tenant_id=role.tenant_id, permission=permission)
        for permission in sorted(permissions - role.permissions)
    ]


def create_role(name: str, permissions: set[str], *, actor: Actor) -> Role:
    """Refused (``authority.Refused``, nothing written) when it would grant a permission
    the actor lacks."""
    authority.check_grant(actor.user, permissions)
    role = Role(name=name, tenant_id=actor.tenant.id)
    _grant(role, permissions)
    db.session.add(role)
    db.session.flush()
    audit.record(
        "role.created",
        actor=actor,
        changes={"name": [None, name], "permissions": [None, _describe(permissions)]},
    )
    return role


def update_role(role: Role, name: str, permissions: set[str], *, actor: Actor) -> bool:
    """Rename and regrant ``role``; refused (``authority.Refused``, nothing changed)
    when the role or the permissions given grant more than the actor holds."""
    authority.check_role(actor.user, role)
    authority.check_grant(actor.user, permissions)
    changes = {}
    if role.name != name:
        changes["name"] = [role.name, name]
        role.name = name
    if role.permissions != permissions:
        changes["permissions"] = [_describe(role.permissions), _describe(permissions)]
        _grant(role, permissions)
    if changes:
        audit.record("role.updated", actor=actor, role=role.name, changes=changes)
    return bool(changes)


def in_use(role: Role) -> bool:
    return db.session.scalar(select(exists().where(User.role_id == role.id)))


def delete_role(role: Role, *, actor: Actor) -> bool:
    """A role someone holds (or a system role) is never deleted: False. Refused
    (``authority.Refused``) when the role grants more than the actor holds."""
    authority.check_role(actor.user, role)
    if not role.editable or in_use(role):
        return False
    db.session.delete(role)
    audit.record("role.deleted", actor=actor, role=role.name)
    return True


def require_two_factor(required: dict[Role, bool], *, actor: Actor) -> int:
    """Set which roles' users must sign in with a second factor; refused
    (``authority.Refused``, nothing changed) for a role that grants more than the actor
    holds. Returns how many roles changed."""
    changed = [role for role, wanted in required.items() if role.two_factor_required != wanted]
    for role in changed:
        authority.check_role(actor.user, role)
    for role in changed:
        role.two_factor_required = required[role]
        audit.record(
            "role.two_factor_changed",
            actor=actor,
            role=role.name,
            changes={"two_factor_required": [not required[role], required[role]]},
        )
    return len(changed)
