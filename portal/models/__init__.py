"""All models, imported here so that Alembic and the scoping hook see every table."""

from portal.models.audit import AuditEvent
from portal.models.client import (
    ADDRESS_FIELDS,
    Client,
    ClientAssignment,
    ClientMode,
    ClientSearchTerm,
    ClientStatus,
    ClientType,
    Contact,
)
from portal.models.credit import (
    Billing,
    CreditAccount,
    CreditAccountClient,
    EntryKind,
    LedgerEntry,
)
from portal.models.invitation import Invitation, InvitationState
from portal.models.outbox import MailState, OutboxMail
from portal.models.proposal import ContactProposal, ProposalState
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
    "ADDRESS_FIELDS",
    "AuditEvent",
    "Billing",
    "CreditAccount",
    "CreditAccountClient",
    "EntryKind",
    "LedgerEntry",
    "ClientAssignment",
    "ClientSearchTerm",
    "ClientType",
    "Branch",
    "Client",
    "ClientMode",
    "ClientStatus",
    "Contact",
    "ContactProposal",
    "Invitation",
    "InvitationState",
    "MailState",
    "OutboxMail",
    "ProposalState",
    "Role",
    "RolePermission",
    "SystemRole",
    "Tenant",
    "User",
    "UserKind",
    "UserSession",
    "UserStatus",
]
