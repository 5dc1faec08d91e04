"""Clients for staff: the form and its validation, the change log, search, filters,
sorting, pagination, archiving, and who sees which client."""

import pytest
from sqlalchemy import func, select

from portal.clients.forms import ClientForm
from portal.extensions import db
from portal.models import (
    AuditEvent,
    Branch,
    Client,
    ClientStatus,
    ClientType,
    Role,
    Tenant,
    User,
)
from portal.services import clients as client_service
from portal.services.tenants import create_staff_user
from portal.tenancy import bound_to
from tests.conftest import PASSWORD_HASH, acting, csrf_token, login

VALID = {
    "name": "Hervé David",
    "mode": "company",
    "status": "active",
    "type": "client",
    "language": "fr",
    "currency": "CAD",
    "billing_address": "12 rue Sainte-Catherine",
    "billing_city": "Montréal",
    "billing_province": "QC",
    "billing_country": "CA",
    "billing_postal_code": "h2x1y4",
    "shipping_same_as_billing": "y",
    "shipping_country": "",
    "phone": "514 555 0123",
    "email": "Info@HerveDavid.example",
    "website": "hervedavid.example",
    "branch_id": "",
}


def post_form(client, url: str, data: dict):
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return client.post(url, data={"csrf_token": csrf_token(page), **data})


def counts(tenant_id: int) -> tuple[int, int]:
    with bound_to(db.session, tenant_id):
        return (
            db.session.scalar(select(func.count()).select_from(Client)),
            db.session.scalar(select(func.count()).select_from(AuditEvent)),
        )


def log_of(tenant_id: int, client_id: int) -> list[AuditEvent]:
    with bound_to(db.session, tenant_id):
        return db.session.scalars(
            select(AuditEvent).where(AuditEvent.client_id == client_id).order_by(AuditEvent.id)
        ).all()


def staff_user(world, *, role: str, branch: str | None = None, email: str = "x@alpha.test"):
    with bound_to(db.session, world.a.tenant_id):
        branch_id = None
        if branch:
            record = Branch(name=branch)
            db.session.add(record)
            db.session.flush()
            branch_id = record.id
        user = create_staff_user(
            email=email,
            name=email,
            password=None,
            role=db.session.scalar(select(Role).where(Role.name == role)),
        )
        user.password_hash, user.branch_id = PASSWORD_HASH, branch_id
        user.status = user.status.ACTIVE
        db.session.commit()
        return user.id, branch_id


def test_staff_creates_a_client_with_normalised_values_and_a_log_entry(client, world):
    login(client, world.a.slug, world.a.admin_email)
    response = post_form(client, f"/{world.a.slug}/clients/new", VALID)
    assert response.status_code == 302
    with bound_to(db.session, world.a.tenant_id):
        created = db.session.scalar(select(Client).where(Client.name == "Hervé David"))
        assert created.code == "1000", "a blank code takes the next free number"
        assert created.billing_postal_code == "H2X 1Y4"
        assert created.phone == "+1 514-555-0123"
        assert created.email == "info@hervedavid.example"
        assert created.website == "https://hervedavid.example"
        assert created.shipping_same_as_billing and created.shipping_country is None
    (event,) = log_of(world.a.tenant_id, created.id)
    assert event.action == "client.created"
    assert event.details["changes"]["name"] == [None, "Hervé David"]
    page = client.get(response.location).get_data(as_text=True)
    assert "H2X 1Y4" in page and "Canada" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "Enter an email address"),
        ("billing_country", "ZZ", "Not a valid choice"),
        ("name", "x" * 10_000, "longer than 200"),
        ("name", "   ", "This field is required"),
        ("billing_postal_code", "ABC", "such as H2X 1Y4"),
        ("phone", "12", "Enter a valid phone number"),
        ("website", "javascript:alert(1)", "Enter a web address"),
        ("currency", "XYZ", "Not a valid choice"),
        ("language", "zz", "Not a valid choice"),
        ("code", "a b", "Use letters, digits"),
        ("bill_to", "BET1", "No client has this code"),
        ("branch_id", "999999", "Not a valid choice"),
    ],
)
def test_wrong_input_gets_a_message_at_the_field_and_saves_nothing(
    client, world, field, value, message
):
    login(client, world.a.slug, world.a.admin_email)
    before = counts(world.a.tenant_id)
    response = post_form(client, f"/{world.a.slug}/clients/new", {**VALID, field: value})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="{field}-error"' in body
    assert message in body
    assert "Nothing was saved" in body
    assert counts(world.a.tenant_id) == before


