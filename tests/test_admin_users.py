"""The access list for tenant administrators (issue 4, item 9): every user of the
tenant, staff or client, with filters, and disable / enable with its safety rules."""

import pytest
from sqlalchemy import event, select

from portal.extensions import db
from portal.models import (
    AuditEvent,
    Branch,
    Invitation,
    Role,
    RolePermission,
    SystemRole,
    User,
    UserStatus,
)
from portal.permissions import STAFF_PERMISSIONS
from portal.services.tenants import create_staff_user, role_named, system_role
from portal.tenancy import bound_to
from tests.conftest import PASSWORD_HASH, csrf_token, login


def users_url(world, query: str = "") -> str:
    return f"/{world.a.slug}/admin/users{query}"


def status_of(world, user_id: int) -> UserStatus:
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        return db.session.get(User, user_id).status


def user_events(world) -> list[AuditEvent]:
    with bound_to(db.session, world.a.tenant_id):
        return db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.startswith("user.")).order_by(AuditEvent.id)
        ).all()


def add_staff(world, email: str, name: str, role: Role | str, branch: str | None = None) -> int:
    """An active staff user of Alpha; ``role`` by name or a system role."""
    with bound_to(db.session, world.a.tenant_id):
        if isinstance(role, SystemRole):
            role = system_role(role)
        elif isinstance(role, str):
            role = role_named(role)
        user = create_staff_user(email=email, name=name, password=None, role=role)
        user.password_hash, user.status = PASSWORD_HASH, UserStatus.ACTIVE
        if branch:
            record = Branch(name=branch)
            db.session.add(record)
            db.session.flush()
            user.branch_id = record.id
        db.session.commit()
        return user.id


def post_action(client, world, user_id: int, action: str, query: str = ""):
    token = csrf_token(client.get(users_url(world)))
    return client.post(
        f"/{world.a.slug}/admin/users/{user_id}/{action}{query}", data={"csrf_token": token}
    )


def test_the_admin_sees_every_user_of_their_tenant_only(client, world):
    login(client, world.a.slug, world.a.admin_email)
    response = client.get(users_url(world))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    for text in (
        "Alpha Admin",
        "Alpha Tech",
        "Alpha Contact 1",
        "ALP11",
        "contact1@alpha-client.test",
        "Administrator",
        "Technician",
        "Client",
        "Staff",
        "Active",
        "Disable access",
    ):
        assert text in body, text
    assert f'href="/{world.a.slug}/contacts/{world.a.contact_id}">Alpha Contact 1</a>' in body
    assert "Beta" not in body
    assert body.index("Alpha Admin") < body.index("Alpha Contact 1") < body.index("Alpha Tech")
    assert f'href="/{world.a.slug}/admin/users" aria-current="page">Users</a>' in body


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("?kind=client", ["Alpha Contact 1"], ["Alpha Tech", "Alpha Admin"]),
        ("?kind=staff", ["Alpha Tech", "Alpha Admin"], ["Alpha Contact 1"]),
        ("?q=TECH", ["Alpha Tech"], ["Alpha Admin", "Alpha Contact 1"]),
        ("?q=alp11", ["Alpha Contact 1"], ["Alpha Tech", "Alpha Admin"]),
        ("?q=contact1%40alpha", ["Alpha Contact 1"], ["Alpha Tech", "Alpha Admin"]),
        ("?state=active&kind=staff&q=admin", ["Alpha Admin"], ["Alpha Tech", "Alpha Contact 1"]),
        ("?kind=nonsense&state=nonsense&role=x", ["Alpha Tech", "Alpha Contact 1"], []),
        ("?state=invited", ["No user matches these criteria."], ["Alpha Tech", "Alpha Admin"]),
        ("?q=%25", ["No user matches these criteria."], ["Alpha Tech"]),
        ("?q=_", ["No user matches these criteria."], ["Alpha Tech"]),
        ("?q=" + "x" * 500, ["No user matches these criteria."], ["Alpha Tech"]),
    ],
)
def test_filters(client, world, query, shown, hidden):
    login(client, world.a.slug, world.a.admin_email)
    response = client.get(users_url(world, query))
    assert response.status_code == 200
    table = response.get_data(as_text=True).split("</form>", 1)[1]  # after the filter form
    for text in shown:
        assert text in table, (query, text)
    for text in hidden:
        assert text not in table, (query, text)


