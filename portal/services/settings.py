"""A tenant's own settings and branches, changed by its administrators; every change
is audited with what it was and what it became."""

from datetime import date
from typing import Any

from sqlalchemy import exists, select

from portal.extensions import db
from portal.models import Branch, Client, LedgerEntry, Tenant, User
from portal.services import audit, brand, hours
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


def update_hours(
    tenant: Tenant, week: list[hours.Day | None], holidays: list[date], *, actor: Actor
) -> bool:
    """Set the desk's week and holidays; return whether anything changed (audited with
    the week in words before and after)."""
    before = hours.Schedule(tenant)
    new_week, new_holidays = hours.week_json(week), sorted(day.isoformat() for day in holidays)
    if new_week == hours.week_json(before.week) and new_holidays == sorted(
        day.isoformat() for day in before.holidays
    ):
        return False
    changes = {}
    if new_week != hours.week_json(before.week):
        changes["opening_hours"] = ["; ".join(before.lines()), None]
    if new_holidays != sorted(day.isoformat() for day in before.holidays):
        changes["holidays"] = [
            ", ".join(sorted(day.isoformat() for day in before.holidays)) or None,
            ", ".join(new_holidays) or None,
        ]
    tenant.opening_hours, tenant.holidays = new_week, new_holidays
    if "opening_hours" in changes:
        changes["opening_hours"][1] = "; ".join(hours.Schedule(tenant).lines())
    audit.record("tenant.hours_changed", actor=actor, changes=changes)
    return True