def test_us_and_french_postal_codes_are_checked_too(client, world):
    login(client, world.a.slug, world.a.admin_email)
    for country, code, expected in (("US", "902101234", "90210-1234"), ("FR", "62180", "62180")):
        data = {
            **VALID,
            "name": f"Client {country}",
            "billing_country": country,
            "billing_postal_code": code,
            "phone": "",
        }
        assert post_form(client, f"/{world.a.slug}/clients/new", data).status_code == 302
        with bound_to(db.session, world.a.tenant_id):
            saved = db.session.scalar(select(Client).where(Client.name == f"Client {country}"))
            assert saved.billing_postal_code == expected
    bad = {**VALID, "billing_country": "FR", "billing_postal_code": "7500"}
    assert "such as 75001" in post_form(client, f"/{world.a.slug}/clients/new", bad).get_data(
        as_text=True
    )


def test_a_code_already_taken_is_refused_at_the_field(client, world):
    login(client, world.a.slug, world.a.admin_email)
    response = post_form(client, f"/{world.a.slug}/clients/new", {**VALID, "code": "ALP2"})
    assert "Another client already has this code." in response.get_data(as_text=True)


@pytest.mark.parametrize("page", ["new", "edit"])
def test_a_code_taken_after_the_forms_check_is_refused_at_the_field_and_nothing_saved(
    client, world, monkeypatch, page
):
    """The race the form's check cannot see: another client took the code meanwhile."""
    monkeypatch.setattr(ClientForm, "validate_code", lambda form, field: None)
    login(client, world.a.slug, world.a.admin_email)
    url = f"/{world.a.slug}/clients/" + ("new" if page == "new" else f"{world.a.client_id}/edit")
    response = post_form(client, url, {**VALID, "code": "ALP2", "name": "Racing"})
    assert response.status_code == 200
    assert "Another client already has this code." in response.get_data(as_text=True)
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        assert db.session.scalar(select(Client.id).where(Client.name == "Racing")) is None
        assert db.session.get(Client, world.a.client_id).code == "ALP1"
        assert not db.session.scalars(
            select(AuditEvent.id).where(AuditEvent.action.like("client.%"))
        ).all()


def test_edit_logs_each_changed_field_with_old_and_new_values(client, world):
    login(client, world.a.slug, world.a.admin_email)
    url = f"/{world.a.slug}/clients/{world.a.client_id}/edit"
    data = {
        **VALID,
        "code": "ALP1",
        "name": "Alpha Renamed",
        "bill_to": "ALP2",
        "billing_country": "CA",
        "billing_postal_code": "H2X 1Y4",
    }
    assert post_form(client, url, data).status_code == 302
    event = log_of(world.a.tenant_id, world.a.client_id)[-1]
    assert event.action == "client.updated"
    changes = event.details["changes"]
    assert changes["name"] == [world.a.client_name, "Alpha Renamed"]
    assert changes["bill_to"] == [None, f"ALP2 {world.a.other_client_name}"]
    assert "code" not in changes
    log_page = client.get(f"/{world.a.slug}/clients/{world.a.client_id}/log")
    body = log_page.get_data(as_text=True)
    assert "Alpha Renamed" in body and world.a.client_name in body and "Client changed" in body

    assert post_form(client, url, data).status_code == 302
    assert len(log_of(world.a.tenant_id, world.a.client_id)) == 1, "no change, no log entry"


def test_a_client_cannot_be_billed_to_itself(client, world):
    login(client, world.a.slug, world.a.admin_email)
    response = post_form(
        client,
        f"/{world.a.slug}/clients/{world.a.client_id}/edit",
        {**VALID, "code": "ALP1", "bill_to": "ALP1"},
    )
    assert "cannot be billed to itself" in response.get_data(as_text=True)


