"""The development mailbox (issue 4, item 8): with PORTAL_ENV=development, the tenant's
queued mails can be read in the browser, links clickable, so the invitation story can
be tried without an SMTP server. The route never exists outside development."""

import re

import pytest
from sqlalchemy import select

from portal import create_app
from portal.extensions import db
from portal.mail import outbox
from portal.models import OutboxMail, Tenant
from portal.tenancy import bound_to
from tests.conftest import login, make_config
from tests.test_access import choose_password, grant, mireille, mireille_user  # noqa: F401
from tests.test_routes import PageStructure

DEVELOPMENT = {"PORTAL_ENV": "development"}
BANNER = "Development mailbox: mails are shown here instead of being sent"
HREF = re.compile(r'<a href="(http://portal\.test[^"]+)"')


def queue_mail(tenant_id: int, *, subject: str, text: str, to: str = "someone@example.test"):
    with bound_to(db.session, tenant_id):
        mail = outbox.queue(
            db.session.get(Tenant, tenant_id),
            kind="test",
            to=to,
            subject=subject,
            text=text,
            html="<p>html part</p>",
        )
        db.session.commit()
        return mail.id


def page_structure(response) -> PageStructure:
    page = PageStructure()
    page.feed(response.get_data(as_text=True))
    return page


@pytest.mark.parametrize("app_config", [DEVELOPMENT])
def test_the_mailbox_lists_the_tenants_mails_newest_first(app, app_config, client, world):
    queue_mail(world.a.tenant_id, subject="First news", text="one")
    queue_mail(world.a.tenant_id, subject="Second news", text="two", to="mireille@example.test")
    queue_mail(world.b.tenant_id, subject="Beta secret subject", text="three")

    response = client.get(f"/{world.a.slug}/dev/mailbox")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert BANNER in body
    assert body.index("Second news") < body.index("First news"), "newest first"
    assert "mireille@example.test" in body and "Pending" in body
    assert "Beta secret subject" not in body
    page = page_structure(response)
    assert page.h1 == 1 and page.inline_scripts == page.inline_styles == 0


@pytest.mark.parametrize("app_config", [DEVELOPMENT])
def test_a_mail_shows_its_headers_and_text_with_clickable_links_and_escaped_markup(
    app, app_config, client, world
):
    link = f"http://portal.test/{world.a.slug}/password/set/abc.DEF_123?x=1&y=2"
    mail_id = queue_mail(
        world.a.tenant_id,
        subject="Your access",
        text=f"Hello,\n<script>alert('x')</script> <b>bold</b>\nChoose a password: {link}.\n",
    )
    response = client.get(f"/{world.a.slug}/dev/mailbox/{mail_id}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert BANNER in body
    assert "someone@example.test" in body and "Alpha Services" in body  # To and From
    assert f'<a href="{link.replace("&", "&amp;")}"' in body, "the link is clickable"
    assert "</a>.\n" in body, "the full stop after the link is not part of it"
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in body
    assert "<script>" not in body and "<b>bold</b>" not in body
    assert "<pre" in body
    page = page_structure(response)
    assert page.h1 == 1 and page.inline_scripts == page.inline_styles == 0

    listing = client.get(f"/{world.a.slug}/dev/mailbox").get_data(as_text=True)
    assert f'href="/{world.a.slug}/dev/mailbox/{mail_id}"' in listing


@pytest.mark.parametrize("app_config", [DEVELOPMENT])
def test_a_mail_of_another_tenant_is_not_found(app, app_config, client, world):
    foreign = queue_mail(world.b.tenant_id, subject="Beta secret subject", text="secret")
    response = client.get(f"/{world.a.slug}/dev/mailbox/{foreign}")
    assert response.status_code == 404
    assert "Beta secret subject" not in response.get_data(as_text=True)
    assert client.get(f"/{world.a.slug}/dev/mailbox/999999").status_code == 404

    login(client, world.a.slug, world.a.admin_email)
    for url in (f"/{world.b.slug}/dev/mailbox", f"/{world.b.slug}/dev/mailbox/{foreign}"):
        assert client.get(url).status_code == 404, "signed in to alpha, beta is unknown"


@pytest.mark.parametrize("app_config", [DEVELOPMENT])
def test_an_empty_mailbox_says_so(app, app_config, client, world):
    body = client.get(f"/{world.a.slug}/dev/mailbox").get_data(as_text=True)
    assert "No mail has been queued yet." in body and BANNER in body


@pytest.mark.parametrize("app_config", [DEVELOPMENT])
def test_the_invitation_story_works_from_the_mailbox_without_smtp(
    app,
    app_config,
    client,
    world,
    mireille,  # noqa: F811
):
    assert grant(client, world, mireille).status_code == 302
    browser = app.test_client()
    listing = browser.get(f"/{world.a.slug}/dev/mailbox").get_data(as_text=True)
    assert "mireille.couture@hervedavid.example" in listing
    with bound_to(db.session, world.a.tenant_id):
        mail_id = db.session.scalar(select(OutboxMail.id).where(OutboxMail.kind == "invitation"))
    mail = browser.get(f"/{world.a.slug}/dev/mailbox/{mail_id}").get_data(as_text=True)
    (link,) = HREF.findall(mail)
    response = choose_password(browser, link.removeprefix("http://portal.test"))
    assert response.status_code == 302
    assert mireille_user(world).status.value == "active"


def test_the_testing_app_has_no_mailbox(app, client, world):
    assert not [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("mailbox.")]
    queue_mail(world.a.tenant_id, subject="Hidden", text="hidden")
    assert client.get(f"/{world.a.slug}/dev/mailbox").status_code == 404
    assert client.get(f"/{world.a.slug}/dev/mailbox/1").status_code == 404


def test_a_production_app_has_no_mailbox(migrated_database):
    production = create_app(make_config(migrated_database, PORTAL_ENV="production"))
    assert "mailbox" not in production.blueprints
    development = create_app(make_config(migrated_database, **DEVELOPMENT))
    assert "mailbox" in development.blueprints


@pytest.mark.parametrize("app_config", [DEVELOPMENT])
def test_a_mail_shows_its_html_part_as_a_mail_client_would_with_nothing_able_to_run(
    app, app_config, client, world
):
    mail_id = queue_mail(world.a.tenant_id, subject="Your access", text="text part")
    page = client.get(f"/{world.a.slug}/dev/mailbox/{mail_id}").get_data(as_text=True)
    frame = f'src="/{world.a.slug}/dev/mailbox/{mail_id}/html" sandbox'
    assert frame in page and "text part" in page  # the HTML part, and the text part below

    part = client.get(f"/{world.a.slug}/dev/mailbox/{mail_id}/html")
    assert part.status_code == 200 and part.get_data(as_text=True) == "<p>html part</p>"
    policy = part.headers["Content-Security-Policy"]
    assert policy.startswith("sandbox;") and "default-src 'none'" in policy
    assert "script-src" not in policy, "no script may run in a mail"
    assert client.get(f"/{world.b.slug}/dev/mailbox/{mail_id}/html").status_code == 404