def test_the_role_filter(client, world):
    with bound_to(db.session, world.a.tenant_id):
        technician = role_named("Technician").id
    login(client, world.a.slug, world.a.admin_email)
    page = client.get(users_url(world, f"?role={technician}")).get_data(as_text=True)
    table = page.split("</form>", 1)[1]
    assert "Alpha Tech" in table and "Alpha Admin" not in table
    assert "Alpha Contact 1" not in table


def test_a_disabled_user_is_found_by_state_and_offers_enable(client, world):
    login(client, world.a.slug, world.a.admin_email)
    post_action(client, world, world.a.client_user_id, "disable")
    page = client.get(users_url(world, "?state=disabled")).get_data(as_text=True)
    table = page.split("</form>", 1)[1]
    assert "Alpha Contact 1" in table and "Alpha Tech" not in table
    assert "Enable access" in table and "Disabled" in table


@pytest.mark.parametrize("who", ["tech", "client user"])
def test_others_than_administrators_are_refused(app, world, who):
    browser = app.test_client()
    login(browser, world.a.slug, world.a.tech_email if who == "tech" else world.a.client_user_email)
    assert browser.get(users_url(world)).status_code == 403
    token = csrf_token(browser.get(f"/{world.a.slug}/logout"))
    response = browser.post(
        f"/{world.a.slug}/admin/users/{world.a.admin_id}/disable", data={"csrf_token": token}
    )
    assert response.status_code == 403
    assert status_of(world, world.a.admin_id) is UserStatus.ACTIVE
    if who == "tech":
        home = browser.get(f"/{world.a.slug}/clients/").get_data(as_text=True)
        assert "/admin/users" not in home, "no navigation entry without tenant.admin"


def test_disabling_a_client_user_ends_their_session_and_is_audited(app, client, world):
    contact_browser = app.test_client()
    assert login(contact_browser, world.a.slug, world.a.client_user_email).status_code == 302
    assert contact_browser.get(f"/{world.a.slug}/account").status_code == 200

    login(client, world.a.slug, world.a.admin_email)
    response = post_action(client, world, world.a.client_user_id, "disable", "?kind=client")
    assert response.status_code == 302
    assert response.location == f"/{world.a.slug}/admin/users?kind=client", "filters kept"
    assert "Access of Alpha Contact 1 disabled." in client.get(response.location).get_data(
        as_text=True
    )
    assert status_of(world, world.a.client_user_id) is UserStatus.DISABLED
    refused = contact_browser.get(f"/{world.a.slug}/account")
    assert refused.status_code == 302 and "/login" in refused.location
    (disabled,) = user_events(world)
    assert disabled.action == "user.disabled"
    assert disabled.details["user_id"] == world.a.client_user_id
    assert disabled.client_id == world.a.client_id and disabled.actor_id == world.a.admin_id

    response = post_action(client, world, world.a.client_user_id, "enable")
    assert "Access of Alpha Contact 1 enabled." in client.get(response.location).get_data(
        as_text=True
    )
    assert status_of(world, world.a.client_user_id) is UserStatus.ACTIVE
    assert [e.action for e in user_events(world)] == ["user.disabled", "user.enabled"]
    assert login(app.test_client(), world.a.slug, world.a.client_user_email).status_code == 302


