"""Portal access from the contact card (seed 004): the key button, the invitation
mailed over a real SMTP server, the single-use link, resend, expiry and limits."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.mail import outbox
from portal.models import Branch, Contact, Invitation, InvitationState, User, UserStatus
from portal.tenancy import bound_to
from tests.conftest import PASSWORD, csrf_token, login
from tests.test_clients import log_of, post_form
from tests.test_outbox import SMTP, smtp_server  # noqa: F401 - the fixture is used by name

NEW_PASSWORD = "Mireille chooses well"
LINK = re.compile(r"http://portal\.test(/[^\s\"<]+)")


@pytest.fixture
def mireille(world) -> int:
    """A contact of Alpha's first client, with no access yet, and a branch to limit to."""
    with bound_to(db.session, world.a.tenant_id):
        contact = Contact(
            client_id=world.a.client_id,
            name="Mireille Couture",
            email="mireille.couture@hervedavid.example",
        )
        db.session.add_all([contact, Branch(name="Actif Montréal")])
        db.session.commit()
        return contact.id


def branch_id(world, name: str) -> int:
    with bound_to(db.session, world.a.tenant_id):
        return db.session.scalar(select(Branch.id).where(Branch.name == name))


def grant(client, world, contact_id: int, **fields):
    login(client, world.a.slug, world.a.admin_email)
    card = client.get(f"/{world.a.slug}/contacts/{contact_id}").get_data(as_text=True)
    assert 'title="Grant portal access"' in card
    url = f"/{world.a.slug}/contacts/{contact_id}/access/new"
    form = client.get(url).get_data(as_text=True)
    assert "Client (system role)" in form and "Save and send email" in form
    assert 'value="ALP12"' in form, "the user code is proposed from the client's code"
    assert 'value="mireille.couture@hervedavid.example"' in form
    data = {
        "code": "ALP12",
        "email": "mireille.couture@hervedavid.example",
        "allowed_network": "",
        "branch_id": "",
        **fields,
    }
    return post_form(client, url, data)


def mireille_user(world) -> User | None:
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        return db.session.scalar(select(User).where(User.code == "ALP12"))


def links_in(messages) -> list[str]:
    return [LINK.search(m.get_body(("plain",)).get_content()).group(1) for m in messages]


