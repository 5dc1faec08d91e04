"""Creating tenants with their roles, and their first administrator."""

import re

from sqlalchemy import select

from portal.extensions import db
from portal.models import Role, RolePermission, SystemRole, Tenant, User, UserKind, UserStatus
from portal.permissions import DEFAULT_ROLES
from portal.services import chat
from portal.tenancy import bound_to

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")

#: Slugs that would shadow a page outside any tenant.
RESERVED_SLUGS = {"static", "health", "admin", "api"}

SYSTEM_ROLE_NAMES = {SystemRole.ADMINISTRATOR: "Administrator", SystemRole.CLIENT: "Client"}


class TenantError(ValueError):
    """The tenant cannot be created as asked; the message says why."""


def create_tenant(slug: str, name: str, *, administrators_two_factor: bool = True) -> Tenant:
    """Create a tenant with the system roles and the default staff roles. Its
    Administrators must sign in with a second factor unless ``administrators_two_factor``
    is False (the demo's and the tests' tenants, whose one password signs everyone in)."""
    if not SLUG_PATTERN.match(slug) or slug in RESERVED_SLUGS:
        raise TenantError(
            f"{slug!r} is not a valid slug: use 1 to 40 lowercase letters, digits or hyphens."
        )
    if db.session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise TenantError(f"A tenant with the slug {slug!r} already exists.")
    if not name.strip():
        raise TenantError("The tenant needs a name.")
    tenant = Tenant(slug=slug, name=name.strip())
    db.session.add(tenant)
    db.session.flush()
    with bound_to(db.session, tenant.id):
        for system, role_name in SYSTEM_ROLE_NAMES.items():
            required = administrators_two_factor and system is SystemRole.ADMINISTRATOR
            db.session.add(Role(name=role_name, system=system, two_factor_required=required))
        for role_name, permissions in DEFAULT_ROLES.items():
            role = Role(name=role_name)
            role.grants = [RolePermission(permission=name) for name in sorted(permissions)]
            db.session.add(role)
        db.session.flush()
        chat.create_everyone()
    return tenant


def system_role(system: SystemRole) -> Role:
    return db.session.scalar(select(Role).where(Role.system == system))


def role_named(name: str) -> Role | None:
    return db.session.scalar(select(Role).where(Role.name == name))


def free_user_code(wanted: str) -> str:
    """``wanted`` if no user of the bound tenant has it, else with the first free number."""
    similar = select(User.code).where(User.code.startswith(wanted, autoescape=True))
    taken = set(db.session.scalars(similar))
    candidate, number = wanted, 1
    while candidate in taken:
        number += 1
        candidate = f"{wanted}{number}"
    return candidate


def create_staff_user(
    *,
    email: str,
    name: str,
    password: str | None,
    role: Role,
    code: str | None = None,
    initials: str | None = None,
) -> User:
    """Add a staff user to the bound tenant; active when a password is given."""
    email = email.strip().lower()
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise TenantError(f"A user with the email {email} already exists in this tenant.")
    user = User(
        code=code or free_user_code(email.split("@", 1)[0]),
        email=email,
        name=name,
        role=role,
        kind=UserKind.STAFF,
        initials=initials,
        status=UserStatus.ACTIVE if password else UserStatus.INVITED,
    )
    if password:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    chat.welcome(user)
    return user
