"""Writing audit events.

An event is added to the session and committed with the change it describes, at the
request's one commit. A refusal is different: the request that was refused changes
nothing, yet whoever probes must leave a trace. ``record_refusal`` says so: the event
is written even when the request's changes are rolled back (``restore_refusals``, which
the transaction boundary calls after a rollback).
"""

from typing import Any

from sqlalchemy.orm import Session

from portal.extensions import db
from portal.models import AuditEvent
from portal.services.actor import Actor

#: Where a session keeps the refusals it must write whatever happens to the rest.
REFUSALS = "portal.audit.refusals"


def record(
    action: str, *, actor: Actor, client_id: int | None = None, **details: Any
) -> AuditEvent:
    """Add an audit event to the session; it is committed with the change it describes."""
    event = AuditEvent(
        action=action,
        actor_id=actor.user.id if actor.user else None,
        client_id=client_id,
        ip_address=actor.address,
        details=details,
    )
    if actor.tenant is not None:
        event.tenant_id = actor.tenant.id
    db.session.add(event)
    return event


def record_refusal(
    action: str, *, actor: Actor, client_id: int | None = None, **details: Any
) -> AuditEvent:
    """Record a refusal (a failed sign-in, a forged field, a request from outside the
    allowed network): written even if the request's changes are rolled back."""
    event = record(action, actor=actor, client_id=client_id, **details)
    db.session.info.setdefault(REFUSALS, []).append(
        {
            "action": event.action,
            "actor_id": event.actor_id,
            "client_id": event.client_id,
            "ip_address": event.ip_address,
            "details": event.details,
            "tenant_id": event.tenant_id,
        }
    )
    return event


def restore_refusals(session: Session) -> None:
    """After ``session`` was rolled back: add again the refusals it recorded."""
    for columns in session.info.pop(REFUSALS, []):
        session.add(AuditEvent(**columns))


def forget_refusals(session: Session) -> None:
    """After ``session`` committed: its refusals are written."""
    session.info.pop(REFUSALS, None)
