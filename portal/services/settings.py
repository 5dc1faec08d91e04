"""A tenant's own settings and branches, changed by its administrators; every change
is audited with what it was and what it became."""

from typing import Any

from sqlalchemy import exists, select

from portal.extensions import db
from portal.models import Branch, Client, LedgerEntry, Tenant, User
from portal.services import audit
from portal.services.clients import apply_changes


def update_settings(
    tenant: Tenant, values: dict[str, Any], *, actor: User, ip_address: str | None
) -> dict[str, list[str | None]]:
    changes = apply_changes(tenant, values)
    if changes:
        audit.record("tenant.settings_changed", actor=actor, ip_address=ip_address, changes=changes)
    return changes


def create_branch(name: str, *, actor: User, ip_address: str | None) -> Branch:
    branch = Branch(name=name)
    db.session.add(branch)
    db.session.flush()
    audit.record(
        "branch.created", actor=actor, ip_address=ip_address, changes={"name": [None, name]}
    )
    return branch


def rename_branch(branch: Branch, name: str, *, actor: User, ip_address: str | None) -> bool:
    changes = apply_changes(branch, {"name": name})
    if changes:
        audit.record("branch.renamed", actor=actor, ip_address=ip_address, changes=changes)
    return bool(changes)


def set_branch_active(branch: Branch, active: bool, *, actor: User, ip_address: str | None) -> bool:
    """An inactive branch stays on the records that name it but is offered no more."""
    if branch.active == active:
        return False
    branch.active = active
    audit.record(
        "branch.activated" if active else "branch.deactivated",
        actor=actor,
        ip_address=ip_address,
        branch=branch.name,
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


def delete_branch(branch: Branch, *, actor: User, ip_address: str | None) -> bool:
    """Only a branch nothing refers to is deleted; the others are deactivated instead."""
    if in_use(branch):
        return False
    db.session.delete(branch)
    audit.record("branch.deleted", actor=actor, ip_address=ip_address, branch=branch.name)
    return True
