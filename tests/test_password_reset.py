"""Forgot password: the same answer for every address, a one-hour single-use link of
its own kind, never a password in a mail."""

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from portal.extensions import db
from portal.mail import outbox
from portal.models import User
from portal.services import password_reset
from portal.tenancy import bound_to
from tests.conftest import PASSWORD, csrf_token, login, user_by_email
from tests.test_access import choose_password, grant, links_in_locmem, mireille  # noqa: F401

NEW = "a completely new secret"
ANSWER = "If an account matches, a link to choose a new password is on its way"


def ask_reset(client, slug: str, login_name: str):
    page = client.get(f"/{slug}/password/forgot")
    response = client.post(
        f"/{slug}/password/forgot", data={"csrf_token": csrf_token(page), "login": login_name}
    )
    return response, client.get(response.location).get_data(as_text=True)


def reset_links(app) -> list[str]:
    outbox.deliver_due()
    return [link for link in links_in_locmem(app) if "/password/reset/" in link]


def test_known_and_unknown_addresses_get_the_same_answer(app, client, world):
    known, known_page = ask_reset(client, world.a.slug, world.a.admin_email)
    unknown, unknown_page = ask_reset(app.test_client(), world.a.slug, "nobody@alpha.test")
    assert known.status_code == unknown.status_code == 302
    assert known.location == unknown.location
    assert ANSWER in known_page and ANSWER in unknown_page
    assert len(reset_links(app)) == 1, "only the real account gets a mail"


def test_the_mail_has_a_link_and_never_a_password(app, client, world):
    ask_reset(client, world.a.slug, world.a.admin_email)
    outbox.deliver_due()
    (message,) = app.extensions["mailman"].outbox
    assert PASSWORD not in message.body and "/password/reset/" in message.body
    assert message.to == [world.a.admin_email]


def test_the_link_sets_a_new_password_once_and_ends_other_sessions(app, client, world):
    other_browser = app.test_client()
    login(other_browser, world.a.slug, world.a.admin_email)
    ask_reset(client, world.a.slug, world.a.admin_email)
    (link,) = reset_links(app)
    browser = app.test_client()
    assert choose_password(browser, link, NEW).status_code == 302
    home = browser.get(f"/{world.a.slug}/", follow_redirects=True).get_data(as_text=True)
    assert "Your new password is saved." in home, "told once signed in"
    assert browser.get(f"/{world.a.slug}/clients/").status_code == 200
    assert other_browser.get(f"/{world.a.slug}/clients/").status_code == 302
    assert login(app.test_client(), world.a.slug, world.a.admin_email, NEW).status_code == 302
    assert user_by_email(world.a.admin_email).password_hash.startswith("scrypt:")
    again = choose_password(app.test_client(), link, "yet another password")
    assert again.status_code == 410, "dead once the password has changed"


def test_the_link_dies_after_an_hour(app, client, world, monkeypatch):
    ask_reset(client, world.a.slug, world.a.admin_email)
    (link,) = reset_links(app)
    real_loads = URLSafeTimedSerializer.loads

    def an_hour_later(self, token, max_age=None, **kwargs):
        return (
            real_loads(self, token, max_age=-1, **kwargs)
            if max_age
            else real_loads(self, token, **kwargs)
        )

    monkeypatch.setattr(URLSafeTimedSerializer, "loads", an_hour_later)
    assert choose_password(app.test_client(), link, NEW).status_code == 410


def test_an_invitation_link_does_not_work_on_the_reset_page(app, client, world, mireille):  # noqa: F811
    grant(client, world, mireille)
    outbox.deliver_due()
    (invitation_link,) = links_in_locmem(app)
    token = invitation_link.rsplit("/", 1)[1]
    forged = f"/{world.a.slug}/password/reset/{token}"
    assert choose_password(app.test_client(), forged, NEW).status_code == 410


def test_a_reset_link_does_not_work_as_an_invitation(app, client, world):
    ask_reset(client, world.a.slug, world.a.admin_email)
    (link,) = reset_links(app)
    token = link.rsplit("/", 1)[1]
    assert (
        choose_password(app.test_client(), f"/{world.a.slug}/password/set/{token}", NEW).status_code
        == 404
    )


