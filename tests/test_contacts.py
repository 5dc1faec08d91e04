"""Contacts for staff: the + form, the contact card with Save, Close and
previous/next, archiving, and the log of every change."""

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Contact
from portal.tenancy import bound_to
from tests.conftest import csrf_token, login
from tests.test_clients import log_of, post_form


def contact_named(world, name: str) -> Contact | None:
    with bound_to(db.session, world.a.tenant_id):
        return db.session.scalar(select(Contact).where(Contact.name == name))


def test_plus_button_creates_a_contact_with_only_a_name(client, world):
    login(client, world.a.slug, world.a.admin_email)
    tab = client.get(f"/{world.a.slug}/clients/{world.a.client_id}/contacts").get_data(as_text=True)
    new_url = f"/{world.a.slug}/clients/{world.a.client_id}/contacts/new"
    assert f'href="{new_url}"' in tab and 'aria-label="Add a contact"' in tab
    response = post_form(client, new_url, {"name": "Mireille Couture"})
    assert response.status_code == 302
    created = contact_named(world, "Mireille Couture")
    assert created.client_id == world.a.client_id and created.title is None
    event = log_of(world.a.tenant_id, world.a.client_id)[-1]
    assert (event.action, event.details["contact"]) == ("contact.created", "Mireille Couture")


def test_contact_form_validates_at_the_field_and_saves_nothing(client, world):
    login(client, world.a.slug, world.a.admin_email)
    with bound_to(db.session, world.a.tenant_id):
        before = db.session.scalar(select(func.count()).select_from(Contact))
    url = f"/{world.a.slug}/clients/{world.a.client_id}/contacts/new"
    for data, message in (
        ({"name": ""}, "This field is required"),
        ({"name": "A", "email": "nope"}, "Enter an email address"),
        ({"name": "A", "phone": "123"}, "Enter a valid phone number"),
        ({"name": "A" * 5000}, "longer than 200"),
    ):
        body = post_form(client, url, data).get_data(as_text=True)
        assert message in body, data
    with bound_to(db.session, world.a.tenant_id):
        assert db.session.scalar(select(func.count()).select_from(Contact)) == before


def test_the_seed_contact_table_columns(client, world):
    with bound_to(db.session, world.a.tenant_id):
        contact = db.session.get(Contact, world.a.contact_id)
        contact.title, contact.department, contact.type = "Responsable stock", "Logistique", "Ops"
        contact.mobile, contact.fax, contact.location = "+1 514-555-0001", "+1 514-555-0002", "HQ"
        db.session.commit()
    login(client, world.a.slug, world.a.admin_email)
    body = client.get(f"/{world.a.slug}/clients/{world.a.client_id}/contacts").get_data(
        as_text=True
    )
    for text in (
        "Name",
        "Title",
        "Department",
        "Type",
        "Email",
        "Phone",
        "Mobile",
        "Fax",
        "Location",
        "Responsable stock",
        "Logistique",
        "+1 514-555-0002",
        "HQ",
    ):
        assert text in body, text


def test_card_saves_changes_with_old_and_new_values_in_the_log(client, world):
    login(client, world.a.slug, world.a.admin_email)
    url = f"/{world.a.slug}/contacts/{world.a.contact_id}"
    response = post_form(client, url, {"name": world.a.contact_name, "title": "Directrice"})
    assert response.status_code == 302
    event = log_of(world.a.tenant_id, world.a.client_id)[-1]
    assert event.action == "contact.updated"
    assert event.details["changes"] == {"title": [None, "Directrice"]}
    log = client.get(f"/{world.a.slug}/clients/{world.a.client_id}/log").get_data(as_text=True)
    assert "Contact changed" in log and "Directrice" in log


def test_card_keeps_a_stored_value_that_predates_the_rules(client, world):
    with bound_to(db.session, world.a.tenant_id):
        db.session.get(Contact, world.a.contact_id).phone = "521 1224 6321"
        db.session.commit()
    login(client, world.a.slug, world.a.admin_email)
    response = post_form(
        client,
        f"/{world.a.slug}/contacts/{world.a.contact_id}",
        {"name": world.a.contact_name, "phone": "521 1224 6321", "department": "Logistique"},
    )
    assert response.status_code == 302
    assert contact_named(world, world.a.contact_name).department == "Logistique"


def test_card_offers_previous_and_next_among_the_clients_contacts(client, world):
    with bound_to(db.session, world.a.tenant_id):
        for name in ("Aaron", "Zoé"):
            db.session.add(Contact(client_id=world.a.client_id, name=name))
        db.session.commit()
    login(client, world.a.slug, world.a.admin_email)
    middle = client.get(f"/{world.a.slug}/contacts/{world.a.contact_id}").get_data(as_text=True)
    anne, zoe = contact_named(world, "Aaron"), contact_named(world, "Zoé")
    assert f'href="/{world.a.slug}/contacts/{anne.id}" rel="prev"' in middle
    assert f'href="/{world.a.slug}/contacts/{zoe.id}" rel="next"' in middle
    first = client.get(f"/{world.a.slug}/contacts/{anne.id}").get_data(as_text=True)
    assert 'rel="prev"' not in first
    assert f'href="/{world.a.slug}/clients/{world.a.client_id}/contacts"' in first, "Close"


def test_archive_and_restore_a_contact(client, world):
    login(client, world.a.slug, world.a.admin_email)
    url = f"/{world.a.slug}/contacts/{world.a.contact_id}/archive"
    assert "Archive this contact" in client.get(url).get_data(as_text=True)
    post_form(client, url, {})
    tab_url = f"/{world.a.slug}/clients/{world.a.client_id}/contacts"
    assert world.a.contact_name not in client.get(tab_url).get_data(as_text=True)
    assert world.a.contact_name in client.get(f"{tab_url}?archived=1").get_data(as_text=True)
    post_form(client, url, {})
    assert world.a.contact_name in client.get(tab_url).get_data(as_text=True)
    actions = [event.action for event in log_of(world.a.tenant_id, world.a.client_id)]
    assert actions == ["contact.archived", "contact.restored"]


def test_staff_without_contacts_edit_see_a_read_only_card(app, world):
    browser = app.test_client()
    login(browser, world.a.slug, world.a.tech_email)
    url = f"/{world.a.slug}/contacts/{world.a.contact_id}"
    card = browser.get(url).get_data(as_text=True)
    assert '<form method="post" novalidate' not in card
    token = csrf_token(browser.get(f"/{world.a.slug}/logout"))
    assert browser.post(url, data={"csrf_token": token, "name": "Hacked"}).status_code == 403
    assert contact_named(world, world.a.contact_name) is not None
    with bound_to(db.session, world.a.tenant_id):
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action.like("contact.%"))
            )
            == 0
        )
