"""Contacts proposed by a client's own contacts, and the staff's decision on them.

A client user may not edit its colleagues' cards directly (they are the business's
records of who to call); it proposes, and staff with ``contacts.edit`` accept (the
change is then applied, as their own edit) or reject (with a reason the client sees).
The staff assigned to the client hear of a proposal as of the client's other changes.
"""

from typing import Any

from sqlalchemy import func, select, update

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.mail import notices
from portal.models import Client, Contact, ContactProposal, ProposalState
from portal.models.base import utcnow
from portal.services import audit
from portal.services.actor import Actor
from portal.services.clients import create_contact, display, set_contact_archived, update_contact

#: The fields of a colleague's card a client may propose.
PROPOSED_FIELDS = ("name", "title", "department", "email", "phone", "mobile", "location")
#: Waiting proposals a client may have at once; past that, staff must decide first.
MAX_PENDING = 20


class ProposalRefused(Exception):
    """The proposal cannot be made or decided; the message says why, for the user."""


def correction_of(contact: Contact, values: dict[str, Any]) -> dict[str, Any]:
    """The proposed values that differ from the card as it is."""
    return {
        name: value
        for name, value in values.items()
        if display(getattr(contact, name)) != display(value)
    }


def changes_of(proposal: ContactProposal) -> dict[str, list[str | None]]:
    """{field: [current, proposed]} as the log and the decision page show them."""
    if proposal.departed:
        return {"departed": [None, str(_l("Has left the company"))]}
    contact = proposal.contact
    return {
        name: [display(getattr(contact, name)) if contact else None, display(value)]
        for name, value in proposal.values.items()
    }


def propose(
    client: Client,
    contact: Contact | None,
    values: dict[str, Any],
    *,
    departed: bool = False,
    note: str | None,
    actor: Actor,
) -> ContactProposal:
    """Record a proposal: a new contact (``contact`` None), a correction, or a departure,
    and tell the staff assigned to the client. ``ProposalRefused``, before anything is
    written, when too many wait already or nothing differs from the card."""
    started = utcnow()
    pending = db.session.scalar(
        select(func.count(ContactProposal.id)).where(
            ContactProposal.client_id == client.id,
            ContactProposal.state == ProposalState.PENDING,
        )
    )
    if pending >= MAX_PENDING:
        raise ProposalRefused(
            _l(
                "%(count)d proposals are already waiting for a decision; "
                "please wait until they are dealt with.",
                count=pending,
            )
        )
    if contact is None:
        values = {name: value for name, value in values.items() if value is not None}
    else:
        values = {} if departed else correction_of(contact, values)
        if not values and not departed:
            raise ProposalRefused(_l("Nothing differs from the card: change at least one field."))
    proposal = ContactProposal(
        client_id=client.id,
        contact_id=contact.id if contact else None,
        proposed_by_id=actor.user.id,
        values={name: display(value) for name, value in values.items()},
        departed=departed,
        note=note,
    )
    db.session.add(proposal)
    db.session.flush()
    audit.record(
        "proposal.created",
        actor=actor,
        client_id=client.id,
        proposal_id=proposal.id,
        contact=contact.name if contact else values.get("name"),
        changes=changes_of(proposal),
    )
    notices.client_changed(client, actor=actor, since=started)
    return proposal


def _decide(proposal: ContactProposal, state: ProposalState, actor: Actor) -> None:
    """Close the proposal, once: of two staff deciding at the same moment, one wins. The
    losing one is refused before its decision writes anything."""
    closed = db.session.execute(
        update(ContactProposal)
        .where(ContactProposal.id == proposal.id, ContactProposal.state == ProposalState.PENDING)
        .values(state=state, decided_by_id=actor.user.id, decided_at=utcnow())
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if not closed:
        raise ProposalRefused(_l("This proposal was already decided by someone else."))


def accept(proposal: ContactProposal, *, actor: Actor) -> Contact:
    """Apply the proposal as ``actor``'s own change, and close it."""
    _decide(proposal, ProposalState.ACCEPTED, actor)
    contact = proposal.contact
    if contact is None:
        contact = create_contact(proposal.client, dict(proposal.values), actor=actor)
    elif proposal.departed:
        set_contact_archived(contact, True, actor=actor)
    else:
        update_contact(contact, dict(proposal.values), actor=actor)
    audit.record(
        "proposal.accepted",
        actor=actor,
        client_id=proposal.client_id,
        proposal_id=proposal.id,
        contact=contact.name,
    )
    return contact


def reject(proposal: ContactProposal, *, reason: str | None, actor: Actor) -> None:
    _decide(proposal, ProposalState.REJECTED, actor)
    proposal.decision_note = reason
    audit.record(
        "proposal.rejected",
        actor=actor,
        client_id=proposal.client_id,
        proposal_id=proposal.id,
        contact=proposal.contact.name if proposal.contact else proposal.values.get("name"),
        reason=reason,
    )
