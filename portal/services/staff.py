"""The business's own people: invited by email like client contacts, through the same
tracked invitation and outbox, then changed by administrators; all of it audited."""

from typing import Any

from portal.extensions import db
from portal.models import Role, User
from portal.services import audit, authority, invitations
from portal.services.actor import Actor
from portal.services.clients import apply_changes
from portal.services.tenants import create_staff_user


def invite_staff(email: str, values: dict[str, Any], *, actor: Actor) -> User:
    """Create the user, invited, and queue the mail with their link to set a password;
    refused (``authority.Refused``, nothing written) when the role grants more than the
    actor holds."""
    role = db.session.get(Role, values["role_id"])
    authority.check_role(actor.user, role)
    user = create_staff_user(email=email, name=values["name"], password=None, role=role)
    changes = {
        "email": [None, user.email],
        "role": [None, user.role.name],
        **apply_changes(user, values),
    }
    invitations.invite(user, actor=actor)
    audit.record("user.invited", actor=actor, user_id=user.id, changes=changes)
    return user


def update_staff(
    user: User, values: dict[str, Any], *, actor: Actor
) -> dict[str, list[str | None]]:
    """Change a staff user; refused (``authority.Refused``, nothing changed) when the
    actor holds less than the user or the role given, or when it would leave the
    tenant without an active Administrator free of limits."""
    authority.check_user(actor.user, user)
    role = db.session.get(Role, values["role_id"]) if "role_id" in values else user.role
    if role.id != user.role_id:
        authority.check_role(actor.user, role)
    authority.check_keeps_an_administrator(
        user,
        role=role,
        status=user.status,
        allowed_network=values.get("allowed_network", user.allowed_network),
        branch_id=values.get("branch_id", user.branch_id),
    )
    changes = apply_changes(user, values)
    if changes:
        audit.record("user.updated", actor=actor, user_id=user.id, changes=changes)
    return changes
