"""Staff users (issue 8): invited by email with a role and limits through the tracked
invitation and the outbox, changed by administrators; the last Administrator stays."""

import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.mail import outbox
from portal.models import AuditEvent, Branch, Client, CreditAccount, Role, SystemRole, User
from portal.tenancy import bound_to
from tests.conftest import csrf_token, login
from tests.test_access import choose_password, links_in
from tests.test_admin_users import add_staff
from tests.test_cli import DEMO_PASSWORD, run, tenant_named
from tests.test_credit import signed_in
from tests.test_outbox import SMTP, smtp_server  # noqa: F401 - the fixture is used by name


def post(browser, url: str, data: dict, **kwargs):
    return browser.post(url, data={"csrf_token": csrf_token(browser.get(url)), **data}, **kwargs)


def demo_row(model, **criteria):
    db.session.expire_all()
    with bound_to(db.session, tenant_named("demo").id):
        return db.session.scalar(select(model).filter_by(**criteria))


@pytest.mark.parametrize("app_config", [SMTP])
def test_a_technician_limited_to_laval_is_invited_then_given_the_override(
    app,
    app_config,
    smtp_server,  # noqa: F811
):
    run(app, "demo", "--password", DEMO_PASSWORD)
    outbox.deliver_due()
    smtp_server.messages.clear()
    admin = app.test_client()
    assert login(admin, "demo", "admin@demo.test", DEMO_PASSWORD).status_code == 302

    assert post(admin, "/demo/admin/branches", {"name": "Laval"}).status_code == 302
    laval = demo_row(Branch, name="Laval")
    with bound_to(db.session, laval.tenant_id):  # S2M ROUTAGE is served from Laval
        db.session.scalar(select(Client).where(Client.name == "S2M ROUTAGE")).branch_id = laval.id
        db.session.commit()
    technician_role = demo_row(Role, name="Technician")
    invited = post(
        admin,
        "/demo/admin/users/new",
        {
            "name": "Luc Laval",
            "email": "Luc.Laval@demo.example",
            "role_id": technician_role.id,
            "branch_id": laval.id,
            "initials": "llv",
            "phone": "514 555 0142",
        },
    )
    assert invited.status_code == 302
    luc = demo_row(User, email="luc.laval@demo.example")
    assert (luc.initials, luc.phone, luc.branch_id, luc.status.value) == (
        "LLV",
        "+1 514-555-0142",
        laval.id,
        "invited",
    )

    assert outbox.deliver_due().sent == 1
    (mail,) = smtp_server.messages
    assert mail["To"] == "luc.laval@demo.example"
    (link,) = links_in([mail])
    browser = app.test_client()
    assert choose_password(browser, link).status_code == 302
    clients = browser.get("/demo/clients/").get_data(as_text=True)
    assert "S2M ROUTAGE" in clients and "JM-ACTIONS" not in clients

    assert (
        post(
            admin,
            "/demo/admin/settings",
            {  # S2M at -15 min is now beyond the limit
                "name": "M. Répare Tout",
                "credit_threshold_minutes": "10",
                "credit_alert_minutes": "60",
                "day_rate": "480.00",
                "invitation_days": "7",
                "audit_address_days": "365",
                "default_locale": "en",
                "support_phone": "+1 514-555-0100",
                "review_url": "https://reviews.example.com/m-repare-tout",
            },
        ).status_code
        == 302
    )
    account = demo_row(CreditAccount, customer_id="8005553")
    page = browser.get(f"/demo/support/accounts/{account.id}").get_data(as_text=True)
    assert 'name="override_reason"' not in page and "disabled" in page

    assert (
        post(
            admin,
            "/demo/admin/roles/new",
            {
                "name": "Support lead",
                "permissions": [
                    "clients.view",
                    "clients.view_all",
                    "support.record",
                    "support.override",
                ],
            },
        ).status_code
        == 302
    )
    lead = demo_row(Role, name="Support lead")
    assert (
        post(
            admin,
            f"/demo/admin/users/{luc.id}/edit",
            {
                "name": "Luc Laval",
                "role_id": lead.id,
                "branch_id": laval.id,
                "initials": "LLV",
                "phone": "+1 514-555-0142",
            },
        ).status_code
        == 302
    )
    assert demo_row(User, email="luc.laval@demo.example").role_id == lead.id

    page = browser.get(f"/demo/support/accounts/{account.id}")
    assert 'name="override_reason"' in page.get_data(as_text=True)
    recorded = browser.post(
        f"/demo/support/accounts/{account.id}/interventions",
        data={
            "csrf_token": csrf_token(page),
            "summary": "Serveur d'impression bloqué",
            "minutes": "20",
            "normal": "Normal",
            "override_reason": "Contrat en renouvellement",
        },
    )
    assert recorded.status_code == 302
    assert demo_row(CreditAccount, customer_id="8005553").balance_minutes == -35
    with bound_to(db.session, laval.tenant_id):
        actions = db.session.scalars(
            select(AuditEvent.action)
            .where(
                AuditEvent.action.in_(
                    [
                        "branch.created",
                        "user.invited",
                        "role.created",
                        "user.updated",
                        "tenant.settings_changed",
                    ]
                )
            )
            .order_by(AuditEvent.id)
        ).all()
    assert actions == [
        "branch.created",
        "user.invited",
        "tenant.settings_changed",
        "role.created",
        "user.updated",
    ]