def test_disabling_a_staff_user(app, client, world):
    tech = app.test_client()
    login(tech, world.a.slug, world.a.tech_email)
    login(client, world.a.slug, world.a.admin_email)
    with bound_to(db.session, world.a.tenant_id):
        tech_id = db.session.scalar(select(User.id).where(User.email == world.a.tech_email))
    post_action(client, world, tech_id, "disable")
    assert status_of(world, tech_id) is UserStatus.DISABLED
    assert tech.get(f"/{world.a.slug}/clients/").status_code == 302
    # Disabling again changes nothing and writes no second event.
    response = post_action(client, world, tech_id, "disable")
    assert "Nothing was changed." in client.get(response.location).get_data(as_text=True)
    assert [e.action for e in user_events(world)] == ["user.disabled"]


def test_an_administrator_cannot_disable_themselves(client, world):
    login(client, world.a.slug, world.a.admin_email)
    page = client.get(users_url(world, "?q=Alpha+Admin")).get_data(as_text=True)
    assert f"/admin/users/{world.a.admin_id}/disable" not in page, "no button on one's own row"
    response = post_action(client, world, world.a.admin_id, "disable")
    assert "You cannot disable your own access." in client.get(response.location).get_data(
        as_text=True
    )
    assert status_of(world, world.a.admin_id) is UserStatus.ACTIVE
    assert user_events(world) == []


def office_manager(app, world, permissions=("tenant.admin",)):
    """Signed in with a custom role that administers the tenant but holds ``permissions``
    only; returns the browser and the user's id."""
    with bound_to(db.session, world.a.tenant_id):
        role = Role(name="Office manager")
        role.grants = [RolePermission(permission=name) for name in permissions]
        db.session.add(role)
        db.session.commit()
    manager_id = add_staff(world, "manager@alpha.test", "Alpha Manager", role)
    manager = app.test_client()
    login(manager, world.a.slug, "manager@alpha.test")
    return manager, manager_id


def test_the_last_active_administrator_cannot_be_disabled(app, world):
    """Not even by a user who holds every permission the Administrator holds."""
    deputy, _deputy_id = office_manager(app, world, STAFF_PERMISSIONS)
    response = post_action(deputy, world, world.a.admin_id, "disable")
    page = deputy.get(response.location).get_data(as_text=True)
    assert "Alpha Admin is the last active administrator" in page
    assert status_of(world, world.a.admin_id) is UserStatus.ACTIVE
    assert user_events(world) == []

    # With a second active administrator, the first one can be disabled.
    add_staff(world, "admin2@alpha.test", "Alpha Second Admin", SystemRole.ADMINISTRATOR)
    post_action(deputy, world, world.a.admin_id, "disable")
    assert status_of(world, world.a.admin_id) is UserStatus.DISABLED


def test_a_lesser_administrator_is_offered_no_button_on_a_stronger_user_and_refused(app, world):
    """An Office manager (tenant.admin, clients.view and the chat) may not disable,
    enable or re-invite the Administrator nor a Technician: each holds a permission they
    lack."""
    manager, _manager_id = office_manager(app, world, ("tenant.admin", "clients.view", "chat.use"))
    clerk_id = add_staff(world, "clerk@alpha.test", "Alpha Clerk", "Staff")
    with bound_to(db.session, world.a.tenant_id):
        tech = db.session.scalar(select(User).where(User.email == world.a.tech_email))
        tech.status, tech_id = UserStatus.DISABLED, tech.id
        invited = create_staff_user(
            email="newtech@alpha.test", name="New Tech", password=None, role=tech.role
        )
        db.session.commit()
        invited_id = invited.id

    page = manager.get(users_url(world)).get_data(as_text=True)
    for stronger in (world.a.admin_id, tech_id, invited_id):
        for action in ("disable", "enable", "resend", "edit"):
            assert f"/admin/users/{stronger}/{action}" not in page, (stronger, action)
    assert "Holds permissions you do not" in page
    assert f"/admin/users/{clerk_id}/disable" in page and f"/admin/users/{clerk_id}/edit" in page
    assert f"/admin/users/{world.a.client_user_id}/disable" in page

    for user_id, action, message in (
        (world.a.admin_id, "disable", "Alpha Admin holds permissions you do not (access.grant,"),
        (tech_id, "enable", "Alpha Tech holds permissions you do not (clients.view_all, reque"),
        (invited_id, "resend", "New Tech holds permissions you do not (clients.view_all, reque"),
    ):
        response = post_action(manager, world, user_id, action)
        assert response.status_code == 302, action
        assert message in manager.get(response.location).get_data(as_text=True), action
    assert status_of(world, world.a.admin_id) is UserStatus.ACTIVE
    assert status_of(world, tech_id) is UserStatus.DISABLED
    assert user_events(world) == []
    with bound_to(db.session, world.a.tenant_id):
        assert db.session.scalars(select(Invitation)).all() == []

    # Users within the manager's power are theirs to manage.
    post_action(manager, world, clerk_id, "disable")
    post_action(manager, world, world.a.client_user_id, "disable")
    assert status_of(world, clerk_id) is UserStatus.DISABLED
    assert status_of(world, world.a.client_user_id) is UserStatus.DISABLED