def choose_password(browser, link: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    page = browser.get(link)
    assert page.status_code == 302 and page.headers["Referrer-Policy"] == "no-referrer"
    form = browser.get(page.location)
    if form.status_code != 200:
        return form
    assert form.headers["Cache-Control"] == "no-store"
    return browser.post(
        page.location,
        data={"csrf_token": csrf_token(form), "password": password, "confirm": confirm or password},
    )


@pytest.mark.parametrize("app_config", [SMTP])
def test_the_seed_story_from_key_button_to_signed_in_contact(
    app,
    app_config,
    client,
    world,
    mireille,
    smtp_server,  # noqa: F811
):
    response = grant(
        client,
        world,
        mireille,
        allowed_network="::ffff:10.1.2.3",
        branch_id=str(branch_id(world, "Actif Montréal")),
    )
    assert response.status_code == 302
    card = client.get(response.location).get_data(as_text=True)
    assert "Saved" in card and "An email has been sent with the sign-in details" in card
    assert "10.1.2.3/32" in card and "Invited" in card and "Pending" in card
    assert mireille_user(world).status is UserStatus.INVITED

    assert outbox.deliver_due().sent == 1
    (mail,) = smtp_server.messages
    assert mail["To"] == "mireille.couture@hervedavid.example"
    text = mail.get_body(("plain",)).get_content()
    assert "ALP12" in text and "Alpha Admin" in text and "works once" in text
    (link,) = links_in(smtp_server.messages)

    contact_browser = app.test_client()
    contact_browser.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    response = choose_password(contact_browser, link)
    assert response.status_code == 302
    assert contact_browser.get(f"/{world.a.slug}/account").status_code == 200
    assert mireille_user(world).status is UserStatus.ACTIVE

    contact_browser.environ_base["REMOTE_ADDR"] = "198.51.100.4"
    refused = contact_browser.get(f"/{world.a.slug}/account")
    assert refused.status_code == 403
    actions = [event.action for event in log_of(world.a.tenant_id, world.a.client_id)]
    assert actions[:2] == ["access.granted", "access.accepted"]
    assert "auth.network_refused" in actions


def test_a_link_works_once(app, client, world, mireille):
    grant(client, world, mireille)
    outbox.deliver_due()
    (link,) = links_in_locmem(app)
    assert choose_password(app.test_client(), link).status_code == 302
    second = choose_password(app.test_client(), link)
    assert second.status_code == 410
    assert "already been used" in second.get_data(as_text=True)


def links_in_locmem(app) -> list[str]:
    return [LINK.search(m.body).group(1) for m in app.extensions["mailman"].outbox]


def test_resend_revokes_the_older_link(app, client, world, mireille):
    grant(client, world, mireille)
    card_url = f"/{world.a.slug}/contacts/{mireille}"
    token = csrf_token(client.get(card_url))
    response = client.post(f"{card_url}/access/resend", data={"csrf_token": token})
    assert "previous link no longer works" in client.get(response.location).get_data(as_text=True)
    outbox.deliver_due()
    old, new = links_in_locmem(app)
    refused = choose_password(app.test_client(), old)
    assert refused.status_code == 410 and "newer link" in refused.get_data(as_text=True)
    assert choose_password(app.test_client(), new).status_code == 302


def test_an_expired_link_offers_a_fresh_one_sent_to_the_address_on_file(
    app, client, world, mireille
):
    grant(client, world, mireille)
    with bound_to(db.session, world.a.tenant_id):
        for invitation in db.session.scalars(select(Invitation)):
            invitation.expires_at -= timedelta(days=8)
        db.session.commit()
    outbox.deliver_due()
    (link,) = links_in_locmem(app)
    browser = app.test_client()
    page = choose_password(browser, link)
    assert page.status_code == 410 and "expired" in page.get_data(as_text=True)
    browser.post(
        f"/{world.a.slug}/password/set/renew",
        data={"csrf_token": csrf_token(page), "email": "attacker@evil.test"},
    )
    outbox.deliver_due()
    sent = app.extensions["mailman"].outbox
    assert [m.to for m in sent] == [["mireille.couture@hervedavid.example"]] * 2
    fresh = links_in_locmem(app)[-1]
    assert choose_password(app.test_client(), fresh).status_code == 302


def renew_with(app, world, link: str):
    """Open a dead link and ask for a fresh one (as its page offers, or by hand)."""
    browser = app.test_client()
    assert choose_password(browser, link).status_code == 410
    token = csrf_token(browser.get(f"/{world.a.slug}/login"))
    browser.post(f"/{world.a.slug}/password/set/renew", data={"csrf_token": token})
    outbox.deliver_due()


def test_whoever_holds_a_replaced_link_cannot_revoke_the_current_one(app, client, world, mireille):
    grant(client, world, mireille)
    card_url = f"/{world.a.slug}/contacts/{mireille}"
    client.post(f"{card_url}/access/resend", data={"csrf_token": csrf_token(client.get(card_url))})
    outbox.deliver_due()
    replaced, current = links_in_locmem(app)
    renew_with(app, world, replaced)
    fresh = links_in_locmem(app)[-1]
    assert fresh not in (replaced, current), "the address on file gets a fresh link"
    assert choose_password(app.test_client(), current).status_code == 302
    assert choose_password(app.test_client(), fresh).status_code == 410, "one was used"


def test_a_dead_link_of_a_user_with_a_password_sends_nothing(app, client, world, mireille):
    grant(client, world, mireille)
    card_url = f"/{world.a.slug}/contacts/{mireille}"
    client.post(f"{card_url}/access/resend", data={"csrf_token": csrf_token(client.get(card_url))})
    outbox.deliver_due()
    replaced, current = links_in_locmem(app)
    assert choose_password(app.test_client(), current).status_code == 302
    page = choose_password(app.test_client(), replaced)
    assert "Your password has been chosen with another link" in page.get_data(as_text=True)
    renew_with(app, world, replaced)
    assert len(links_in_locmem(app)) == 2, "no invitation for a user who has a password"


@pytest.mark.parametrize("token", ["garbage", "eyJpIjoxLCJuIjoieCJ9.forged", "x" * 5000, "%00"])
def test_a_forged_or_malformed_link_is_refused_plainly(client, world, token):
    page = client.get(f"/{world.a.slug}/password/set/{token}")
    assert page.status_code == 302
    refused = client.get(page.location)
    assert refused.status_code == 404
    assert "This link is not valid" in refused.get_data(as_text=True)


def test_an_invitation_link_does_not_work_in_another_tenant(app, client, world, mireille):
    grant(client, world, mireille)
    outbox.deliver_due()
    (link,) = links_in_locmem(app)
    elsewhere = link.replace(f"/{world.a.slug}/", f"/{world.b.slug}/")
    browser = app.test_client()
    page = browser.get(elsewhere)
    assert browser.get(page.location).status_code == 404


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("short", None, "at least 10"),
        ("MIREILLE.COUTURE@HERVEDAVID.EXAMPLE", None, "user code or your email"),
        ("mireille.couture@hervedavid.example", None, "user code or your email"),
        ("Password123", None, "most common"),
        ("a fine long password", "another one entirely", "differ"),
    ],
)
def test_weak_or_mismatched_passwords_are_refused(
    app, client, world, mireille, password, confirm, message
):
    grant(client, world, mireille)
    outbox.deliver_due()
    (link,) = links_in_locmem(app)
    response = choose_password(app.test_client(), link, password, confirm)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert mireille_user(world).status is UserStatus.INVITED


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("allowed_network", "123.542.654.785", "Enter one IPv4 or IPv6 address"),
        ("allowed_network", "10.0.0.0/33", "Enter one IPv4 or IPv6 address"),
        ("email", "not-an-email", "Enter an email address"),
        ("code", "ALP11", "Another user already has this code"),
        ("branch_id", "424242", "Not a valid choice"),
    ],
)
def test_the_add_a_user_form_refuses_bad_input_at_the_field(
    client, world, mireille, field, value, message
):
    response = grant(client, world, mireille, **{field: value})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and message in body
    assert mireille_user(world) is None
    with bound_to(db.session, world.a.tenant_id):
        assert db.session.scalar(select(Invitation)) is None


