"""Staff and client users, their roles, and their server-side sessions."""

import enum
import hashlib
from datetime import datetime

from sqlalchemy import (
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models.base import UTCDateTime, db_enum, utcnow
from portal.permissions import CLIENT_PERMISSIONS, SIGNED_IN, STAFF_PERMISSIONS
from portal.tenancy import TenantScoped

#: What the system roles hold, built once: a page asks ``can`` a dozen times.
ALL_STAFF = frozenset(STAFF_PERMISSIONS)
ALL_CLIENT = frozenset(CLIENT_PERMISSIONS)


class SystemRole(enum.StrEnum):
    ADMINISTRATOR = "administrator"
    CLIENT = "client"


class UserKind(enum.StrEnum):
    STAFF = "staff"
    CLIENT = "client"


class UserStatus(enum.StrEnum):
    INVITED = "invited"
    ACTIVE = "active"
    DISABLED = "disabled"

    @property
    def label(self) -> str:
        return {
            self.INVITED: _l("Invited"),
            self.ACTIVE: _l("Active"),
            self.DISABLED: _l("Disabled"),
        }[self]


class Role(TenantScoped, db.Model):
    """A named set of permissions in one tenant."""

    __tablename__ = "role"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "name"),
        UniqueConstraint("tenant_id", "system"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The role's name as staff see it.
    name: Mapped[str] = mapped_column(String(80))
    #: Set for the two system roles, whose permissions come from code and never change.
    system: Mapped[SystemRole | None] = mapped_column(db_enum(SystemRole, "system_role"))
    #: Its users must sign in with a second factor: one who has none is sent to set it
    #: up right after the password, and can do nothing else until it is done.
    two_factor_required: Mapped[bool] = mapped_column(default=False, server_default="0")

    grants: Mapped[list["RolePermission"]] = relationship(
        back_populates="role",
        cascade="all, delete-orphan",
        primaryjoin="and_(Role.id == foreign(RolePermission.role_id),"
        " Role.tenant_id == RolePermission.tenant_id)",
    )

    @property
    def permissions(self) -> frozenset[str]:
        if self.system is SystemRole.ADMINISTRATOR:
            return ALL_STAFF
        if self.system is SystemRole.CLIENT:
            return ALL_CLIENT
        return frozenset(grant.permission for grant in self.grants)

    @property
    def editable(self) -> bool:
        return self.system is None

    def __repr__(self) -> str:
        return f"<Role {self.name}>"


class RolePermission(TenantScoped, db.Model):
    """One permission granted by an editable role."""

    __tablename__ = "role_permission"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "role_id"], ["role.tenant_id", "role.id"], ondelete="CASCADE"
        ),
    )

    #: The role granting it.
    role_id: Mapped[int] = mapped_column(primary_key=True)
    #: A name from the catalogue in ``portal.permissions``.
    permission: Mapped[str] = mapped_column(String(60), primary_key=True)

    role: Mapped[Role] = relationship(
        back_populates="grants",
        primaryjoin="and_(Role.id == foreign(RolePermission.role_id),"
        " Role.tenant_id == RolePermission.tenant_id)",
    )


