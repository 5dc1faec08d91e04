"""The tenant's own roles: named sets of staff permissions. The two system roles
(Administrator, Client) take their permissions from code and are never edited; a
role that grants a permission the actor lacks is not changed by them either."""

from sqlalchemy import exists, select

from portal.extensions import db
from portal.models import Role, RolePermission, User
from portal.services import audit, authority


def _describe(permissions) -> str | None:
    return ", ".join(sorted(permissions)) or None


def _grant(role: Role, permissions: set[str]) -> None:
    role.grants = [grant for grant in role.grants if grant.permission in permissions] + [
        RolePermission(tenant_id=role.tenant_id, permission=permission)
        for permission in sorted(permissions - role.permissions)
    ]


def create_role(name: str, permissions: set[str], *, actor: User, ip_address: str | None) -> Role:
    authority.check_grant(actor, permissions)
    role = Role(name=name, tenant_id=actor.tenant_id)
    _grant(role, permissions)
    db.session.add(role)
    db.session.flush()
    audit.record(
        "role.created",
        actor=actor,
        ip_address=ip_address,
        changes={"name": [None, name], "permissions": [None, _describe(permissions)]},
    )
    return role


def update_role(
    role: Role, name: str, permissions: set[str], *, actor: User, ip_address: str | None
) -> bool:
    authority.check_role(actor, role)
    authority.check_grant(actor, permissions)
    changes = {}
    if role.name != name:
        changes["name"] = [role.name, name]
        role.name = name
    if role.permissions != permissions:
        changes["permissions"] = [_describe(role.permissions), _describe(permissions)]
        _grant(role, permissions)
    if changes:
        audit.record(
            "role.updated", actor=actor, ip_address=ip_address, role=role.name, changes=changes
        )
    return bool(changes)


def in_use(role: Role) -> bool:
    return db.session.scalar(select(exists().where(User.role_id == role.id)))


def delete_role(role: Role, *, actor: User, ip_address: str | None) -> bool:
    """A role someone holds is never deleted: give them another role first."""
    authority.check_role(actor, role)
    if not role.editable or in_use(role):
        return False
    db.session.delete(role)
    audit.record("role.deleted", actor=actor, ip_address=ip_address, role=role.name)
    return True
