"""Tenant administration (issue 8): the settings of the business and its support desk,
and its branches, each change audited; others than administrators are refused."""

import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Branch, Client, OutboxMail, Role, Tenant, User
from portal.tenancy import bound_to
from tests.conftest import csrf_token
from tests.test_credit import record, set_balance, signed_in

SETTINGS = {
    "name": "Alpha Support Services",
    "support_sender_name": "Alpha Helpdesk",
    "support_sender_email": "Help@Alpha-Services.example",
    "support_phone": "+1 514-555-0199",
    "review_url": "reviews.example.com/alpha",
    "credit_threshold_minutes": "10",
    "credit_alert_minutes": "45",
    "day_rate": "520.00",
    "delay_flash": "Within the day",
    "invitation_days": "3",
    "audit_address_days": "90",
    "default_locale": "en",
}


def settings_url(world) -> str:
    return f"/{world.a.slug}/admin/settings"


def branches_url(world, suffix: str = "") -> str:
    return f"/{world.a.slug}/admin/branches{suffix}"


def tenant_row(world) -> Tenant:
    db.session.expire_all()
    return db.session.get(Tenant, world.a.tenant_id)


def events(world, prefix: str) -> list[AuditEvent]:
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        return db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.startswith(prefix)).order_by(AuditEvent.id)
        ).all()


def branch_named(world, name: str) -> Branch | None:
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        return db.session.scalar(select(Branch).where(Branch.name == name))


def post(browser, url: str, **data):
    return browser.post(url, data={"csrf_token": csrf_token(browser.get(url)), **data})


def test_the_admin_changes_the_settings_and_they_apply(app, world):
    admin = signed_in(app, world, world.a.admin_email)
    page = admin.get(settings_url(world)).get_data(as_text=True)
    assert 'value="Alpha Services"' in page and 'value="60"' in page
    assert f'href="/{world.a.slug}/admin/settings" aria-current="page"' in page
    assert f'href="/{world.a.slug}/support/" aria-current' not in page  # not Support too
    assert post(admin, settings_url(world), **SETTINGS).status_code == 302
    tenant = tenant_row(world)
    assert tenant.audit_address_days == 90
    assert (
        tenant.name,
        tenant.support_sender_email,
        tenant.review_url,
        tenant.credit_threshold_minutes,
        tenant.credit_alert_minutes,
        tenant.invitation_days,
    ) == (
        "Alpha Support Services",
        "Help@alpha-services.example",
        "https://reviews.example.com/alpha",
        10,
        45,
        3,
    )
    assert (str(tenant.day_rate), tenant.delay_flash, tenant.delay_high) == (
        "520.00",
        "Within the day",
        None,
    )
    (event,) = events(world, "tenant.")
    assert event.details["changes"]["credit_threshold_minutes"] == ["60", "10"]
    assert event.actor_id == world.a.admin_id
    assert "Nothing was changed." in admin.post(
        settings_url(world),
        data={
            "csrf_token": csrf_token(admin.get(settings_url(world))),
            **SETTINGS,
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert len(events(world, "tenant.")) == 1

    with bound_to(db.session, world.a.tenant_id):  # the client's email gets the recap
        db.session.get(Client, world.a.client_id).email = "billing@alpha-client.example"
        db.session.commit()
    tech = signed_in(app, world, world.a.tech_email)
    assert record(tech, world).status_code == 302
    with bound_to(db.session, world.a.tenant_id):
        recap = db.session.scalar(select(OutboxMail).where(OutboxMail.kind == "recap"))
    assert recap.from_address == "Alpha Helpdesk <Help@alpha-services.example>"
    assert "+1 514-555-0199" in recap.text_body

    set_balance(world, -15)  # beyond the new 10-minute threshold: refused
    refused = record(tech, world)
    assert refused.status_code == 409 and "beyond the 10 min allowed" in refused.get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("name", "x" * 121, "Field cannot be longer than 120 characters."),
        ("support_sender_email", "not an address", "Enter an email address such as"),
        ("review_url", "javascript:alert(1)", "Enter a web address such as"),
        ("credit_threshold_minutes", "-1", "Between 0 and 2400 minutes."),
        ("credit_threshold_minutes", "lots", "Not a valid integer value."),
        ("invitation_days", "0", "Between 1 and 30 days."),
        ("invitation_days", "9" * 30, "Between 1 and 30 days."),
        ("audit_address_days", "0", "Between 1 and 3650 days."),
        ("default_locale", "xx", "Not a valid choice."),
    ],
)
def test_wrong_settings_get_a_field_message_and_change_nothing(app, world, field, value, message):
    admin = signed_in(app, world, world.a.admin_email)
    response = post(admin, settings_url(world), **{**SETTINGS, field: value})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(rf'id="{field}-error">[^<]*{re.escape(message)}', page), page
    tenant = tenant_row(world)
    assert (tenant.name, tenant.credit_threshold_minutes) == ("Alpha Services", 60)
    assert events(world, "tenant.") == []


