"""Passkeys (issue 22, item 3), over HTTP with a software authenticator: registered from
the two-factor page (named, renamed, removed), a second factor after the password, a
sign-in on their own; answers checked against the challenge, the origin, the key and
its counter, once."""

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Passkey, RecoveryCode, UserSession, UserStatus
from portal.services.passkeys import RelyingParty
from portal.tenancy import cross_tenant
from tests.conftest import PASSWORD, browser_of, csrf_token, login, user_by_email
from tests.soft_authenticator import SoftAuthenticator, options_of


def add_passkey(browser, slug: str, name: str = "Work laptop", device=None):
    """Make a passkey through the pages; returns (device, response of the form)."""
    device = device or SoftAuthenticator()
    page = browser.get(f"/{slug}/two-factor/passkeys/new")
    assert page.status_code == 200
    done = browser.post(
        f"/{slug}/two-factor/passkeys/new",
        data={
            "csrf_token": csrf_token(page),
            "name": name,
            "response": device.create(options_of(page)),
        },
    )
    return device, done


def stored_passkeys(email: str) -> list[Passkey]:
    user = user_by_email(email)
    with cross_tenant(db.session):
        return db.session.scalars(select(Passkey).where(Passkey.user_id == user.id)).all()


def passkey_sign_in(browser, slug: str, device, *, answer=None):
    page = browser.get(f"/{slug}/login")
    return browser.post(
        f"/{slug}/login/passkey",
        data={"csrf_token": csrf_token(page), "response": answer or device.get(options_of(page))},
    )


def session_methods(email: str) -> list[str]:
    user = user_by_email(email)
    with cross_tenant(db.session):
        return db.session.scalars(
            select(UserSession.method)
            .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
            .order_by(UserSession.id)
        ).all()


def test_a_first_passkey_is_named_listed_and_brings_recovery_codes(app, world):
    slug, email = world.a.slug, world.a.client_user_email
    browser = browser_of(app, slug, email)
    status = browser.get(f"/{slug}/two-factor").get_data(as_text=True)
    assert "No passkey yet." in status
    _device, done = add_passkey(browser, slug, "  Work   laptop ")
    text = done.get_data(as_text=True)
    assert done.status_code == 200 and len(re.findall(r"<code>[A-Z2-9-]{11}</code>", text)) == 10
    [key] = stored_passkeys(email)
    assert key.name == "Work laptop" and key.transports == "internal" and key.sign_count == 0
    status = browser.get(f"/{slug}/two-factor").get_data(as_text=True)
    assert "Work laptop" in status and "10 recovery codes left." in status
    # A second one brings no new codes: the first ones still work.
    _second, again = add_passkey(browser, slug, "Phone")
    assert again.status_code == 302
    assert [key.name for key in stored_passkeys(email)] == ["Work laptop", "Phone"]
    with cross_tenant(db.session):
        assert db.session.scalar(select(func.count(RecoveryCode.id))) == 10
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("auth.passkey_added") == 2


def test_a_passkey_needs_a_name_and_a_real_answer_to_the_challenge(app, world):
    slug, email = world.a.slug, world.a.client_user_email
    browser = browser_of(app, slug, email)
    page = browser.get(f"/{slug}/two-factor/passkeys/new")
    device = SoftAuthenticator()
    nameless = browser.post(
        f"/{slug}/two-factor/passkeys/new",
        data={
            "csrf_token": csrf_token(page),
            "name": "",
            "response": device.create(options_of(page)),
        },
    )
    assert nameless.status_code == 400
    assert "Give this passkey a name." in nameless.get_data(as_text=True)
    # Made for another site, or answering an old challenge: refused, nothing kept.
    for wrong in (
        SoftAuthenticator(origin="http://evil.test"),
        SoftAuthenticator(rp_id="evil.test"),
    ):
        page = browser.get(f"/{slug}/two-factor/passkeys/new")
        refused = browser.post(
            f"/{slug}/two-factor/passkeys/new",
            data={
                "csrf_token": csrf_token(page),
                "name": "Key",
                "response": wrong.create(options_of(page)),
            },
        )
        assert refused.status_code == 400
        assert "could not be checked" in refused.get_data(as_text=True)
    stale = options_of(browser.get(f"/{slug}/two-factor/passkeys/new"))
    page = browser.get(f"/{slug}/two-factor/passkeys/new")
    refused = browser.post(
        f"/{slug}/two-factor/passkeys/new",
        data={"csrf_token": csrf_token(page), "name": "Key", "response": device.create(stale)},
    )
    assert refused.status_code == 400
    assert stored_passkeys(email) == []


def test_a_passkey_signs_in_without_a_password_and_the_session_says_so(app, world):
    slug, email = world.a.slug, world.a.client_user_email
    device, _done = add_passkey(browser_of(app, slug, email), slug)
    browser = app.test_client()
    signed = passkey_sign_in(browser, slug, device)
    assert signed.status_code == 302, signed.get_data(as_text=True)
    assert browser.get(f"/{slug}/").status_code == 200
    assert "passkey" in session_methods(email)
    assert "Passkey" in browser.get(f"/{slug}/sessions").get_data(as_text=True)
    [key] = stored_passkeys(email)
    assert key.sign_count == 1 and key.last_used_at is not None
    with cross_tenant(db.session):
        login_event = db.session.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == "auth.login")
            .order_by(AuditEvent.id.desc())
        )
    assert login_event.details["method"] == "passkey"