def test_disable_and_enable_access_from_the_card(app, client, world):
    login(client, world.a.slug, world.a.admin_email)
    contact_browser = app.test_client()
    login(contact_browser, world.a.slug, world.a.client_user_email)
    card = f"/{world.a.slug}/contacts/{world.a.contact_id}"
    client.post(f"{card}/access/disable", data={"csrf_token": csrf_token(client.get(card))})
    assert contact_browser.get(f"/{world.a.slug}/account").status_code == 302
    assert login(app.test_client(), world.a.slug, world.a.client_user_email).status_code == 200
    client.post(f"{card}/access/enable", data={"csrf_token": csrf_token(client.get(card))})
    assert login(app.test_client(), world.a.slug, world.a.client_user_email).status_code == 302
    actions = [event.action for event in log_of(world.a.tenant_id, world.a.client_id)]
    assert [action for action in actions if action.startswith("user.")] == [
        "user.disabled",
        "user.enabled",
    ]


def test_granting_access_needs_the_permission(app, world, mireille):
    browser = app.test_client()
    login(browser, world.a.slug, world.a.tech_email)
    card = browser.get(f"/{world.a.slug}/contacts/{mireille}").get_data(as_text=True)
    assert "Grant portal access" not in card
    assert browser.get(f"/{world.a.slug}/contacts/{mireille}/access/new").status_code == 403


def test_pending_invitation_state_counts_expiry():
    from portal.models.base import utcnow

    invitation = Invitation(state=InvitationState.PENDING, expires_at=utcnow())
    assert invitation.current_state() is InvitationState.EXPIRED
    invitation.expires_at = utcnow() + timedelta(minutes=1)
    assert invitation.current_state() is InvitationState.PENDING
    assert PASSWORD  # the fixtures' password is not reused by the flows above


NETWORK_REFUSAL = "Access to this account is not allowed from your network address."


def browser_at(app, address: str):
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = address
    return browser


@pytest.mark.parametrize("way_in", ["sign-in", "invitation link", "reset link"])
def test_no_session_from_outside_the_allowed_network_whichever_way_in(
    app, client, world, mireille, way_in
):
    """Where a link sets a password too: refused with the sign-in's message and audit,
    nothing used up, and the same link works from inside the network."""
    grant(client, world, mireille, allowed_network="10.0.0.0/8")
    outbox.deliver_due()
    (link,) = links_in_locmem(app)
    if way_in != "invitation link":  # she has chosen her password, from inside
        assert choose_password(browser_at(app, "10.1.2.3"), link).status_code == 302
    if way_in == "reset link":
        anyone, forgot = app.test_client(), f"/{world.a.slug}/password/forgot"
        token = csrf_token(anyone.get(forgot))
        anyone.post(forgot, data={"csrf_token": token, "login": "ALP12"})
        outbox.deliver_due()
        link = links_in_locmem(app)[-1]
        assert "/password/reset/" in link
    user_before = mireille_user(world)
    status_before, hash_before = user_before.status, user_before.password_hash

    def attempt(browser):
        if way_in == "sign-in":
            return login(browser, world.a.slug, "ALP12", NEW_PASSWORD)
        return choose_password(browser, link, "Another well chosen one")

    outside = browser_at(app, "192.0.2.7")
    refused = attempt(outside)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert NETWORK_REFUSAL in body and "10.0.0.0/8" in body and "192.0.2.7" in body
    assert outside.get(f"/{world.a.slug}/account").status_code == 302, "no session"
    user_after = mireille_user(world)
    assert (user_after.status, user_after.password_hash) == (status_before, hash_before)
    refusal = log_of(world.a.tenant_id, world.a.client_id)[-1]
    assert refusal.action == "auth.network_refused"
    assert refusal.ip_address == "192.0.2.7"

    inside = browser_at(app, "10.1.2.3")
    assert attempt(inside).status_code == 302
    assert inside.get(f"/{world.a.slug}/account").status_code == 200


