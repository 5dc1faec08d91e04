"""How long the audit log keeps network addresses: each tenant's ``audit_address_days``.
Crosses every tenant on purpose (the command and the outbox worker run it for all): it
says so with ``cross_tenant``."""

from datetime import datetime, timedelta

from sqlalchemy import select, update

from portal.extensions import db
from portal.models import AuditEvent, Tenant
from portal.models.base import utcnow
from portal.tenancy import cross_tenant


def erase_old_addresses(now: datetime | None = None) -> int:
    """Erase the addresses of every tenant's audit events older than its retention;
    returns how many events lost theirs. The caller commits."""
    now = now or utcnow()
    erased = 0
    with cross_tenant(db.session):
        for tenant_id, days in db.session.execute(select(Tenant.id, Tenant.audit_address_days)):
            erased += db.session.execute(
                update(AuditEvent)
                .where(
                    AuditEvent.tenant_id == tenant_id,
                    AuditEvent.created_at < now - timedelta(days=days),
                    AuditEvent.ip_address.is_not(None),
                )
                .values(ip_address=None)
                .execution_options(synchronize_session=False)
            ).rowcount
    return erased
