"""A new sign-in address: asked with the current password, confirmed by a link sent to
it, and the old address told."""

import re

from sqlalchemy import select

from portal.extensions import db
from portal.mail import outbox
from portal.models import AuditEvent, Contact, User
from portal.tenancy import bound_to
from tests.conftest import PASSWORD, login
from tests.test_clients import post_form

NEW = "joseph.new@jmactions.example"
LINK = re.compile(r"http://portal\.test(/\S+/email/confirm/\S+)")


def ask(browser, world, email: str = NEW, password: str = PASSWORD):
    return post_form(
        browser, f"/{world.a.slug}/email/change", {"email": email, "current_password": password}
    )


def delivered(app) -> list:
    outbox.deliver_due()
    return app.extensions["mailman"].outbox


def email_of(world) -> str:
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        return db.session.get(User, world.a.client_user_id).email


def test_the_new_address_is_confirmed_by_a_link_and_the_old_one_told(app, world):
    browser = app.test_client()
    login(browser, world.a.slug, world.a.client_user_email)
    assert ask(browser, world).status_code == 302
    assert email_of(world) == world.a.client_user_email, "nothing changes before the link"
    (confirmation,) = delivered(app)
    assert confirmation.to == [NEW]
    link = LINK.search(confirmation.body).group(1)
    assert app.test_client().get(link).status_code == 302
    assert email_of(world) == NEW
    with bound_to(db.session, world.a.tenant_id):
        assert db.session.get(Contact, world.a.contact_id).email == NEW
    notice = delivered(app)[-1]
    assert notice.to == [world.a.client_user_email] and NEW in notice.body
    assert login(app.test_client(), world.a.slug, NEW).status_code == 302
    assert app.test_client().get(link).status_code == 410, "the link works once"


def test_the_current_password_is_required(app, world):
    browser = app.test_client()
    login(browser, world.a.slug, world.a.client_user_email)
    response = ask(browser, world, password="not my password")
    assert "This is not your current password." in response.get_data(as_text=True)
    assert delivered(app) == []


def test_an_address_already_used_or_malformed_is_refused(app, world):
    with bound_to(db.session, world.a.tenant_id):
        db.session.get(User, world.a.admin_id).email = "admin@alpha.example"
        db.session.commit()
    browser = app.test_client()
    login(browser, world.a.slug, world.a.client_user_email)
    assert "Another user already" in ask(browser, world, "Admin@Alpha.example").get_data(
        as_text=True
    )
    assert "Enter an email address" in ask(browser, world, "nope").get_data(as_text=True)
    with bound_to(db.session, world.a.tenant_id):
        assert (
            db.session.scalar(
                select(AuditEvent).where(AuditEvent.action == "user.email_change_requested")
            )
            is None
        )


def test_a_forged_confirmation_link_is_refused(client, world):
    response = client.get(f"/{world.a.slug}/email/confirm/forged.token.value")
    assert response.status_code == 410
    assert email_of(world) == world.a.client_user_email