def test_staff_change_the_limits_and_they_apply_at_the_next_request(app, client, world):
    contact_browser = app.test_client()
    contact_browser.environ_base["REMOTE_ADDR"] = "192.0.2.10"
    login(contact_browser, world.a.slug, world.a.client_user_email)
    assert contact_browser.get(f"/{world.a.slug}/account").status_code == 200

    login(client, world.a.slug, world.a.admin_email)
    card = f"/{world.a.slug}/contacts/{world.a.contact_id}"
    bad = client.post(
        f"{card}/access/limits",
        data={
            "csrf_token": csrf_token(client.get(card)),
            "allowed_network": "300.1.1.1",
            "branch_id": "",
        },
    )
    assert "Enter one IPv4 or IPv6 address" in client.get(bad.location).get_data(as_text=True)
    client.post(
        f"{card}/access/limits",
        data={
            "csrf_token": csrf_token(client.get(card)),
            "allowed_network": "2001:db8::1",
            "branch_id": "",
        },
    )
    assert contact_browser.get(f"/{world.a.slug}/account").status_code == 403
    event = log_of(world.a.tenant_id, world.a.client_id)[-2]
    assert event.action == "access.limits_changed"
    assert event.details["changes"]["allowed_network"] == [None, "2001:db8::1/128"]


@pytest.mark.parametrize("app_config", [SMTP])
def test_with_smtp_down_the_invitation_is_saved_and_later_delivered_once(
    app, app_config, client, world, mireille
):
    from aiosmtpd.controller import Controller

    from portal.models.base import utcnow
    from tests.test_outbox import SMTP_PORT, Inbox

    assert grant(client, world, mireille).status_code == 302
    assert mireille_user(world).status is UserStatus.INVITED
    assert outbox.deliver_due() == outbox.Report(retried=1)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    try:
        later = utcnow() + timedelta(minutes=5)
        assert outbox.deliver_due(now=later).sent == 1
        assert outbox.deliver_due(now=later + timedelta(hours=1)) == outbox.Report()
    finally:
        controller.stop()
    (link,) = links_in(inbox.messages)
    assert choose_password(app.test_client(), link).status_code == 302


#: Limits that are no limit or make no sense (issue 16, item 5), and what the user is told.
REFUSED_NETWORKS = {
    "0.0.0.0/0": "0.0.0.0/0 takes in every address: it is no limit.",
    "::/0": "::/0 takes in every address: it is no limit.",
    "0.0.0.0/0.0.0.0": "0.0.0.0/0 takes in every address",
    "::ffff:0:0/96": "0.0.0.0/0 takes in every address",
    "fe80::1%eth0": "Remove “%eth0”: an address with a zone",
    "fe80::%eth0/64": "Remove “%eth0”",
    "192.0.2.0/255.0.255.0": "255.0.255.0 is not a network mask",
    "192.0.2.1/24": "Did you mean the network 192.0.2.0/24? Enter it, or enter 192.0.2.1 alone",
    "2001:db8::1/64": "Did you mean the network 2001:db8::/64? Enter it, or enter 2001:db8::1",
    "::ffff:192.0.2.1/120": "Did you mean the network 192.0.2.0/24? Enter it, or enter 192.0.2.1",
    "::ffff:0:0/90": "an IPv4-mapped network needs a prefix of /96 or longer",
    "::/64": "::/64 mixes IPv6 addresses with IPv4-mapped ones",
    "0.0.0.0": "Nobody connects from 0.0.0.0/32",  # noqa: S104 - a limit, not a binding
    "::": "Nobody connects from ::/128",
    "224.0.0.1": "Nobody connects from 224.0.0.1/32",
    "123.542.654.785": "Enter one IPv4 or IPv6 address",
}

