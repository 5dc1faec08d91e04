"""A tenant's own settings and branches, changed by its administrators; every change
is audited with what it was and what it became."""

from typing import Any

from sqlalchemy import exists, select

from portal.extensions import db
from portal.models import Branch, Client, LedgerEntry, Tenant, User
from portal.services import audit, brand
from portal.services.actor import Actor
from portal.services.clients import apply_changes


def update_settings(
    tenant: Tenant,
    values: dict[str, Any],
    *,
    brand_values: dict[str, Any] | None = None,
    actor: Actor,
) -> dict[str, list[str | None]]:
    """Save the settings and the brand (``brand.change_brand``'s logo, removal and
    accent colour) as one change; a refused colour (``brand.BrandRefused``) writes
    nothing."""
    changes = brand.change_brand(tenant, **brand_values) if brand_values else {}
    changes = apply_changes(tenant, values) | changes
    if changes:
        audit.record("tenant.settings_changed", actor=actor, changes=changes)
    return changes


def create_branch(name: str, *, actor: Actor) -> Branch:
    branch = Branch(name=name)
    db.session.add(branch)
    db.session.flush()
    audit.record("branch.created", actor=actor, changes={"name": [None, name]})
    return branch


def rename_branch(branch: Branch, name: str, *, actor: Actor) -> bool:
    changes = apply_changes(branch, {"name": name})
    if changes:
        audit.record("branch.renamed", actor=actor, changes=changes)
    return bool(changes)


def set_branch_active(branch: Branch, active: bool, *, actor: Actor) -> bool:
    """An inactive branch stays on the records that name it but is offered no more."""
    if branch.active == active:
        return False
    branch.active = active
    audit.record(
        "branch.activated" if active else "branch.deactivated", actor=actor, branch=branch.name
    )
    return True


def in_use(branch: Branch) -> bool:
    """Whether a user, a client or a ledger entry names the branch."""
    return db.session.scalar(
        select(
            exists().where(User.branch_id == branch.id)
            | exists().where(Client.branch_id == branch.id)
            | exists().where(LedgerEntry.branch_id == branch.id)
        )
    )


def delete_branch(branch: Branch, *, actor: Actor) -> bool:
    """Only a branch nothing refers to is deleted; the others are deactivated instead."""
    if in_use(branch):
        return False
    db.session.delete(branch)
    audit.record("branch.deleted", actor=actor, branch=branch.name)
    return True
