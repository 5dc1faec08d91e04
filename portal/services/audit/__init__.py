"""Writing audit events."""

from typing import Any

from portal.extensions import db
from portal.models import AuditEvent, User


def record(
    action: str,
    *,
    actor: User | None = None,
    client_id: int | None = None,
    ip_address: str | None = None,
    tenant_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit event to the session; it is committed with the change it describes."""
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor else None,
        client_id=client_id,
        ip_address=ip_address,
        details=details,
    )
    if tenant_id is not None:
        event.tenant_id = tenant_id
    db.session.add(event)
    return event