@pytest.mark.parametrize("used_first", ["invitation", "fresh link"])
def test_asking_for_an_invited_users_link_does_not_revoke_their_invitation(
    app,
    client,
    world,
    mireille,  # noqa: F811
    used_first,
):
    """Anyone may ask for Mireille's link, but only the mailbox gets it: her invitation
    keeps working until she uses either link, and then the other stops."""
    grant(client, world, mireille)
    ask_reset(app.test_client(), world.a.slug, "mireille.couture@hervedavid.example")
    outbox.deliver_due()
    invitation, fresh = links_in_locmem(app)
    first, other = (invitation, fresh) if used_first == "invitation" else (fresh, invitation)
    assert choose_password(app.test_client(), first, NEW).status_code == 302
    refused = choose_password(app.test_client(), other, "yet another password")
    assert refused.status_code == 410
    assert login(app.test_client(), world.a.slug, "ALP12", NEW).status_code == 302
    if other == invitation:
        assert "Your password has been chosen with another link" in refused.get_data(as_text=True)


def test_a_disabled_user_gets_no_mail(app, client, world):
    with bound_to(db.session, world.a.tenant_id):
        db.session.get(User, world.a.admin_id).status = db.session.get(
            User, world.a.admin_id
        ).status.DISABLED
        db.session.commit()
    _, page = ask_reset(client, world.a.slug, world.a.admin_email)
    assert ANSWER in page and reset_links(app) == []


def test_forgot_password_is_rate_limited(app, world):
    for _attempt in range(5):
        ask_reset(app.test_client(), world.a.slug, "someone@alpha.test")
    browser = app.test_client()
    page = browser.get(f"/{world.a.slug}/password/forgot")
    blocked = browser.post(
        f"/{world.a.slug}/password/forgot",
        data={"csrf_token": csrf_token(page), "login": "someone@alpha.test"},
    )
    assert blocked.status_code == 429


def test_asking_for_one_account_is_limited_however_its_login_is_typed(app, world):
    """Its email (in any case) and its user code share the five an hour, from any address."""
    spellings = [world.a.admin_email, "admin", world.a.admin_email.upper()]
    for attempt in range(5):
        browser = app.test_client()
        browser.environ_base["REMOTE_ADDR"] = f"198.51.100.{attempt + 1}"
        ask_reset(browser, world.a.slug, spellings[attempt % 3])
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = "198.51.100.200"
    page = browser.get(f"/{world.a.slug}/password/forgot")
    blocked = browser.post(
        f"/{world.a.slug}/password/forgot", data={"csrf_token": csrf_token(page), "login": "admin"}
    )
    assert blocked.status_code == 429
    assert len(reset_links(app)) == 5


@pytest.mark.parametrize("token", ["x", "a.b.c", "%00" * 3])
def test_malformed_reset_links_answer_plainly(client, world, token):
    page = client.get(f"/{world.a.slug}/password/reset/{token}")
    response = client.get(page.location)
    assert response.status_code == 410
    assert "no longer works" in response.get_data(as_text=True)


def test_reset_tokens_name_the_user_of_the_bound_tenant_only(app, client, world):
    with bound_to(db.session, world.b.tenant_id):
        user = db.session.scalar(select(User).where(User.email == world.b.admin_email))
        with app.test_request_context():
            token = password_reset._reset_serializer().dumps(
                {"u": user.id, "f": password_reset._password_fingerprint(user)}
            )
    assert (
        choose_password(
            app.test_client(), f"/{world.a.slug}/password/reset/{token}", NEW
        ).status_code
        == 410
    )


def test_a_reset_link_does_not_skip_the_second_factor(app, client, world):
    """ASVS 6.4.3: a new password chosen from a reset link leads to the code page, as the
    password does at sign-in, never straight into a session."""
    from tests.test_two_factor import code_at, turn_on

    secret, _codes = turn_on(app, world, world.a.admin_email)
    ask_reset(client, world.a.slug, world.a.admin_email)
    (link,) = reset_links(app)
    browser = app.test_client()
    chosen = choose_password(browser, link, NEW)
    assert chosen.status_code == 302 and chosen.location.endswith("/login/code")
    assert browser.get(f"/{world.a.slug}/clients/").status_code == 302, "no session yet"
    page = browser.get(f"/{world.a.slug}/login/code")
    done = browser.post(
        f"/{world.a.slug}/login/code",
        data={"csrf_token": csrf_token(page), "code": code_at(secret, 1)},
    )
    assert done.status_code == 302
    assert browser.get(f"/{world.a.slug}/clients/").status_code == 200
