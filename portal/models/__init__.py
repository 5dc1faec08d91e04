"""All models, imported here so that Alembic and the scoping hook see every table."""

from portal.models.audit import AuditEvent
from portal.models.client import Client, ClientMode, ClientStatus, Contact
from portal.models.tenant import Branch, Tenant
from portal.models.user import (
    Role,
    RolePermission,
    SystemRole,
    User,
    UserKind,
    UserSession,
    UserStatus,
)

__all__ = [
    "AuditEvent",
    "Branch",
    "Client",
    "ClientMode",
    "ClientStatus",
    "Contact",
    "Role",
    "RolePermission",
    "SystemRole",
    "Tenant",
    "User",
    "UserKind",
    "UserSession",
    "UserStatus",
]
