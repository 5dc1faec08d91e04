"""One rule for the characters of every text field (issue 16): single-line text holds no
line break nor other control character; multi-line text keeps its line breaks and tabs
only. The rule lives in PortalForm, which every form of the portal derives from."""

import importlib
import pkgutil
import re

import pytest
import wtforms
from sqlalchemy import select

import portal
from portal.extensions import db
from portal.mail import outbox
from portal.models import Branch, Client, Contact, LedgerEntry, Tenant
from portal.tenancy import bound_to
from portal.web.forms import MULTI_LINE_MESSAGE, SINGLE_LINE_MESSAGE, PortalForm
from tests.conftest import PASSWORD, login
from tests.test_admin_settings import SETTINGS, branches_url, post, settings_url
from tests.test_credit import record, signed_in
from tests.test_outbox import SMTP, smtp_server  # noqa: F401 - the fixture is used by name


def portal_form_classes() -> list[type]:
    """Every form class the portal's modules define, found by importing them all."""
    for module in pkgutil.walk_packages(portal.__path__, "portal."):
        importlib.import_module(module.name)
    found, waiting = [], [wtforms.Form]
    while waiting:
        for subclass in waiting.pop().__subclasses__():
            waiting.append(subclass)
            if subclass.__module__.startswith("portal.") and subclass is not PortalForm:
                found.append(subclass)
    return found


def test_every_form_of_the_portal_derives_from_portal_form():
    """So no form can leave out the character rule: a form built on FlaskForm directly
    fails here."""
    forms = portal_form_classes()
    assert len(forms) > 20
    assert [form for form in forms if not issubclass(form, PortalForm)] == []


def field_error(response, field: str) -> str:
    match = re.search(rf'id="{field}-error">([^<]*)<', response.get_data(as_text=True))
    return match.group(1) if match else ""


def tenant_names(world) -> tuple[str, str | None]:
    db.session.expire_all()
    tenant = db.session.get(Tenant, world.a.tenant_id)
    return tenant.name, tenant.support_sender_name


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Alpha\r\nServices"),
        ("name", "Alpha\nBcc: victim@example.com"),
        ("support_sender_name", "Alpha\u2028Helpdesk"),
        ("support_sender_name", "Alpha\x1b[2JHelpdesk"),
        ("support_sender_name", "Alpha\tHelpdesk"),
    ],
)
def test_a_control_character_in_a_tenant_name_gets_a_field_message_and_changes_nothing(
    app, world, field, value
):
    admin = signed_in(app, world, world.a.admin_email)
    response = post(admin, settings_url(world), **{**SETTINGS, field: value})
    assert response.status_code == 400
    assert field_error(response, field) == str(SINGLE_LINE_MESSAGE)
    assert tenant_names(world) == ("Alpha Services", None)


def test_a_line_break_in_a_branch_or_a_contact_name_is_refused_too(app, world):
    admin = signed_in(app, world, world.a.admin_email)
    response = post(admin, branches_url(world), name="Laval\nNord")
    assert field_error(response, "name") == str(SINGLE_LINE_MESSAGE)
    contact_url = f"/{world.a.slug}/clients/{world.a.client_id}/contacts/new"
    response = post(admin, contact_url, name="Jane\u0085Doe", email="jane@example.com")
    assert field_error(response, "name") == str(SINGLE_LINE_MESSAGE)
    with bound_to(db.session, world.a.tenant_id):
        assert db.session.scalar(select(Branch).where(Branch.name.contains("Laval"))) is None
        assert db.session.scalar(select(Contact).where(Contact.name.contains("Jane"))) is None


def test_a_summary_keeps_its_line_breaks_and_refuses_other_control_characters(app, world):
    tech = signed_in(app, world, world.a.tech_email)
    refused = record(tech, world, summary="Reset the\x1b[31m password")
    assert refused.status_code == 400
    assert field_error(refused, "summary") == str(MULTI_LINE_MESSAGE)
    assert (
        record(tech, world, summary="Reset the password.\r\n\tThen tested it.").status_code == 302
    )
    with bound_to(db.session, world.a.tenant_id):
        summaries = db.session.scalars(
            select(LedgerEntry.summary).where(LedgerEntry.summary.contains("password"))
        ).all()
    assert summaries == ["Reset the password.\r\n\tThen tested it."]


def test_a_password_may_hold_any_character(app, world):
    """Only its hash is kept: the rule leaves passwords alone, so nobody who chose such
    a password is locked out."""
    browser = signed_in(app, world, world.a.admin_email)
    chosen = "a new\tpassword\x1b"
    changed = post(
        browser,
        f"/{world.a.slug}/password/change",
        current_password=PASSWORD,
        new_password=chosen,
        confirm=chosen,
    )
    assert changed.status_code == 302
    assert login(app.test_client(), world.a.slug, world.a.admin_email, chosen).status_code == 302


@pytest.mark.parametrize("app_config", [SMTP])
def test_a_name_stored_with_a_line_break_makes_a_one_line_header_and_the_request_answers(
    app,
    app_config,
    world,
    smtp_server,  # noqa: F811
):
    """A sender name kept from before the forms refused line breaks: recording an
    intervention still works, and its recap goes out from the name on one line."""
    with bound_to(db.session, world.a.tenant_id):
        db.session.get(
            Tenant, world.a.tenant_id
        ).support_sender_name = "Alpha\r\nBcc: everyone@example.test"
        db.session.get(Client, world.a.client_id).email = "billing@alpha-client.example"
        db.session.commit()
    tech = signed_in(app, world, world.a.tech_email)
    assert record(tech, world).status_code == 302
    assert outbox.deliver_due() == outbox.Report(sent=1)
    (received,) = smtp_server.messages
    assert received["From"].addresses[0].display_name == "Alpha Bcc: everyone@example.test"
    assert received["Bcc"] is None and received["To"] == "billing@alpha-client.example"
