"""Who may act on whom (issue 16, item 3), at the service level: nobody acts on a user,
nor changes, gives or deletes a role, that holds a staff permission they lack; and the
tenant keeps one active Administrator limited to no network and no branch. The same
rules through HTTP are in test_admin_users, test_admin_staff and test_admin_roles."""

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    AuditEvent,
    OutboxMail,
    Role,
    RolePermission,
    SystemRole,
    User,
    UserStatus,
)
from portal.permissions import STAFF_PERMISSIONS
from portal.services import authority, invitations, roles, staff, users
from portal.services.tenants import role_named
from portal.tenancy import bound_to
from tests.conftest import acting
from tests.test_admin_users import add_staff

#: A lesser administrator: may administer the tenant, sees assigned clients and chats with
#: colleagues, nothing more.
OFFICE = {"tenant.admin", "clients.view", "chat.use"}


def make_role(world, name: str, permissions) -> Role:
    with bound_to(db.session, world.a.tenant_id):
        role = Role(name=name, grants=[RolePermission(permission=p) for p in sorted(permissions)])
        db.session.add(role)
        db.session.commit()
        return role


@dataclass
class Staff:
    office_id: int
    deputy_id: int
    clerk_id: int
    tech_id: int


@pytest.fixture
def people(world) -> Staff:
    """Beside Alpha's Administrator and Technician: an Office manager (tenant.admin but
    little else), a Deputy holding every staff permission without being an
    Administrator, and a clerk of the Staff role (clients.view)."""
    make_role(world, "Office", OFFICE)
    make_role(world, "Deputy", STAFF_PERMISSIONS)
    with bound_to(db.session, world.a.tenant_id):
        tech_id = db.session.scalar(select(User.id).where(User.email == world.a.tech_email))
    return Staff(
        office_id=add_staff(world, "office@alpha.test", "Olive Office", "Office"),
        deputy_id=add_staff(world, "deputy@alpha.test", "Dan Deputy", "Deputy"),
        clerk_id=add_staff(world, "clerk@alpha.test", "Carl Clerk", "Staff"),
        tech_id=tech_id,
    )


@pytest.fixture
def alpha_request(app, world):
    """Inside a request of tenant Alpha, as services run; rolled back at the end."""
    with app.test_request_context(), bound_to(db.session, world.a.tenant_id):
        yield
        db.session.rollback()


def user(user_id: int) -> User:
    return db.session.get(User, user_id)


def nothing_pending() -> bool:
    """No row added and no change waiting to be flushed: the refusal came first."""
    db.session.flush()
    return (
        not db.session.scalars(select(AuditEvent)).all()
        and not db.session.scalars(select(OutboxMail)).all()
    )


#: Every action on a user, as a service call: (actor, target) -> None.
USER_ACTIONS = {
    "edit": lambda world, actor, target: staff.update_staff(
        target, {"name": "Renamed"}, actor=acting(actor)
    ),
    "limit to a network": lambda world, actor, target: invitations.set_limits(
        target, allowed_network="192.0.2.0/24", branch_id=None, actor=acting(actor)
    ),
    "limit to a branch": lambda world, actor, target: staff.update_staff(
        target, {"branch_id": world.a.branch_id}, actor=acting(actor)
    ),
    "disable": lambda world, actor, target: users.set_disabled(target, True, actor=acting(actor)),
    "enable": lambda world, actor, target: users.set_disabled(target, False, actor=acting(actor)),
    "resend the invitation": lambda world, actor, target: invitations.resend(
        target, actor=acting(actor)
    ),
}


@pytest.mark.parametrize("action", USER_ACTIONS)
@pytest.mark.parametrize(
    ("target", "missing"),
    [
        ("administrator", ", ".join(sorted(set(STAFF_PERMISSIONS) - OFFICE))),
        (
            "technician",
            "clients.view_all, requests.notes, requests.reply, requests.triage, requests.view,"
            " support.record",
        ),
    ],
)
def test_nobody_acts_on_a_user_who_holds_more(
    world, people, alpha_request, action, target, missing
):
    office = user(people.office_id)
    victim = user(world.a.admin_id if target == "administrator" else people.tech_id)
    before = (victim.name, victim.status, victim.allowed_network, victim.branch_id)
    with pytest.raises(authority.Refused) as refused:
        USER_ACTIONS[action](world, office, victim)
    assert f"{victim.name} holds permissions you do not ({missing}" in str(refused.value)
    assert (victim.name, victim.status, victim.allowed_network, victim.branch_id) == before
    assert nothing_pending()


@pytest.mark.parametrize("action", USER_ACTIONS)
def test_users_within_ones_own_power_are_acted_on(world, people, alpha_request, action):
    """The same actions succeed on a user holding no more: a clerk (clients.view) for
    the Office manager, a client user's access (client permissions do not count)."""
    office = user(people.office_id)
    USER_ACTIONS[action](world, office, user(people.clerk_id))
    if action != "edit":  # a client user's name is their contact's, edited on the card
        USER_ACTIONS[action](world, office, user(world.a.client_user_id))
    assert db.session.scalars(select(AuditEvent)).all()


@pytest.fixture
def night_desk(world) -> int:
    """A role granting support.override, which the Office manager lacks."""
    return make_role(world, "Night desk", {"clients.view", "support.override"}).id