def test_branches_are_created_renamed_deactivated_and_deleted_only_when_unused(app, world):
    admin = signed_in(app, world, world.a.admin_email)
    assert "Alpha Branch" in admin.get(branches_url(world)).get_data(as_text=True)
    assert post(admin, branches_url(world), name="Laval").status_code == 302
    duplicate = post(admin, branches_url(world), name=" Laval ")
    assert duplicate.status_code == 400
    assert "Another branch already has this name." in duplicate.get_data(as_text=True)
    laval = branch_named(world, "Laval")
    rename = branches_url(world, f"/{laval.id}")
    assert post(admin, rename, name="Laval Nord").status_code == 302
    assert branch_named(world, "Laval Nord").id == laval.id

    token = csrf_token(admin.get(branches_url(world)))
    admin.post(branches_url(world, f"/{laval.id}/deactivate"), data={"csrf_token": token})
    assert branch_named(world, "Laval Nord").active is False
    access_form = admin.get(f"/{world.a.slug}/contacts/{world.a.contact_id}").get_data(as_text=True)
    assert not re.search(r"<option[^>]*>Laval Nord</option>", access_form)  # not offered
    admin.post(branches_url(world, f"/{laval.id}/activate"), data={"csrf_token": token})
    assert branch_named(world, "Laval Nord").active is True

    with bound_to(db.session, world.a.tenant_id):
        db.session.get(User, world.a.client_user_id).branch_id = laval.id
        db.session.commit()
    confirm = admin.get(branches_url(world, f"/{laval.id}/delete")).get_data(as_text=True)
    assert "it cannot be deleted" in confirm
    refused = admin.post(
        branches_url(world, f"/{laval.id}/delete"),
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert "deactivate it instead" in refused.get_data(as_text=True)
    assert branch_named(world, "Laval Nord") is not None

    with bound_to(db.session, world.a.tenant_id):
        db.session.get(User, world.a.client_user_id).branch_id = None
        db.session.commit()
    assert "cannot be undone" in admin.get(branches_url(world, f"/{laval.id}/delete")).get_data(
        as_text=True
    )
    admin.post(branches_url(world, f"/{laval.id}/delete"), data={"csrf_token": token})
    assert branch_named(world, "Laval Nord") is None
    assert [event.action for event in events(world, "branch.")] == [
        "branch.created",
        "branch.renamed",
        "branch.deactivated",
        "branch.activated",
        "branch.deleted",
    ]


@pytest.mark.parametrize("who", ["tech", "client"])
def test_others_than_administrators_get_403_and_nothing_changes(app, world, who):
    email = world.a.tech_email if who == "tech" else world.a.client_user_email
    browser = signed_in(app, world, email)
    token = csrf_token(
        browser.get(
            f"/{world.a.slug}/account/card"
            if who == "client"
            else f"/{world.a.slug}/support/accounts/{world.a.account_id}"
        )
    )
    with bound_to(db.session, world.a.tenant_id):
        db.session.add(Branch(name="Québec"))
        db.session.commit()
    quebec = branch_named(world, "Québec")
    for url, data in (
        (settings_url(world), SETTINGS),
        (branches_url(world), {"name": "Laval"}),
        (branches_url(world, f"/{quebec.id}"), {"name": "Renamed"}),
        (branches_url(world, f"/{quebec.id}/deactivate"), {}),
        (branches_url(world, f"/{quebec.id}/delete"), {}),
        (f"/{world.a.slug}/admin/roles/new", {"name": "Mine", "permissions": "tenant.admin"}),
        (f"/{world.a.slug}/admin/roles/{world.a.role_id}", {"name": "Renamed"}),
        (f"/{world.a.slug}/admin/roles/{world.a.role_id}/delete", {}),
        (
            f"/{world.a.slug}/admin/users/new",
            {"name": "Mole", "email": "mole@alpha.example", "role_id": world.a.role_id},
        ),
        (
            f"/{world.a.slug}/admin/users/{world.a.admin_id}/edit",
            {"name": "Deposed", "role_id": world.a.role_id},
        ),
        (f"/{world.a.slug}/admin/users/{world.a.admin_id}/disable", {}),
    ):
        assert browser.post(url, data={"csrf_token": token, **data}).status_code == 403, url
    assert tenant_row(world).name == "Alpha Services"
    assert branch_named(world, "Québec").active is True
    assert branch_named(world, "Laval") is None
    with bound_to(db.session, world.a.tenant_id):
        names = set(db.session.scalars(select(Role.name)))
        admin = db.session.get(User, world.a.admin_id)
        assert "Mine" not in names and "Technician" in names
        assert (admin.name, admin.status.value) == ("Alpha Admin", "active")
        assert db.session.scalar(select(User).where(User.name == "Mole")) is None


def test_the_audit_page_lists_the_tenants_events_with_filters(app, world):
    admin = signed_in(app, world, world.a.admin_email)
    post(admin, branches_url(world), name="Laval")
    post(admin, settings_url(world), **SETTINGS)
    other = signed_in(app, world, world.a.tech_email)  # signs in: an event by someone else
    assert other.get(f"/{world.a.slug}/clients/").status_code == 200
    audit = f"/{world.a.slug}/admin/audit"

    def rows(query: str = "") -> str:
        page = admin.get(audit + query).get_data(as_text=True)
        return page.split('<table class="log"', 1)[1] if "<table" in page else ""

    everything = rows()
    assert "Branch created" in everything and "Settings changed" in everything
    assert "Signed in" in everything and "Beta" not in everything  # never another tenant's
    only_admin = rows(f"?user={world.a.admin_id}")
    assert "Branch created" in only_admin and "Alpha Tech" not in only_admin
    only_branches = rows("?action=branch.created")
    assert "Branch created" in only_branches and "Settings changed" not in only_branches
    future = admin.get(f"{audit}?start=2999-01-01").get_data(as_text=True)
    assert "Nothing recorded matches these filters." in future
    for query in ("?start=nonsense", "?action=<script>", "?user=abc", "?page=-3"):
        response = admin.get(audit + query)
        assert response.status_code in (200, 400), query
        assert "<script>" not in response.get_data(as_text=True).split("<main", 1)[1]
    assert signed_in(app, world, world.a.tech_email).get(audit).status_code == 403
