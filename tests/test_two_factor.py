"""Two-factor sign-in (issue 22, items 1, 2 and 6): an authenticator app turned on with a
first code, a code that works once, recovery codes shown once and used once, the secret
sealed at rest, and the sessions list saying how each session signed in."""

import re
import time

import pyotp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, OutboxMail, RecoveryCode, User, UserSession
from portal.sealing import Unsealable, reseal, seal, unseal
from portal.tenancy import cross_tenant
from tests.conftest import PASSWORD, csrf_token, login


def signed_in(app, slug: str, email: str):
    browser = app.test_client()
    assert login(browser, slug, email).status_code == 302
    return browser


def user_named(email: str) -> User:
    db.session.expire_all()
    with cross_tenant(db.session):
        return db.session.scalar(select(User).where(User.email == email))


def code_at(secret: str, steps_ahead: int = 0) -> str:
    """The app's code, ``steps_ahead`` steps of 30 s from now (one is within the drift)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def turn_on(app, world, email: str) -> tuple[str, list[str]]:
    """Turn two-factor on for ``email`` through the pages: (secret, recovery codes)."""
    browser = signed_in(app, world.a.slug, email)
    page = browser.get(f"/{world.a.slug}/two-factor/setup")
    text = page.get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', text).group(1).replace(" ", "")
    assert 'src="data:image/svg+xml' in text, "the QR code, drawn on the server"
    wrong = browser.post(
        f"/{world.a.slug}/two-factor/setup",
        data={"csrf_token": csrf_token(page), "code": "000000"},
    )
    assert "This code does not match" in wrong.get_data(as_text=True)
    assert user_named(email).totp_secret is None
    done = browser.post(
        f"/{world.a.slug}/two-factor/setup",
        data={"csrf_token": csrf_token(page), "code": code_at(secret)},
    )
    codes = re.findall(r"<code>([A-Z2-9]{5}-[A-Z2-9]{5})</code>", done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def test_an_app_is_turned_on_with_a_first_code_and_its_secret_is_sealed(app, world):
    secret, _codes = turn_on(app, world, world.a.admin_email)
    user = user_named(world.a.admin_email)
    assert user.totp_secret != secret and secret not in user.totp_secret
    assert unseal(user.totp_secret) == secret
    with cross_tenant(db.session):
        hashes = db.session.scalars(
            select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)
        ).all()
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert len(hashes) == 10 and all(len(value) == 64 for value in hashes)
    assert "auth.totp_enabled" in actions


def second_step(app, world, email: str):
    browser = app.test_client()
    response = login(browser, world.a.slug, email)
    assert response.status_code == 302 and response.location.endswith("/login/code")
    return browser, browser.get(response.location)


def test_after_the_password_the_code_is_asked_and_works_once(app, world):
    secret, _codes = turn_on(app, world, world.a.admin_email)
    slug = world.a.slug
    browser, page = second_step(app, world, world.a.admin_email)
    assert "Your password is right" in page.get_data(as_text=True)
    assert browser.get(f"/{slug}/").status_code == 302, "nothing before the code"
    code = code_at(secret, 1)
    signed = browser.post(
        f"/{slug}/login/code", data={"csrf_token": csrf_token(page), "code": code}
    )
    assert signed.status_code == 302 and browser.get(f"/{slug}/").status_code == 200
    sessions = browser.get(f"/{slug}/sessions").get_data(as_text=True)
    assert "Password and authenticator app" in sessions
    with cross_tenant(db.session):
        methods = db.session.scalars(select(UserSession.method)).all()
    assert "password+totp" in methods

    again, page = second_step(app, world, world.a.admin_email)
    replayed = again.post(
        f"/{slug}/login/code", data={"csrf_token": csrf_token(page), "code": code}
    )
    assert replayed.status_code == 400
    assert "used already" in replayed.get_data(as_text=True)
    assert again.get(f"/{slug}/").status_code == 302


def test_wrong_codes_count_against_the_account_like_wrong_passwords(app, world):
    turn_on(app, world, world.a.admin_email)
    slug = world.a.slug
    browser, page = second_step(app, world, world.a.admin_email)
    token = csrf_token(page)
    statuses = [
        browser.post(
            f"/{slug}/login/code", data={"csrf_token": token, "code": "123456"}
        ).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [400] * 10 and statuses[10] == 429
    with cross_tenant(db.session):
        reasons = db.session.scalars(
            select(AuditEvent.details["reason"].as_string()).where(
                AuditEvent.action == "auth.login_failed"
            )
        ).all()
    assert reasons.count("code") == 10


def test_a_recovery_code_signs_in_once_and_is_mailed_and_audited(app, world):
    _secret, codes = turn_on(app, world, world.a.admin_email)
    slug = world.a.slug
    browser, page = second_step(app, world, world.a.admin_email)
    used = browser.post(
        f"/{slug}/login/code",
        data={"csrf_token": csrf_token(page), "code": codes[3].lower().replace("-", " ")},
    )
    assert used.status_code == 302
    home = browser.get(used.location).get_data(as_text=True)
    assert "recovery code" in home and "9 remain" in home
    with cross_tenant(db.session):
        mail = db.session.scalar(select(OutboxMail).where(OutboxMail.kind == "recovery_code_used"))
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert mail is not None and mail.to_address == world.a.admin_email
    assert "9 remain" in mail.text_body
    assert "auth.recovery_code_used" in actions
    again, page = second_step(app, world, world.a.admin_email)
    refused = again.post(
        f"/{slug}/login/code", data={"csrf_token": csrf_token(page), "code": codes[3]}
    )
    assert refused.status_code == 400


def test_new_recovery_codes_void_the_old_and_turning_off_asks_the_password(app, world):
    _secret, codes = turn_on(app, world, world.a.admin_email)
    slug = world.a.slug
    browser, page = second_step(app, world, world.a.admin_email)
    browser.post(f"/{slug}/login/code", data={"csrf_token": csrf_token(page), "code": codes[0]})
    status = browser.get(f"/{slug}/two-factor")
    assert "9 recovery codes left." in status.get_data(as_text=True)
    wrong = browser.post(
        f"/{slug}/two-factor/codes",
        data={"csrf_token": csrf_token(status), "password": "not it"},
    )
    assert wrong.status_code == 400 and "not your current password" in wrong.get_data(True)
    renewed = browser.post(
        f"/{slug}/two-factor/codes",
        data={"csrf_token": csrf_token(status), "password": PASSWORD},
    )
    fresh = re.findall(r"<code>([A-Z2-9]{5}-[A-Z2-9]{5})</code>", renewed.get_data(as_text=True))
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    off = browser.post(
        f"/{slug}/two-factor/disable",
        data={"off-csrf_token": csrf_token(status), "off-password": "not it"},
    )
    assert off.status_code == 400 and user_named(world.a.admin_email).totp_secret is not None
    browser.post(
        f"/{slug}/two-factor/disable",
        data={"off-csrf_token": csrf_token(status), "off-password": PASSWORD},
    )
    assert user_named(world.a.admin_email).totp_secret is None
    assert login(app.test_client(), slug, world.a.admin_email).location.endswith(f"/{slug}/")


def test_the_code_page_waits_five_minutes_after_the_password(app, world, monkeypatch):
    turn_on(app, world, world.a.admin_email)
    browser, _page = second_step(app, world, world.a.admin_email)
    later = time.time() + 301
    monkeypatch.setattr(time, "time", lambda: later)
    response = browser.get(f"/{world.a.slug}/login/code")
    assert response.status_code == 302 and "/login" in response.location


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(code=st.text(max_size=30))
def test_no_typed_code_signs_in_nor_breaks_the_page(app, world, code):
    with cross_tenant(db.session):
        user = db.session.scalar(select(User).where(User.email == world.a.admin_email))
        if user.totp_secret is None:
            user.totp_secret = seal(pyotp.random_base32())
            db.session.commit()
    browser, page = second_step(app, world, world.a.admin_email)
    response = browser.post(
        f"/{world.a.slug}/login/code", data={"csrf_token": csrf_token(page), "code": code}
    )
    assert response.status_code in (400, 429)
    assert browser.get(f"/{world.a.slug}/").status_code == 302


def test_a_sealed_secret_opens_after_a_key_rotation_and_not_when_tampered(app):
    sealed = seal("JBSWY3DPEHPK3PXP")
    old = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"] = "a new key " * 4, [old]
    try:
        assert unseal(sealed) == "JBSWY3DPEHPK3PXP"
        resealed = reseal(sealed)
        app.config["SECRET_KEY_FALLBACKS"] = []
        assert unseal(resealed) == "JBSWY3DPEHPK3PXP"
        with pytest.raises(Unsealable):
            unseal(sealed)
        with pytest.raises(Unsealable):
            unseal(resealed[:-4] + "AAAA")
    finally:
        app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"] = old, []