#: Limits as typed, and as stored and shown: the stdlib's canonical form, IPv4-mapped
#: networks as the IPv4 network they stand for.
ACCEPTED_NETWORKS = {
    "203.0.113.7": "203.0.113.7/32",
    "192.0.2.0/24": "192.0.2.0/24",
    "192.0.2.0/255.255.255.0": "192.0.2.0/24",
    "::ffff:192.0.2.0/120": "192.0.2.0/24",
    "::ffff:10.1.2.3": "10.1.2.3/32",
    "2001:DB8:0:0::1": "2001:db8::1/128",
    " 2001:db8::/48 ": "2001:db8::/48",
}


@pytest.mark.parametrize(("value", "message"), REFUSED_NETWORKS.items())
def test_the_network_validator_refuses_limits_that_are_none_or_make_no_sense(app, value, message):
    from portal.network import normalise_network

    with app.test_request_context(), pytest.raises(ValueError) as refused:
        normalise_network(value)
    assert message in str(refused.value)


@pytest.mark.parametrize(("value", "stored"), ACCEPTED_NETWORKS.items())
def test_the_network_validator_stores_the_canonical_form(app, value, stored):
    from portal.network import normalise_network

    with app.test_request_context():
        assert normalise_network(value) == stored


def staff_user(world, email: str) -> User | None:
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        return db.session.scalar(select(User).where(User.email == email))


def through_the_grant_form(client, world, contact_id, value):
    response = grant(client, world, contact_id, allowed_network=value)
    user = mireille_user(world)
    return response, client.get(response.location) if user else response, user


def through_the_limits_form(client, world, contact_id, value):
    login(client, world.a.slug, world.a.admin_email)
    card = f"/{world.a.slug}/contacts/{world.a.contact_id}"
    response = client.post(
        f"{card}/access/limits",
        data={
            "csrf_token": csrf_token(client.get(card)),
            "allowed_network": value,
            "branch_id": "",
        },
    )
    user = staff_user(world, world.a.client_user_email)
    return response, client.get(card), user if user.allowed_network else None


def through_the_staff_invitation(client, world, contact_id, value):
    login(client, world.a.slug, world.a.admin_email)
    url = f"/{world.a.slug}/admin/users/new"
    response = post_form(
        client,
        url,
        {
            "name": "Nora Network",
            "email": "nora@alpha.example",
            "role_id": world.a.role_id,
            "allowed_network": value,
        },
    )
    user = staff_user(world, "nora@alpha.example")
    return response, client.get(response.location) if user else response, user


def through_the_staff_edit(client, world, contact_id, value):
    login(client, world.a.slug, world.a.admin_email)
    tech = staff_user(world, world.a.tech_email)
    url = f"/{world.a.slug}/admin/users/{tech.id}/edit"
    response = post_form(
        client, url, {"name": tech.name, "role_id": tech.role_id, "allowed_network": value}
    )
    user = staff_user(world, world.a.tech_email)
    stored = user if user.allowed_network else None
    return response, client.get(url) if stored else response, stored


#: Every form that takes a network limit: (client, world, contact, value) -> (the answer,
#: the page that shows the outcome, the user when a limit was stored).
NETWORK_FORMS = {
    "grant access": through_the_grant_form,
    "limits": through_the_limits_form,
    "staff invitation": through_the_staff_invitation,
    "staff edit": through_the_staff_edit,
}


@pytest.mark.parametrize("form", NETWORK_FORMS)
@pytest.mark.parametrize(
    "value", ["::/0", "fe80::1%eth0", "192.0.2.0/255.0.255.0", "192.0.2.1/24", "::ffff:0:0/90"]
)
def test_every_form_refuses_the_same_limits_with_the_same_message(
    client, world, mireille, form, value
):
    response, page, user = NETWORK_FORMS[form](client, world, mireille, value)
    assert response.status_code in (200, 302, 400)
    assert REFUSED_NETWORKS[value] in page.get_data(as_text=True)
    assert user is None, "nothing stored"


@pytest.mark.parametrize("form", NETWORK_FORMS)
def test_every_form_stores_and_shows_the_canonical_limit(client, world, mireille, form):
    response, page, user = NETWORK_FORMS[form](client, world, mireille, "::ffff:192.0.2.0/120")
    assert response.status_code == 302
    assert user.allowed_network == "192.0.2.0/24"
    assert "192.0.2.0/24" in page.get_data(as_text=True)