def test_an_answer_works_once_and_a_counter_that_goes_back_is_refused(app, world):
    slug, email = world.a.slug, world.a.client_user_email
    device, _done = add_passkey(browser_of(app, slug, email), slug)
    browser = app.test_client()
    page = browser.get(f"/{slug}/login")
    answer = device.get(options_of(page))
    token = csrf_token(page)
    first = browser.post(f"/{slug}/login/passkey", data={"csrf_token": token, "response": answer})
    assert first.status_code == 302
    replay = app.test_client()
    replay_page = replay.get(f"/{slug}/login")
    again = replay.post(
        f"/{slug}/login/passkey", data={"csrf_token": csrf_token(replay_page), "response": answer}
    )
    assert again.status_code == 400 and "not accepted" in again.get_data(as_text=True)
    # A copy of the key whose counter lags behind the original's betrays the cloning.
    device.sign_count = 0
    cloned = passkey_sign_in(app.test_client(), slug, device)
    assert cloned.status_code == 400
    with cross_tenant(db.session):
        refusals = db.session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "auth.login_failed")
        ).all()
    assert sum(details.get("reason") == "passkey" for details in refusals) == 2


def test_a_passkey_is_a_second_factor_after_the_password(app, world):
    slug, email = world.a.slug, world.a.tech_email
    device, _done = add_passkey(browser_of(app, slug, email), slug)
    browser = app.test_client()
    response = login(browser, slug, email)
    assert response.status_code == 302 and response.location.endswith("/login/code")
    page = browser.get(response.location)
    assert "Use a passkey" in page.get_data(as_text=True)
    options = options_of(page)
    assert [item["id"] for item in options["allowCredentials"]], "the user's own keys"
    # Another user's passkey is no second factor for this one.
    stranger, _ = add_passkey(browser_of(app, slug, world.a.client_user_email), slug)
    refused = browser.post(
        f"/{slug}/login/code/passkey",
        data={"passkey-csrf_token": csrf_token(page), "passkey-response": stranger.get(options)},
    )
    assert refused.status_code == 400
    assert browser.get(f"/{slug}/").status_code == 302
    page = browser.get(f"/{slug}/login/code")
    done = browser.post(
        f"/{slug}/login/code/passkey",
        data={
            "passkey-csrf_token": csrf_token(page),
            "passkey-response": device.get(options_of(page)),
        },
    )
    assert done.status_code == 302
    assert browser.get(f"/{slug}/").status_code == 200
    assert session_methods(email)[-1] == "password+passkey"


def test_without_the_device_check_a_passkey_is_no_sign_in_on_its_own(app, world):
    slug, email = world.a.slug, world.a.client_user_email
    device, _done = add_passkey(browser_of(app, slug, email), slug)
    device.verifies = False
    assert passkey_sign_in(app.test_client(), slug, device).status_code == 400


def test_a_passkey_of_one_tenant_signs_in_nowhere_else(app, world):
    device, _done = add_passkey(
        browser_of(app, world.a.slug, world.a.client_user_email), world.a.slug
    )
    browser = app.test_client()
    assert passkey_sign_in(browser, world.b.slug, device).status_code == 400
    assert browser.get(f"/{world.b.slug}/").status_code == 302


def test_a_disabled_user_signs_in_with_no_passkey(app, world):
    slug, email = world.a.slug, world.a.client_user_email
    device, _done = add_passkey(browser_of(app, slug, email), slug)
    user = user_by_email(email)
    with cross_tenant(db.session):
        user.status = UserStatus.DISABLED
        db.session.commit()
    assert passkey_sign_in(app.test_client(), slug, device).status_code == 400


def test_passkeys_are_renamed_and_removed_by_their_owner_only(app, world):
    slug, email = world.a.slug, world.a.client_user_email
    browser = browser_of(app, slug, email)
    add_passkey(browser, slug, "Laptop")
    [key] = stored_passkeys(email)
    page = browser.get(f"/{slug}/two-factor/passkeys/{key.id}")
    renamed = browser.post(
        f"/{slug}/two-factor/passkeys/{key.id}",
        data={"csrf_token": csrf_token(page), "name": "Desk"},
    )
    assert renamed.status_code == 302 and stored_passkeys(email)[0].name == "Desk"
    blank = browser.post(
        f"/{slug}/two-factor/passkeys/{key.id}", data={"csrf_token": csrf_token(page), "name": " "}
    )
    assert blank.status_code == 400 and stored_passkeys(email)[0].name == "Desk"
    colleague = browser_of(app, slug, world.a.tech_email)
    assert colleague.get(f"/{slug}/two-factor/passkeys/{key.id}").status_code == 404
    assert colleague.get(f"/{slug}/two-factor/passkeys/{key.id}/remove").status_code == 404
    confirm = browser.get(f"/{slug}/two-factor/passkeys/{key.id}/remove")
    text = confirm.get_data(as_text=True)
    assert "Desk" in text and "your last second factor" in text
    removed = browser.post(
        f"/{slug}/two-factor/passkeys/{key.id}/remove", data={"csrf_token": csrf_token(confirm)}
    )
    assert removed.status_code == 302 and stored_passkeys(email) == []
    with cross_tenant(db.session):
        assert db.session.scalar(select(func.count(RecoveryCode.id))) == 0, "gone with the last"
    assert login(app.test_client(), slug, email).location.endswith(f"/{slug}/")