def test_the_buttons_are_csrf_protected(client, world):
    login(client, world.a.slug, world.a.admin_email)
    url = f"/{world.a.slug}/admin/users/{world.a.client_user_id}/disable"
    assert client.post(url).status_code == 400
    assert client.post(url, data={"csrf_token": "forged"}).status_code == 400
    assert status_of(world, world.a.client_user_id) is UserStatus.ACTIVE
    assert user_events(world) == []


def test_a_user_of_another_tenant_is_not_found(client, world):
    login(client, world.a.slug, world.a.admin_email)
    token = csrf_token(client.get(users_url(world)))
    for action in ("disable", "enable"):
        url = f"/{world.a.slug}/admin/users/{world.b.client_user_id}/{action}"
        assert client.post(url, data={"csrf_token": token}).status_code == 404
    db.session.expire_all()
    with bound_to(db.session, world.b.tenant_id):
        assert db.session.get(User, world.b.client_user_id).status is UserStatus.ACTIVE


def test_the_list_costs_the_same_statements_for_more_users(app, client, world):
    login(client, world.a.slug, world.a.admin_email)

    def statements() -> int:
        seen = []
        listener = event.listens_for(db.engine, "before_cursor_execute")(
            lambda *args: seen.append(args[2])
        )
        try:
            assert client.get(users_url(world)).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    before = statements()
    for number in range(6):
        add_staff(
            world,
            f"staff{number}@alpha.test",
            f"Alpha Staff {number}",
            "Staff",
            branch=f"Branch {number}",
        )
    assert statements() == before, "role and branch are loaded with the users, not per row"


def test_resend_from_the_list_replaces_an_invited_users_link(app, world):
    from portal.models import Invitation, InvitationState, Tenant
    from portal.services import invitations
    from portal.services.actor import Actor

    with bound_to(db.session, world.a.tenant_id):
        user = db.session.get(User, world.a.client_user_id)
        user.status = UserStatus.INVITED
        first = invitations.invite(user, actor=Actor(db.session.get(Tenant, world.a.tenant_id)))
        db.session.commit()
        first_id = first.id
    browser = app.test_client()
    login(browser, world.a.slug, world.a.admin_email)
    page = browser.get(f"/{world.a.slug}/admin/users")
    assert "Resend access email to" in page.get_data(as_text=True)
    response = browser.post(
        f"/{world.a.slug}/admin/users/{world.a.client_user_id}/resend",
        data={"csrf_token": csrf_token(page)},
    )
    assert response.status_code == 302
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        states = dict(db.session.execute(select(Invitation.id, Invitation.state)).all())
    assert states[first_id] is InvitationState.REVOKED
    assert sorted(states.values()) == sorted([InvitationState.REVOKED, InvitationState.PENDING])