def test_the_last_administrator_cannot_be_demoted(app, world):
    admin = signed_in(app, world, world.a.admin_email)
    edit = f"/{world.a.slug}/admin/users/{world.a.admin_id}/edit"
    refused = post(admin, edit, {"name": "Alpha Admin", "role_id": world.a.role_id})
    assert refused.status_code == 400
    assert "is the last active administrator" in refused.get_data(as_text=True)
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        assert db.session.get(User, world.a.admin_id).role.system is SystemRole.ADMINISTRATOR
    add_staff(world, "second@alpha.test", "Second Admin", SystemRole.ADMINISTRATOR)
    assert post(admin, edit, {"name": "Alpha Admin", "role_id": world.a.role_id}).status_code == 302


def test_an_invitation_needs_a_free_valid_email_and_known_choices(app, world):
    admin = signed_in(app, world, world.a.admin_email)
    add_staff(world, "taken@alpha.example", "Tara Taken", "Staff")
    url = f"/{world.a.slug}/admin/users/new"
    for data, message in (
        ({"email": "Taken@Alpha.example"}, "Another user already signs in with this email."),
        ({"email": "not an address"}, "Enter an email address such as"),
        ({"role_id": "999999"}, "Not a valid choice."),
        ({"branch_id": "999999"}, "Not a valid choice."),
        ({"allowed_network": "300.1.2.3"}, "203.0.113"),
        ({"initials": "TOO-LONG-9"}, "Up to 8 letters or digits"),
    ):
        response = post(
            admin,
            url,
            {
                "name": "New Person",
                "email": "new@alpha.example",
                "role_id": world.a.role_id,
                **data,
            },
        )
        assert response.status_code == 400, data
        assert message in response.get_data(as_text=True), data
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        assert db.session.scalar(select(User).where(User.name == "New Person")) is None


def test_a_limited_administrator_only_offers_roles_within_their_own_power(app, world):
    admin = signed_in(app, world, world.a.admin_email)
    post(
        admin,
        f"/{world.a.slug}/admin/roles/new",
        {"name": "Office", "permissions": ["tenant.admin", "clients.view", "chat.use"]},
    )
    add_staff(world, "office@alpha.test", "Olive Office", "Office")
    office = signed_in(app, world, "office@alpha.test")
    form = office.get(f"/{world.a.slug}/admin/users/new").get_data(as_text=True)
    assert ">Office</option>" in form and ">Staff</option>" in form
    assert ">Technician</option>" not in form and ">Administrator</option>" not in form
    forged = post(
        office,
        f"/{world.a.slug}/admin/users/new",
        {"name": "Sneaky", "email": "sneaky@alpha.example", "role_id": world.a.role_id},
    )
    assert forged.status_code == 400 and "Not a valid choice." in forged.get_data(as_text=True)


def test_a_contacts_access_is_edited_from_their_card(app, world):
    admin = signed_in(app, world, world.a.admin_email)
    response = admin.get(f"/{world.a.slug}/admin/users/{world.a.client_user_id}/edit")
    assert response.status_code == 302
    assert response.location.endswith(f"/{world.a.slug}/contacts/{world.a.contact_id}")


def test_a_lesser_administrator_can_neither_open_nor_change_a_stronger_user(app, world):
    """The lock-out of issue 16: an Office manager (tenant.admin, clients.view, chat) set
    the Administrator's network limit. Now the page and the change answer 403 and why."""
    admin = signed_in(app, world, world.a.admin_email)
    post(
        admin,
        f"/{world.a.slug}/admin/roles/new",
        {"name": "Office", "permissions": ["tenant.admin", "clients.view", "chat.use"]},
    )
    add_staff(world, "office@alpha.test", "Olive Office", "Office")
    office = signed_in(app, world, "office@alpha.test")
    edit = f"/{world.a.slug}/admin/users/{world.a.admin_id}/edit"
    page = office.get(edit)
    assert page.status_code == 403
    assert "Alpha Admin holds permissions you do not (access.grant," in page.get_data(as_text=True)
    token = csrf_token(office.get(f"/{world.a.slug}/admin/users"))
    for change in ({"allowed_network": "192.0.2.0/24"}, {"branch_id": str(world.a.branch_id)}):
        refused = office.post(
            edit,
            data={"csrf_token": token, "name": "Alpha Admin", "role_id": world.a.role_id, **change},
        )
        assert refused.status_code == 403, change
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        untouched = db.session.get(User, world.a.admin_id)
        assert (untouched.allowed_network, untouched.branch_id, untouched.role.system) == (
            None,
            None,
            SystemRole.ADMINISTRATOR,
        )
        assert "user.updated" not in db.session.scalars(select(AuditEvent.action)).all()
    admin.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert admin.get(f"/{world.a.slug}/admin/users").status_code == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [("allowed_network", "192.0.2.0/24"), ("branch_id", "branch")],
)
def test_the_last_administrator_is_limited_to_no_network_and_no_branch(app, world, field, value):
    admin = signed_in(app, world, world.a.admin_email)
    edit = f"/{world.a.slug}/admin/users/{world.a.admin_id}/edit"
    with bound_to(db.session, world.a.tenant_id):
        administrator = db.session.get(User, world.a.admin_id).role_id
    data = {
        "name": "Alpha Admin",
        "role_id": administrator,
        field: str(world.a.branch_id) if value == "branch" else value,
    }
    refused = post(admin, edit, data)
    assert refused.status_code == 400
    assert re.search(
        rf'id="{field}-error">Alpha Admin is the last active administrator without a network '
        "or branch limit",
        refused.get_data(as_text=True),
    )
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        untouched = db.session.get(User, world.a.admin_id)
        assert (untouched.allowed_network, untouched.branch_id) == (None, None)
        assert "user.updated" not in db.session.scalars(select(AuditEvent.action)).all()

    add_staff(world, "second@alpha.test", "Second Admin", SystemRole.ADMINISTRATOR)
    assert post(admin, edit, data).status_code == 302