def test_archiving_asks_for_confirmation_then_archives_and_logs(client, world):
    login(client, world.a.slug, world.a.admin_email)
    url = f"/{world.a.slug}/clients/{world.a.client_id}/archive"
    assert "Archive this client" in client.get(url).get_data(as_text=True)
    with bound_to(db.session, world.a.tenant_id):
        assert db.session.get(Client, world.a.client_id).status is ClientStatus.ACTIVE
    assert post_form(client, url, {}).status_code == 302
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        assert db.session.get(Client, world.a.client_id).status is ClientStatus.ARCHIVED
    assert log_of(world.a.tenant_id, world.a.client_id)[-1].action == "client.archived"


@pytest.mark.parametrize(
    "query",
    ["herve", "HERVÉ", "hervé dav", "david", "8005551", "info@hervedavid", "5145550123", "514 555"],
)
def test_search_ignores_case_and_accents_and_finds_by_name_code_email_phone(client, world, query):
    with bound_to(db.session, world.a.tenant_id):
        admin = db.session.get(User, world.a.admin_id)
        client_service.create_client(
            db.session.get(Tenant, world.a.tenant_id),
            {
                "code": "8005551",
                "name": "Hervé David",
                "email": "info@hervedavid.example",
                "phone": "+1 514-555-0123",
            },
            actor=acting(admin),
        )
        db.session.commit()
    login(client, world.a.slug, world.a.admin_email)
    body = client.get(f"/{world.a.slug}/clients/", query_string={"q": query}).get_data(as_text=True)
    assert "Hervé David" in body
    assert world.a.client_name not in body


def test_search_without_match_says_so(client, world):
    login(client, world.a.slug, world.a.admin_email)
    body = client.get(f"/{world.a.slug}/clients/?q=nobody").get_data(as_text=True)
    assert "No client matches these criteria." in body


def test_filters_by_status_type_and_branch(client, world):
    with bound_to(db.session, world.a.tenant_id):
        branch = Branch(name="Laval")
        db.session.add(branch)
        db.session.flush()
        other = db.session.get(Client, world.a.other_client_id)
        other.status, other.type, other.branch_id = (
            ClientStatus.INACTIVE,
            ClientType.PROSPECT,
            branch.id,
        )
        db.session.commit()
        branch_id = branch.id
    login(client, world.a.slug, world.a.admin_email)
    for query in ({"status": "inactive"}, {"type": "prospect"}, {"branch": str(branch_id)}):
        body = client.get(f"/{world.a.slug}/clients/", query_string=query).get_data(as_text=True)
        assert world.a.other_client_name in body and world.a.client_name not in body, query
    body = client.get(f"/{world.a.slug}/clients/?status=bogus&branch=x").get_data(as_text=True)
    assert world.a.client_name in body and world.a.other_client_name in body


def test_sorting_and_pagination(client, world):
    with bound_to(db.session, world.a.tenant_id):
        for number in range(30):
            db.session.add(Client(code=f"Z{number:02d}", name=f"Zed {number:02d}"))
        db.session.commit()
    login(client, world.a.slug, world.a.admin_email)
    first = client.get(f"/{world.a.slug}/clients/?sort=code&dir=desc").get_data(as_text=True)
    assert first.index("Zed 29") < first.index("Zed 28")
    assert 'rel="next"' in first and 'rel="prev"' not in first
    second = client.get(f"/{world.a.slug}/clients/?sort=code&dir=desc&page=2").get_data(
        as_text=True
    )
    assert "Zed 04" in second and "Zed 29" not in second
    assert 'rel="prev"' in second and 'rel="next"' not in second


