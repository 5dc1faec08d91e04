"""A client's contact keeps its company's coordinates and its own card current;
what it may not change is never saved, and every change is in the Log tab."""

from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Client, Contact, User
from portal.services import clients as client_service
from portal.tenancy import bound_to
from tests.conftest import acting, login
from tests.test_clients import log_of, post_form

COMPANY = {
    "billing_address": "1, Avenue du Champ de Gretz",
    "billing_city": "Verton",
    "billing_province": "",
    "billing_country": "FR",
    "billing_postal_code": "62180",
    "shipping_same_as_billing": "y",
    "shipping_country": "",
    "phone": "+33 1 88 33 58 46",
    "email": "contact@jmactions.example",
}


def client_of(world) -> Client:
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        return db.session.get(Client, world.a.client_id)


def test_the_contact_updates_the_company_and_staff_see_it_changed_by_the_client(app, world):
    browser = app.test_client()
    login(browser, world.a.slug, world.a.client_user_email)
    assert post_form(browser, f"/{world.a.slug}/account/company", COMPANY).status_code == 302
    company = client_of(world)
    assert company.phone == "+33 1 88 33 58 46" and company.billing_city == "Verton"
    event = log_of(world.a.tenant_id, world.a.client_id)[-1]
    assert event.action == "client.updated" and event.actor_id == world.a.client_user_id
    staff = app.test_client()
    login(staff, world.a.slug, world.a.admin_email)
    log = staff.get(f"/{world.a.slug}/clients/{world.a.client_id}/log").get_data(as_text=True)
    assert "changed by the client" in log and "+33 1 88 33 58 46" in log


def test_forged_read_only_fields_are_ignored_and_recorded(app, world):
    browser = app.test_client()
    login(browser, world.a.slug, world.a.client_user_email)
    forged = {
        **COMPANY,
        "name": "Hijacked",
        "code": "X1",
        "status": "archived",
        "branch_id": "1",
        "bill_to_id": str(world.a.other_client_id),
    }
    assert post_form(browser, f"/{world.a.slug}/account/company", forged).status_code == 302
    company = client_of(world)
    assert (company.name, company.code, company.status.value, company.bill_to_id) == (
        world.a.client_name,
        "ALP1",
        "active",
        None,
    )
    with bound_to(db.session, world.a.tenant_id):
        refused = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "account.forged_fields")
        )
    assert refused.details["fields"] == ["bill_to_id", "branch_id", "code", "name", "status"]


def test_wrong_input_is_refused_at_the_field_and_nothing_is_saved(app, world):
    browser = app.test_client()
    login(browser, world.a.slug, world.a.client_user_email)
    response = post_form(
        browser,
        f"/{world.a.slug}/account/company",
        {**COMPANY, "billing_postal_code": "ABC", "email": "nope"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "such as 75001" in body and "Enter an email address" in body
    assert client_of(world).billing_city == "Montréal"


def test_the_contact_updates_its_own_card(app, world):
    browser = app.test_client()
    login(browser, world.a.slug, world.a.client_user_email)
    response = post_form(
        browser,
        f"/{world.a.slug}/account/card",
        {
            "title": "Gérant",
            "department": "Direction",
            "phone": "514 555 0188",
            "mobile": "",
            "fax": "",
            "location": "Siège",
            "locale": "en",
            "name": "Not Mine",
        },
    )
    assert response.status_code == 302
    with bound_to(db.session, world.a.tenant_id):
        contact = db.session.get(Contact, world.a.contact_id)
        assert (contact.title, contact.phone, contact.name) == (
            "Gérant",
            "+1 514-555-0188",
            world.a.contact_name,
        )
    event = log_of(world.a.tenant_id, world.a.client_id)[-1]
    assert event.action == "contact.updated" and event.details["changes"]["title"] == [
        None,
        "Gérant",
    ]


def test_staff_cannot_use_the_account_pages(app, world):
    browser = app.test_client()
    login(browser, world.a.slug, world.a.admin_email)
    assert browser.get(f"/{world.a.slug}/account/company").status_code == 403


def test_the_client_sees_its_companys_history_and_nothing_else(app, world):
    client_user = app.test_client()
    login(client_user, world.a.slug, world.a.client_user_email)
    post_form(
        client_user,
        f"/{world.a.slug}/account/card",
        {
            "title": "Gérant",
            "department": "",
            "phone": "",
            "mobile": "",
            "fax": "",
            "location": "",
            "locale": "",
        },
    )
    post_form(client_user, f"/{world.a.slug}/account/company", {**COMPANY, "name": "Forged"})
    with bound_to(db.session, world.a.tenant_id):
        admin = db.session.get(User, world.a.admin_id)
        for client_id, city in (
            (world.a.client_id, "Boulogne"),
            (world.a.other_client_id, "Lille"),
        ):
            client_service.update_client(
                db.session.get(Client, client_id),
                {"billing_city": city},
                actor=acting(admin),
            )
        db.session.commit()

    history = client_user.get(f"/{world.a.slug}/account/history")
    body = history.get_data(as_text=True)
    assert history.status_code == 200
    assert "Gérant" in body and "Verton" in body, "its own changes"
    assert "Boulogne" in body and "Alpha Admin" in body, "the staff's changes"
    assert "Lille" not in body and world.a.other_client_name not in body, "another client's"
    assert "Refused" not in body and "127.0.0.1" not in body, "no staff matters, no addresses"
    assert "Signed in" not in body
