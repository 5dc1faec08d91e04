"""The business's own people: invited by email like client contacts, through the same
tracked invitation and outbox, then changed by administrators; all of it audited."""

from typing import Any

from portal.extensions import db
from portal.models import Role, Tenant, User
from portal.services import access, audit
from portal.services.clients import apply_changes
from portal.services.tenants import create_staff_user


def invite_staff(
    tenant: Tenant, email: str, values: dict[str, Any], *, actor: User, ip_address: str | None
) -> User:
    """Create the user, invited, and queue the mail with their link to set a password."""
    user = create_staff_user(
        email=email,
        name=values["name"],
        password=None,
        role=db.session.get(Role, values["role_id"]),
    )
    changes = {
        "email": [None, user.email],
        "role": [None, user.role.name],
        **apply_changes(user, values),
    }
    access.invite(user, tenant, invited_by=actor)
    audit.record(
        "user.invited", actor=actor, ip_address=ip_address, user_id=user.id, changes=changes
    )
    return user


def update_staff(
    user: User, values: dict[str, Any], *, actor: User, ip_address: str | None
) -> dict[str, list[str | None]]:
    changes = apply_changes(user, values)
    if changes:
        audit.record(
            "user.updated", actor=actor, ip_address=ip_address, user_id=user.id, changes=changes
        )
    return changes
