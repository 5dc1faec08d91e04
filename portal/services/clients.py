"""Creating, changing and archiving clients and contacts; every change is logged
with its old and new values in the same transaction. What a client's own people
change on their account pages is also told to the staff assigned to the client."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import select

from portal.extensions import db
from portal.mail import notices
from portal.models import (
    Branch,
    Client,
    ClientAssignment,
    ClientStatus,
    Contact,
    Role,
    Tenant,
    User,
)
from portal.models.base import utcnow
from portal.services import audit, search, unique
from portal.services.actor import Actor
from portal.services.erasure import check_not_erased

#: Fields whose change must refresh the search index.
SEARCHED_FIELDS = {"name", "code", "email", "phone", "mobile", "fax"}
#: Fields of a contact that its client is also found by.
CONTACT_SEARCHED_FIELDS = {"email", "phone", "mobile"}


def display(value: Any) -> str | None:
    """A value as the change log stores it: plain text, enums by value."""
    if value is None or value == "":
        return None
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def describe_client(client_id: int | None) -> str | None:
    client = db.session.get(Client, client_id) if client_id else None
    return f"{client.code} {client.name}" if client else None


def describe_branch(branch_id: int | None) -> str | None:
    branch = db.session.get(Branch, branch_id) if branch_id else None
    return branch.name if branch else None


def describe_role(role_id: int | None) -> str | None:
    role = db.session.get(Role, role_id) if role_id else None
    return role.name if role else None


#: References logged by what users recognise, not by id.
REFERENCES = {
    "bill_to_id": ("bill_to", describe_client),
    "branch_id": ("branch", describe_branch),
    "role_id": ("role", describe_role),
}


def apply_changes(obj, values: dict[str, Any]) -> dict[str, list[str | None]]:
    """Set ``values`` on ``obj``; return {field: [old, new]} for what really changed."""
    changes = {}
    for name, new in values.items():
        old = getattr(obj, name)
        if display(old) == display(new):
            continue
        if name in REFERENCES:
            label, describe = REFERENCES[name]
            changes[label] = [describe(old), describe(new)]
        else:
            changes[name] = [display(old), display(new)]
        setattr(obj, name, new)
    return changes


def next_client_code(tenant: Tenant) -> str:
    """The tenant's next free number as a code (skipping codes typed in by hand)."""
    number = tenant.next_client_number
    while db.session.scalar(select(Client.id).where(Client.code == str(number))) is not None:
        number += 1
    tenant.next_client_number = number + 1
    return str(number)


def create_client(tenant: Tenant, values: dict[str, Any], *, actor: Actor) -> Client:
    """Raise ``unique.Taken``, having written nothing, when another client took the code."""
    client = Client(tenant_id=tenant.id)
    values = dict(values)
    with unique.claimed():  # the numbering too: a clash must not use up a number
        if not values.get("code"):
            values["code"] = next_client_code(tenant)
        changes = apply_changes(client, values)
        db.session.add(client)
    search.reindex(client)
    if not actor.user.can("clients.view_all"):
        # Otherwise the creator could not see the client just created.
        db.session.add(ClientAssignment(client_id=client.id, user_id=actor.user.id))
    audit.record("client.created", actor=actor, client_id=client.id, changes=changes)
    return client


def update_client(
    client: Client, values: dict[str, Any], *, actor: Actor
) -> dict[str, list[str | None]]:
    """Raise ``unique.Taken``, having written nothing, when another client took the code."""
    with unique.claimed():
        changes = apply_changes(client, values)
    if changes:
        client.modified_at = utcnow()
        if SEARCHED_FIELDS & changes.keys():
            search.reindex(client)
        action = "client.archived" if "status" in changes and client.archived else "client.updated"
        audit.record(action, actor=actor, client_id=client.id, changes=changes)
    return changes


def archive_client(client: Client, *, actor: Actor) -> None:
    """Clients are archived, never deleted: invoices, tickets and credit refer to them."""
    update_client(client, {"status": ClientStatus.ARCHIVED}, actor=actor)


def assign(client: Client, user: User, *, actor: Actor) -> bool:
    if any(assignment.user_id == user.id for assignment in client.assignments):
        return False
    client.assignments.append(ClientAssignment(user_id=user.id, tenant_id=client.tenant_id))
    audit.record(
        "client.assigned",
        actor=actor,
        client_id=client.id,
        changes={"assigned staff": [None, user.name]},
    )
    return True


def unassign(client: Client, user: User, *, actor: Actor) -> bool:
    for assignment in client.assignments:
        if assignment.user_id == user.id:
            client.assignments.remove(assignment)
            audit.record(
                "client.unassigned",
                actor=actor,
                client_id=client.id,
                changes={"assigned staff": [user.name, None]},
            )
            return True
    return False


def create_contact(client: Client, values: dict[str, Any], *, actor: Actor) -> Contact:
    contact = Contact(client_id=client.id, tenant_id=client.tenant_id)
    changes = apply_changes(contact, values)
    db.session.add(contact)
    db.session.flush()
    search.reindex(contact.client)
    audit.record(
        "contact.created",
        actor=actor,
        client_id=client.id,
        contact_id=contact.id,
        contact=contact.name,
        changes=changes,
    )
    return contact


def update_contact(
    contact: Contact, values: dict[str, Any], *, actor: Actor
) -> dict[str, list[str | None]]:
    """Refused (``ContactErased``) for an erased contact."""
    check_not_erased(contact)
    changes = apply_changes(contact, values)
    if CONTACT_SEARCHED_FIELDS & changes.keys():
        search.reindex(contact.client)
    if changes:
        audit.record(
            "contact.updated",
            actor=actor,
            client_id=contact.client_id,
            contact_id=contact.id,
            contact=contact.name,
            changes=changes,
        )
    return changes


def set_contact_archived(contact: Contact, archived: bool, *, actor: Actor) -> None:
    """Refused (``ContactErased``) for an erased contact."""
    check_not_erased(contact)
    if (contact.archived_at is not None) == archived:
        return
    old = contact.archived_at
    contact.archived_at = utcnow() if archived else None
    search.reindex(contact.client)
    audit.record(
        "contact.archived" if archived else "contact.restored",
        actor=actor,
        client_id=contact.client_id,
        contact_id=contact.id,
        contact=contact.name,
        changes={"archived_at": [display(old), display(contact.archived_at)]},
    )


def update_own_company(
    client: Client, values: dict[str, Any], *, actor: Actor
) -> dict[str, list[str | None]]:
    """A client user keeps its company's details current; the staff assigned to the
    client hear of it (one notice per editing session)."""
    started = utcnow()
    changes = update_client(client, values, actor=actor)
    if changes:
        notices.client_changed(client, actor=actor, since=started)
    return changes


def update_own_card(
    contact: Contact, values: dict[str, Any], *, locale: str | None, actor: Actor
) -> dict[str, list[str | None]]:
    """A client user keeps its own contact card current, and chooses its language;
    the staff assigned to the client hear of the card's changes."""
    started = utcnow()
    changes = update_contact(contact, values, actor=actor)
    actor.user.locale = locale
    if changes:
        notices.client_changed(contact.client, actor=actor, since=started)
    return changes


def record_forged_fields(fields: list[str], *, actor: Actor) -> None:
    """A client user sent fields its form does not offer (the company's name, code,
    status...): they are never saved, and whoever sent them is recorded in the log,
    even if the rest of the request is undone."""
    audit.record_refusal(
        "account.forged_fields", actor=actor, client_id=actor.user.client_id, fields=fields[:20]
    )