def test_staff_without_view_all_see_only_assigned_clients(app, world):
    user_id, _ = staff_user(world, role="Staff")
    browser = app.test_client()
    login(browser, world.a.slug, "x@alpha.test")
    listing = browser.get(f"/{world.a.slug}/clients/").get_data(as_text=True)
    assert world.a.client_name not in listing and "No clients yet" in listing
    assert browser.get(f"/{world.a.slug}/clients/{world.a.client_id}").status_code == 404
    assert browser.get(f"/{world.a.slug}/contacts/{world.a.contact_id}").status_code == 404

    with bound_to(db.session, world.a.tenant_id):
        admin = db.session.get(User, world.a.admin_id)
        client_service.assign(
            db.session.get(Client, world.a.client_id),
            db.session.get(User, user_id),
            actor=acting(admin),
        )
        db.session.commit()
    listing = browser.get(f"/{world.a.slug}/clients/").get_data(as_text=True)
    assert world.a.client_name in listing and world.a.other_client_name not in listing
    assert browser.get(f"/{world.a.slug}/clients/{world.a.client_id}").status_code == 200
    assert browser.get(f"/{world.a.slug}/contacts/{world.a.contact_id}").status_code == 200
    assert browser.get(f"/{world.a.slug}/clients/{world.a.other_client_id}").status_code == 404


def test_branch_limited_staff_see_only_their_branch(app, world):
    _, branch_id = staff_user(world, role="Technician", branch="Laval")
    with bound_to(db.session, world.a.tenant_id):
        db.session.get(Client, world.a.client_id).branch_id = branch_id
        db.session.commit()
    browser = app.test_client()
    login(browser, world.a.slug, "x@alpha.test")
    listing = browser.get(f"/{world.a.slug}/clients/").get_data(as_text=True)
    assert world.a.client_name in listing and world.a.other_client_name not in listing
    assert browser.get(f"/{world.a.slug}/clients/{world.a.other_client_id}").status_code == 404
    assert browser.get(f"/{world.a.slug}/contacts/{world.a.other_contact_id}").status_code == 404


def test_staff_without_view_all_who_creates_a_client_is_assigned_to_it(app, world):
    staff_user(world, role="Sales administration")
    with bound_to(db.session, world.a.tenant_id):
        role = db.session.scalar(select(Role).where(Role.name == "Sales administration"))
        role.grants = [grant for grant in role.grants if grant.permission != "clients.view_all"]
        db.session.commit()
    browser = app.test_client()
    login(browser, world.a.slug, "x@alpha.test")
    response = post_form(browser, f"/{world.a.slug}/clients/new", VALID)
    assert response.status_code == 302
    assert browser.get(response.location).status_code == 200


def test_editing_needs_clients_edit(app, world):
    browser = app.test_client()
    login(browser, world.a.slug, world.a.tech_email)
    assert browser.get(f"/{world.a.slug}/clients/new").status_code == 403
    edit = f"/{world.a.slug}/clients/{world.a.client_id}/edit"
    assert browser.get(edit).status_code == 403
    token = csrf_token(browser.get(f"/{world.a.slug}/logout"))
    assert browser.post(edit, data={"csrf_token": token, **VALID}).status_code == 403
    with bound_to(db.session, world.a.tenant_id):
        assert db.session.get(Client, world.a.client_id).name == world.a.client_name
    page = browser.get(f"/{world.a.slug}/clients/{world.a.client_id}").get_data(as_text=True)
    assert "/edit" not in page, "no Edit button without the permission"


def test_staff_tab_assigns_and_unassigns_with_log(client, world):
    login(client, world.a.slug, world.a.admin_email)
    with bound_to(db.session, world.a.tenant_id):
        tech_id = db.session.scalar(select(User.id).where(User.email == world.a.tech_email))
    url = f"/{world.a.slug}/clients/{world.a.client_id}/staff"
    assert post_form(client, url, {"user_id": str(tech_id)}).status_code == 302
    assert "Alpha Tech" in client.get(url).get_data(as_text=True)
    remove = f"{url}/{tech_id}/remove"
    token = csrf_token(client.get(url))
    assert client.post(remove, data={"csrf_token": token}).status_code == 302
    actions = [event.action for event in log_of(world.a.tenant_id, world.a.client_id)]
    assert actions == ["client.assigned", "client.unassigned"]