class User(TenantScoped, db.Model):
    """Someone who signs in: a staff member or a client's contact."""

    __tablename__ = "user_account"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "code"),
        UniqueConstraint("tenant_id", "email"),
        ForeignKeyConstraint(["tenant_id", "role_id"], ["role.tenant_id", "role.id"]),
        ForeignKeyConstraint(["tenant_id", "branch_id"], ["branch.tenant_id", "branch.id"]),
        ForeignKeyConstraint(["tenant_id", "client_id"], ["client.tenant_id", "client.id"]),
        ForeignKeyConstraint(["tenant_id", "contact_id"], ["contact.tenant_id", "contact.id"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The sign-in code, unique in the tenant (a client's code plus a number for contacts).
    code: Mapped[str] = mapped_column(String(40))
    #: Sign-in address, stored lowercased so uniqueness ignores case.
    email: Mapped[str] = mapped_column(String(254))
    #: Full name as shown to colleagues and customers.
    name: Mapped[str] = mapped_column(String(120))
    #: werkzeug hash; empty until an invited user chooses a password.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: The role giving this user its permissions.
    role_id: Mapped[int] = mapped_column(index=True)
    #: Staff of the business, or a client's contact.
    kind: Mapped[UserKind] = mapped_column(db_enum(UserKind, "user_kind"))
    #: For client users: the client whose data they see.
    client_id: Mapped[int | None] = mapped_column(index=True)
    #: For client users: their contact card.
    contact_id: Mapped[int | None]
    #: Only requests from this address or network are accepted (normalised CIDR).
    allowed_network: Mapped[str | None] = mapped_column(String(64))
    #: Limits what the user sees to one branch.
    branch_id: Mapped[int | None]
    #: invited until a password is set; disabled users cannot sign in.
    status: Mapped[UserStatus] = mapped_column(
        db_enum(UserStatus, "user_status"), default=UserStatus.INVITED
    )
    #: Technicians sign recap mails with these.
    initials: Mapped[str | None] = mapped_column(String(8))
    #: Technicians sign recap mails with these.
    phone: Mapped[str | None] = mapped_column(String(40))
    #: Preferred interface language; empty follows the browser.
    locale: Mapped[str | None] = mapped_column(String(10))
    #: When the user last signed in successfully.
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The TOTP secret (RFC 6238), sealed with a key derived from SECRET_KEY
    #: (``portal.sealing``); None until the user has confirmed an authenticator app.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    #: When the authenticator app was confirmed.
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The last time step whose code was accepted: a code works once.
    totp_last_step: Mapped[int | None]
    #: When the user was created.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def has_authenticator_app(self) -> bool:
        return self.totp_secret is not None

    @property
    def has_second_factor(self) -> bool:
        return self.totp_secret is not None or bool(self.passkeys)

    @property
    def must_enrol(self) -> bool:
        """Their role asks for a second factor, and they have none yet."""
        return self.role.two_factor_required and not self.has_second_factor

    role: Mapped[Role] = relationship(
        primaryjoin="and_(Role.id == foreign(User.role_id), Role.tenant_id == User.tenant_id)",
        lazy="joined",
    )
    branch: Mapped["Branch | None"] = relationship(  # noqa: F821
        primaryjoin="and_(Branch.id == foreign(User.branch_id),"
        " Branch.tenant_id == User.tenant_id)",
    )
    client: Mapped["Client | None"] = relationship(  # noqa: F821
        primaryjoin="and_(Client.id == foreign(User.client_id),"
        " Client.tenant_id == User.tenant_id)",
    )
    contact: Mapped["Contact | None"] = relationship(  # noqa: F821
        primaryjoin="and_(Contact.id == foreign(User.contact_id),"
        " Contact.tenant_id == User.tenant_id)",
    )
    passkeys: Mapped[list["Passkey"]] = relationship(
        primaryjoin="and_(Passkey.user_id == User.id, Passkey.tenant_id == User.tenant_id)",
        foreign_keys="[Passkey.user_id, Passkey.tenant_id]",
        order_by="Passkey.id",
        viewonly=True,
    )

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.status is UserStatus.ACTIVE

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def is_client(self) -> bool:
        return self.kind is UserKind.CLIENT

    def can(self, permission: str) -> bool:
        if not self.is_active:
            return False
        return permission == SIGNED_IN or permission in self.role.permissions

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.code}>"


def hash_session_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UserSession(TenantScoped, db.Model):
    """A signed-in browser, kept on the server so that it can be ended from here."""

    __tablename__ = "user_session"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["user_account.tenant_id", "user_account.id"],
            ondelete="CASCADE",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The user signed in.
    user_id: Mapped[int] = mapped_column(index=True)
    #: SHA-256 of the random token in the session cookie; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: When the user signed in (the absolute timeout counts from here).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Last request seen (the idle timeout counts from here).
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set when the session was ended (logout, password change, disabling, timeout).
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Address the sign-in came from.
    ip_address: Mapped[str | None] = mapped_column(String(64))
    #: Browser description, for the user's list of sessions.
    user_agent: Mapped[str | None] = mapped_column(String(255))
    #: How the user proved who they are: ``password``, ``password+totp``,
    #: ``password+recovery`` (a recovery code instead of the app), ``password+passkey``
    #: or ``passkey`` (a passkey alone, which checked the user on the device).
    method: Mapped[str] = mapped_column(String(20), default="password", server_default="password")
    #: When the user last gave their password or a code in this session (at sign-in, or
    #: again before a sensitive action): such actions ask again after ``REAUTH_AFTER``.
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(
        primaryjoin="and_(User.id == foreign(UserSession.user_id),"
        " User.tenant_id == UserSession.tenant_id)",
    )
    #: Read with the session on every signed-in request, so that the tenant costs no
    #: statement of its own (``portal/web/routing.py``).
    tenant: Mapped["Tenant"] = relationship(viewonly=True)  # noqa: F821


class RecoveryCode(TenantScoped, db.Model):
    """One of a user's single-use codes that stand in for their authenticator app."""

    __tablename__ = "recovery_code"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["user_account.tenant_id", "user_account.id"],
            ondelete="CASCADE",
        ),
        Index("ix_recovery_code_user", "tenant_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Whose code it is.
    user_id: Mapped[int]
    #: ``scrypt$<salt>$<digest>`` of the code (about 50 random bits: a slow, salted hash,
    #: ASVS 6.5.2; one salt for all of a user's codes), or the SHA-256 alone of a code
    #: made before; the code itself was shown once and is never stored.
    code_hash: Mapped[str] = mapped_column(String(200))
    #: When it was used; a used code never works again.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When it was made (a new set replaces the old one).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Passkey(TenantScoped, db.Model):
    """A WebAuthn credential of a user: a second factor after the password, or a sign-in
    on its own (the device checked the user with a PIN or a fingerprint)."""

    __tablename__ = "passkey"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["user_account.tenant_id", "user_account.id"],
            ondelete="CASCADE",
        ),
        Index("ix_passkey_user", "tenant_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Whose key it is.
    user_id: Mapped[int]
    #: The authenticator's credential id, as it sends it back at each sign-in; unique
    #: across tenants, since every tenant shares one relying party (the portal's host).
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1023), unique=True)
    #: The credential's public key (COSE), which checks each signature.
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    #: The authenticator's signature counter: one that goes back betrays a cloned key
    #: (many passkeys keep it at 0, which says nothing).
    sign_count: Mapped[int] = mapped_column(default=0)
    #: The name the user gave it ("Work laptop"), to tell their keys apart.
    name: Mapped[str] = mapped_column(String(80))
    #: How the browser may reach it (``internal``, ``usb``, ``hybrid``…), comma-separated.
    transports: Mapped[str] = mapped_column(String(120), default="")
    #: When it was registered.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When it last signed in.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(
        primaryjoin="and_(User.id == foreign(Passkey.user_id),"
        " User.tenant_id == Passkey.tenant_id)",
    )