def test_an_administrators_reset_removes_the_passkeys_too(app, world):
    slug = world.a.slug
    add_passkey(browser_of(app, slug, world.a.tech_email), slug)
    tech = user_by_email(world.a.tech_email)
    admin = browser_of(app, slug, world.a.admin_email)
    confirm = admin.get(f"/{slug}/admin/users/{tech.id}/two-factor/reset")
    done = admin.post(
        f"/{slug}/admin/users/{tech.id}/two-factor/reset", data={"csrf_token": csrf_token(confirm)}
    )
    assert done.status_code == 302
    assert stored_passkeys(world.a.tech_email) == []


def test_a_role_that_requires_two_factor_accepts_a_passkey(app, world):
    slug, email = world.a.slug, world.a.tech_email
    tech = user_by_email(email)
    with cross_tenant(db.session):
        tech.role.two_factor_required = True
        db.session.commit()
    browser = browser_of(app, slug, email)
    assert browser.get(f"/{slug}/").location.endswith("/two-factor/setup")
    _device, done = add_passkey(browser, slug, "Phone")
    assert done.status_code == 200, "the recovery codes, shown once"
    assert browser.get(f"/{slug}/").status_code == 200


def test_portals_served_at_an_address_offer_no_passkey(app, world):
    assert RelyingParty.of("http://127.0.0.1:5000", "x") is None
    assert RelyingParty.of("http://[::1]:5000", "x") is None
    party = RelyingParty.of("https://portal.example.com:8443/", "x")
    assert (party.id, party.origin) == ("portal.example.com", "https://portal.example.com:8443")
    app.config["PORTAL_BASE_URL"] = "http://127.0.0.1:5000"
    browser = browser_of(app, world.a.slug, world.a.client_user_email)
    assert "data-passkey-options" not in browser.get(f"/{world.a.slug}/login").get_data(
        as_text=True
    )
    page = browser.get(f"/{world.a.slug}/two-factor/passkeys/new")
    text = page.get_data(as_text=True)
    assert "served under a domain name" in text and "data-passkey-options" not in text
    # An answer sent anyway is refused in words, never with an error page.
    answer = SoftAuthenticator(origin="http://127.0.0.1:5000", rp_id="127.0.0.1")
    made = browser.post(
        f"/{world.a.slug}/two-factor/passkeys/new",
        data={
            "csrf_token": csrf_token(page),
            "name": "Key",
            "response": answer.create({"challenge": "AAAA", "user": {"id": "AAAA"}}),
        },
    )
    assert made.status_code == 400 and "served under a domain name" in made.get_data(as_text=True)
    anonymous = app.test_client()
    login_page = anonymous.get(f"/{world.a.slug}/login")
    refused = anonymous.post(
        f"/{world.a.slug}/login/passkey",
        data={"csrf_token": csrf_token(login_page), "response": answer.get({"challenge": "AAAA"})},
    )
    assert refused.status_code == 400


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    answer=st.one_of(
        st.text(max_size=200),
        st.dictionaries(
            st.sampled_from(["id", "rawId", "type", "response"]), st.text(max_size=40)
        ).map(json.dumps),
    )
)
def test_no_forged_answer_signs_in_nor_breaks_the_page(app, world, answer):
    browser = app.test_client()
    page = browser.get(f"/{world.a.slug}/login")
    response = browser.post(
        f"/{world.a.slug}/login/passkey", data={"csrf_token": csrf_token(page), "response": answer}
    )
    assert response.status_code in (400, 429)
    assert browser.get(f"/{world.a.slug}/").status_code == 302


@pytest.mark.parametrize("password", [PASSWORD])
def test_the_sign_in_page_offers_a_passkey_and_keeps_the_password(app, world, password):
    page = app.test_client().get(f"/{world.a.slug}/login?next=/{world.a.slug}/statement")
    text = page.get_data(as_text=True)
    options = options_of(page)
    assert options["rpId"] == "portal.test" and options["userVerification"] == "required"
    assert options.get("allowCredentials", []) == []
    assert "Sign in with a passkey" in text and f"next=/{world.a.slug}/statement" in text.replace(
        "%2F", "/"
    )
    assert (
        login(app.test_client(), world.a.slug, world.a.client_user_email, password).status_code
        == 302
    )
