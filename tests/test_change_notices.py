"""The staff assigned to a client get one mail per editing session of the client's
contact, summarising every change, through the outbox; and the story of the issue
with the demo's Joseph Szczygiel, from sign-in to the mail on a real SMTP server."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.mail import outbox
from portal.models import Client, ClientAssignment, OutboxMail, User, UserStatus
from portal.models.base import utcnow
from portal.tenancy import bound_to, cross_tenant
from tests.conftest import csrf_token, login
from tests.test_cli import DEMO_PASSWORD, run, tenant_named
from tests.test_clients import post_form
from tests.test_outbox import SMTP, smtp_server  # noqa: F401 - the fixture is used by name

JM_ACTIONS = {
    "billing_address": "12, Rue du Port",
    "billing_city": "Boulogne-sur-Mer",
    "billing_province": "",
    "billing_country": "FR",
    "billing_postal_code": "62200",
    "shipping_same_as_billing": "y",
    "shipping_country": "",
    "phone": "03 21 30 40 50",
    "email": "jszczygiel@jmactions.com",
}
CARD = {
    "title": "Directeur",
    "department": "",
    "phone": "",
    "mobile": "",
    "fax": "",
    "location": "",
    "locale": "",
}
QUIET_PERIOD_OVER = timedelta(minutes=11)


def later() -> object:
    return utcnow() + QUIET_PERIOD_OVER


def body_of(mail) -> str:
    return mail.get_body(("plain",)).get_content()


@pytest.mark.parametrize("app_config", [SMTP])
def test_joseph_updates_jm_actions_and_the_assigned_staff_get_one_summary(
    app,
    app_config,
    smtp_server,  # noqa: F811
):
    run(app, "demo", "--password", DEMO_PASSWORD)
    outbox.deliver_due()  # the demo's own invitation mail
    smtp_server.messages.clear()
    joseph = app.test_client()
    assert login(joseph, "demo", "49961", DEMO_PASSWORD).status_code == 302
    assert post_form(joseph, "/demo/account/company", JM_ACTIONS).status_code == 302
    assert post_form(joseph, "/demo/account/card", CARD).status_code == 302

    assert outbox.deliver_due().sent == 0, "the notice waits for the end of the session"
    assert outbox.deliver_due(now=later()).sent == 1
    (mail,) = smtp_server.messages
    assert mail["To"] == "sales@demo.test"
    assert "JM-ACTIONS" in mail["Subject"] and "Joseph Szczygiel" in mail["Subject"]
    text = body_of(mail)
    assert "+33 3 21 30 40 50" in text and "Boulogne-sur-Mer" in text
    assert "Gérant -> Directeur" in text and "Verton -> Boulogne-sur-Mer" in text
    assert "/demo/clients/" in text and "/log" in text

    staff = app.test_client()
    assert login(staff, "demo", "sales@demo.test", DEMO_PASSWORD).status_code == 302
    with bound_to(db.session, tenant_named("demo").id):
        client_id = db.session.scalar(select(Client.id).where(Client.code == "4996"))
    info = staff.get(f"/demo/clients/{client_id}").get_data(as_text=True)
    assert "+33 3 21 30 40 50" in info and "Boulogne-sur-Mer" in info
    log = staff.get(f"/demo/clients/{client_id}/log").get_data(as_text=True)
    # Marie-Astrid reads the demo's Québec French.
    # His two edits, marked as the client's (the demo's support requests, which he also
    # moved, have rows of their own).
    edits = [row for row in log.split("<tr") if "Client modifié" in row or "Contact modifié" in row]
    assert [row.count("modifié par le client") for row in edits] == [1, 1]
    assert "Directeur" in log


def assign(world, email: str) -> None:
    with bound_to(db.session, world.a.tenant_id):
        user = db.session.scalar(select(User).where(User.email == email))
        db.session.add(ClientAssignment(client_id=world.a.client_id, user_id=user.id))
        db.session.commit()


def notices() -> list[OutboxMail]:
    db.session.expire_all()
    with cross_tenant(db.session):
        return db.session.scalars(
            select(OutboxMail).where(OutboxMail.kind == "client_changes").order_by(OutboxMail.id)
        ).all()


def save_card(browser, world, **values):
    response = post_form(browser, f"/{world.a.slug}/account/card", {**CARD, **values})
    assert response.status_code == 302


def signed_in_client(app, world):
    browser = app.test_client()
    login(browser, world.a.slug, world.a.client_user_email)
    return browser


def test_signing_out_sends_the_notice_at_once(app, world):
    assign(world, world.a.admin_email)
    browser = signed_in_client(app, world)
    save_card(browser, world, title="Gérant")
    save_card(browser, world, title="Directeur", location="Siège")
    (waiting,) = notices()
    assert waiting.to_address == world.a.admin_email and waiting.next_attempt_at > utcnow()
    browser.post(
        f"/{world.a.slug}/logout",
        data={"csrf_token": csrf_token(browser.get(f"/{world.a.slug}/logout"))},
    )
    assert outbox.deliver_due().sent == 1
    (sent,) = app.extensions["mailman"].outbox
    assert "empty -> Gérant" in sent.body and "Gérant -> Directeur" in sent.body
    assert "empty -> Siège" in sent.body


def test_after_a_notice_is_sent_the_next_change_starts_a_new_one(app, world):
    assign(world, world.a.admin_email)
    browser = signed_in_client(app, world)
    save_card(browser, world, title="Gérant")
    assert outbox.deliver_due(now=later()).sent == 1
    save_card(browser, world, title="Directeur")
    assert outbox.deliver_due(now=later()).sent == 1
    first, second = app.extensions["mailman"].outbox
    assert "empty -> Gérant" in first.body
    assert "Gérant -> Directeur" in second.body and "empty -> Gérant" not in second.body


def test_each_browser_session_has_its_own_notice_and_every_assigned_staff_one(app, world):
    assign(world, world.a.admin_email)
    assign(world, world.a.tech_email)
    save_card(signed_in_client(app, world), world, title="Gérant")
    save_card(signed_in_client(app, world), world, department="Direction")
    assert sorted(mail.to_address for mail in notices()) == sorted(
        [world.a.admin_email, world.a.tech_email] * 2
    )


def test_no_notice_without_an_active_assigned_staff_or_without_a_change(app, world):
    save_card(signed_in_client(app, world), world, title="Gérant")
    assign(world, world.a.tech_email)
    with bound_to(db.session, world.a.tenant_id):
        db.session.scalar(
            select(User).where(User.email == world.a.tech_email)
        ).status = UserStatus.DISABLED
        db.session.commit()
    browser = signed_in_client(app, world)
    save_card(browser, world, title="Directeur")
    assign(world, world.a.admin_email)
    save_card(browser, world, title="Directeur")  # the same again: nothing changed
    assert notices() == []
