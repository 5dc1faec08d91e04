"""All models, imported here so that Alembic and the scoping hook see every table."""

from portal.models.audit import AuditEvent
from portal.models.chat import (
    ChannelKind,
    ChatChannel,
    ChatMember,
    ChatMention,
    ChatMessage,
    ChatProfile,
    Presence,
)
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
from portal.models.data_rights import DataExport, ExportState
from portal.models.invitation import Invitation, InvitationState
from portal.models.outbox import MailState, OutboxMail
from portal.models.proposal import ContactProposal, ProposalState
from portal.models.request import (
    Priority,
    QuoteState,
    RequestAttachment,
    RequestCounter,
    RequestKind,
    RequestMessage,
    RequestState,
    SupportRequest,
)
from portal.models.tenant import Branch, Tenant
from portal.models.user import (
    Passkey,
    RecoveryCode,
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
    "ChannelKind",
    "ChatChannel",
    "ChatMember",
    "ChatMention",
    "ChatMessage",
    "ChatProfile",
    "Presence",
    "CreditAccount",
    "DataExport",
    "ExportState",
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
    "Priority",
    "ProposalState",
    "QuoteState",
    "RequestAttachment",
    "RequestCounter",
    "RequestKind",
    "RequestMessage",
    "RequestState",
    "SupportRequest",
    "Passkey",
    "RecoveryCode",
    "Role",
    "RolePermission",
    "SystemRole",
    "Tenant",
    "User",
    "UserKind",
    "UserSession",
    "UserStatus",
]