#: Changing, giving or deleting a role that grants more, or granting more, as service
#: calls: (world, people, actor, the Night desk role) -> None.
ROLE_ACTIONS = {
    "rename it": lambda world, people, actor, night: roles.update_role(
        night, "Night shift", night.permissions, actor=acting(actor)
    ),
    "withdraw a permission from it": lambda world, people, actor, night: roles.update_role(
        night, night.name, {"clients.view"}, actor=acting(actor)
    ),
    "delete it": lambda world, people, actor, night: roles.delete_role(night, actor=acting(actor)),
    "give it to a new user": lambda world, people, actor, night: staff.invite_staff(
        "new@alpha.example",
        {"name": "New Person", "role_id": night.id},
        actor=acting(actor),
    ),
    "give it to a clerk": lambda world, people, actor, night: staff.update_staff(
        user(people.clerk_id), {"role_id": night.id}, actor=acting(actor)
    ),
    "create a role granting more": lambda world, people, actor, night: roles.create_role(
        "Escalation", {"clients.view", "credit.npi"}, actor=acting(actor)
    ),
    "make a role grant more": lambda world, people, actor, night: roles.update_role(
        role_named("Staff"), "Staff", {"clients.view", "credit.npi"}, actor=acting(actor)
    ),
}


@pytest.mark.parametrize("action", ROLE_ACTIONS)
def test_roles_that_grant_more_are_neither_changed_given_nor_deleted(
    world, people, night_desk, alpha_request, action
):
    night = db.session.get(Role, night_desk)
    with pytest.raises(authority.Refused):
        ROLE_ACTIONS[action](world, people, user(people.office_id), night)
    assert (night.name, night.permissions) == ("Night desk", {"clients.view", "support.override"})
    assert role_named("Staff").permissions == {"clients.view", "chat.use"}
    assert role_named("Escalation") is None
    assert user(people.clerk_id).role.name == "Staff"
    assert db.session.scalar(select(User).where(User.email == "new@alpha.example")) is None
    assert nothing_pending()


def test_roles_within_ones_own_power_are_changed_given_and_deleted(world, people, alpha_request):
    office = acting(user(people.office_id))
    roles.update_role(role_named("Staff"), "Clerks", OFFICE, actor=office)
    desk = roles.create_role("Desk", {"clients.view"}, actor=office)
    staff.update_staff(user(people.clerk_id), {"role_id": desk.id}, actor=office)
    assert user(people.clerk_id).role_id == desk.id
    assert roles.delete_role(role_named("Clerks"), actor=office)


#: What would make the last unrestricted Administrator stop being one, with the form
#: field the refusal is about: (who acts, the call, the field).
LAST_ADMINISTRATOR_CHANGES = {
    "limited to a network by themselves": (
        "administrator",
        lambda world, actor, admin: invitations.set_limits(
            admin, allowed_network="192.0.2.0/24", branch_id=None, actor=acting(actor)
        ),
        "allowed_network",
    ),
    "limited to a network by a deputy": (
        "deputy",
        lambda world, actor, admin: staff.update_staff(
            admin, {"allowed_network": "2001:db8::/64"}, actor=acting(actor)
        ),
        "allowed_network",
    ),
    "limited to a branch": (
        "administrator",
        lambda world, actor, admin: staff.update_staff(
            admin, {"branch_id": world.a.branch_id}, actor=acting(actor)
        ),
        "branch_id",
    ),
    "demoted": (
        "deputy",
        lambda world, actor, admin: staff.update_staff(
            admin, {"role_id": world.a.role_id}, actor=acting(actor)
        ),
        "role_id",
    ),
    "disabled": (
        "deputy",
        lambda world, actor, admin: users.set_disabled(admin, True, actor=acting(actor)),
        None,
    ),
}


def second_administrator(world, **limits) -> int:
    second = add_staff(world, "second@alpha.test", "Sam Second", SystemRole.ADMINISTRATOR)
    with bound_to(db.session, world.a.tenant_id):
        for name, value in limits.items():
            setattr(db.session.get(User, second), name, value)
        db.session.commit()
    return second


@pytest.mark.parametrize("change", LAST_ADMINISTRATOR_CHANGES)
@pytest.mark.parametrize(
    "other", ["none", "disabled", "invited", "limited to a network", "limited to a branch"]
)
def test_the_last_unrestricted_administrator_stays_one(world, people, app, change, other):
    """Whoever acts, even the Administrator on themselves: another Administrator who is
    disabled, invited or limited does not count."""
    if other != "none":
        second_administrator(
            world,
            **{
                "disabled": {"status": UserStatus.DISABLED},
                "invited": {"status": UserStatus.INVITED},
                "limited to a network": {"allowed_network": "198.51.100.0/24"},
                "limited to a branch": {"branch_id": world.a.branch_id},
            }[other],
        )
    who, call, field = LAST_ADMINISTRATOR_CHANGES[change]
    with app.test_request_context(), bound_to(db.session, world.a.tenant_id):
        admin = user(world.a.admin_id)
        actor = admin if who == "administrator" else user(people.deputy_id)
        with pytest.raises(authority.Refused) as refused:
            call(world, actor, admin)
        assert "Alpha Admin is the last active administrator without a network or branch" in str(
            refused.value
        )
        assert refused.value.field == field
        assert (admin.role.system, admin.status, admin.allowed_network, admin.branch_id) == (
            SystemRole.ADMINISTRATOR,
            UserStatus.ACTIVE,
            None,
            None,
        )
        assert nothing_pending()
        db.session.rollback()


@pytest.mark.parametrize("change", LAST_ADMINISTRATOR_CHANGES)
def test_with_another_unrestricted_administrator_the_change_is_made(world, people, app, change):
    second_administrator(world)
    who, call, _field = LAST_ADMINISTRATOR_CHANGES[change]
    with app.test_request_context(), bound_to(db.session, world.a.tenant_id):
        admin = user(world.a.admin_id)
        call(world, admin if who == "administrator" else user(people.deputy_id), admin)
        db.session.commit()
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        assert authority.unrestricted_administrators() == [
            db.session.scalar(select(User.id).where(User.email == "second@alpha.test"))
        ]
