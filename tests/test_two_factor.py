"""Two-factor sign-in (issue 22, items 1, 2 and 6): an authenticator app turned on with a
first code, a code that works once, recovery codes shown once and used once, the secret
sealed at rest, and the sessions list saying how each session signed in."""

import hashlib
import re
import time
from datetime import timedelta

import pyotp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from portal.extensions import db
from portal.models import (
    AuditEvent,
    OutboxMail,
    RecoveryCode,
    Role,
    RolePermission,
    Tenant,
    User,
    UserSession,
)
from portal.models.base import utcnow
from portal.sealing import Unsealable, reseal, seal, unseal
from portal.services import authority, roles
from portal.services.tenants import create_staff_user, create_tenant
from portal.tenancy import bound_to, cross_tenant
from tests.conftest import PASSWORD, acting, browser_of, csrf_token, login, user_by_email
from tests.test_cli import run


def code_at(secret: str, steps_ahead: int = 0) -> str:
    """The app's code, ``steps_ahead`` steps of 30 s from now (one is within the drift)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def turn_on(app, world, email: str) -> tuple[str, list[str]]:
    """Turn two-factor on for ``email`` through the pages: (secret, recovery codes)."""
    browser = browser_of(app, world.a.slug, email)
    page = browser.get(f"/{world.a.slug}/two-factor/setup")
    text = page.get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', text).group(1).replace(" ", "")
    assert 'src="data:image/svg+xml' in text, "the QR code, drawn on the server"
    wrong = browser.post(
        f"/{world.a.slug}/two-factor/setup",
        data={"csrf_token": csrf_token(page), "code": "000000"},
    )
    assert "This code does not match" in wrong.get_data(as_text=True)
    assert user_by_email(email).totp_secret is None
    done = browser.post(
        f"/{world.a.slug}/two-factor/setup",
        data={"csrf_token": csrf_token(page), "code": code_at(secret)},
    )
    codes = re.findall(r"<code>([A-Z2-9]{5}-[A-Z2-9]{5})</code>", done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def test_an_app_is_turned_on_with_a_first_code_and_its_secret_is_sealed(app, world):
    secret, _codes = turn_on(app, world, world.a.admin_email)
    user = user_by_email(world.a.admin_email)
    assert user.totp_secret != secret and secret not in user.totp_secret
    assert unseal(user.totp_secret) == secret
    with cross_tenant(db.session):
        hashes = db.session.scalars(
            select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)
        ).all()
        actions = db.session.scalars(select(AuditEvent.action)).all()
    # Salted scrypt (a code has about 50 random bits: ASVS 6.5.2), one salt per user.
    assert len(hashes) == 10 and all(value.startswith("scrypt$") for value in hashes)
    assert len({value.split("$")[1] for value in hashes}) == 1
    assert not any(code.replace("-", "") in value for code in _codes for value in hashes)
    assert "auth.totp_enabled" in actions


def test_a_recovery_code_stored_before_codes_were_salted_still_works_once(app, world):
    """Codes made before scrypt kept a SHA-256 alone: they go on working, once."""
    turn_on(app, world, world.a.admin_email)
    user = user_by_email(world.a.admin_email)
    with bound_to(db.session, user.tenant_id):
        db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        legacy = hashlib.sha256(b"ABCDE23456").hexdigest()
        db.session.add(RecoveryCode(user_id=user.id, code_hash=legacy))
        db.session.commit()
    for expected in (302, 400):
        browser, page = second_step(app, world, world.a.admin_email)
        response = browser.post(
            f"/{world.a.slug}/login/code",
            data={"csrf_token": csrf_token(page), "code": "abcde-23456"},
        )
        assert response.status_code == expected


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
    assert off.status_code == 400 and user_by_email(world.a.admin_email).totp_secret is not None
    browser.post(
        f"/{slug}/two-factor/disable",
        data={"off-csrf_token": csrf_token(status), "off-password": PASSWORD},
    )
    assert user_by_email(world.a.admin_email).totp_secret is None
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


def test_a_role_that_requires_it_sends_its_users_to_set_it_up_first(app, world):
    slug = world.a.slug
    admin = browser_of(app, slug, world.a.admin_email)
    page = admin.get(f"/{slug}/admin/two-factor")
    with cross_tenant(db.session):
        technician = db.session.scalar(select(Role).where(Role.id == world.a.role_id))
        administrator = db.session.scalar(
            select(Role).where(Role.tenant_id == world.a.tenant_id, Role.name == "Administrator")
        )
    assert f'value="{technician.id}"' in page.get_data(as_text=True)
    saved = admin.post(
        f"/{slug}/admin/two-factor",
        data={"csrf_token": csrf_token(page), "required": [str(technician.id)]},
    )
    assert saved.status_code == 302
    tech = browser_of(app, slug, world.a.tech_email)
    for url in (f"/{slug}/", f"/{slug}/clients/", f"/{slug}/chat/", f"/{slug}/two-factor"):
        response = tech.get(url)
        assert response.status_code == 302 and response.location.endswith("/two-factor/setup")
    setup = tech.get(f"/{slug}/two-factor/setup")
    assert setup.status_code == 200 and "Your role asks for two-factor sign-in" in setup.get_data(
        True
    )
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', setup.get_data(True)).group(1)
    tech.post(
        f"/{slug}/two-factor/setup",
        data={"csrf_token": csrf_token(setup), "code": code_at(secret.replace(" ", ""))},
    )
    assert tech.get(f"/{slug}/").status_code == 200
    with cross_tenant(db.session):
        changes = db.session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "role.two_factor_changed")
        ).all()
    assert [c["role"] for c in changes] == ["Technician"]
    assert administrator.two_factor_required is False, "the fixture's, untouched"


def test_nobody_relaxes_the_requirement_of_a_role_that_holds_more(app, world):
    with cross_tenant(db.session):
        tenant_id = world.a.tenant_id
    with bound_to(db.session, tenant_id):
        office = Role(name="Office", grants=[RolePermission(permission="tenant.admin")])
        db.session.add(office)
        db.session.flush()
        clerk = create_staff_user(
            email="office@alpha.test", name="Olive Office", password="x" * 12, role=office
        )
        administrator = db.session.scalar(select(Role).where(Role.name == "Administrator"))
        administrator.two_factor_required = True
        with pytest.raises(authority.Refused):
            roles.require_two_factor({administrator: False}, actor=acting(clerk))
        assert administrator.two_factor_required is True
        db.session.rollback()


def test_a_new_tenants_administrators_must_use_a_second_factor(app):
    tenant = create_tenant("delta", "Delta")
    with bound_to(db.session, tenant.id):
        required = dict(db.session.execute(select(Role.name, Role.two_factor_required)).all())
    assert required == {
        "Administrator": True,
        "Client": False,
        "Technician": False,
        "Sales administration": False,
        "Staff": False,
    }
    db.session.rollback()


def test_an_administrator_resets_a_lost_second_factor_and_the_user_is_told(app, world):
    turn_on(app, world, world.a.tech_email)
    slug = world.a.slug
    tech = user_by_email(world.a.tech_email)
    admin = browser_of(app, slug, world.a.admin_email)
    users_page = admin.get(f"/{slug}/admin/users").get_data(as_text=True)
    assert f"/admin/users/{tech.id}/two-factor/reset" in users_page
    confirm = admin.get(f"/{slug}/admin/users/{tech.id}/two-factor/reset")
    assert "stop working" in confirm.get_data(as_text=True)
    done = admin.post(
        f"/{slug}/admin/users/{tech.id}/two-factor/reset", data={"csrf_token": csrf_token(confirm)}
    )
    assert done.status_code == 302
    assert user_by_email(world.a.tech_email).totp_secret is None
    with cross_tenant(db.session):
        mail = db.session.scalar(select(OutboxMail).where(OutboxMail.kind == "two_factor_reset"))
        codes = db.session.scalars(
            select(RecoveryCode).where(RecoveryCode.user_id == tech.id)
        ).all()
    assert mail is not None and mail.to_address == world.a.tech_email and codes == []
    technician = browser_of(app, slug, world.a.tech_email)
    admin_id = user_by_email(world.a.admin_email).id
    assert technician.get(f"/{slug}/admin/users/{admin_id}/two-factor/reset").status_code == 403


# --- Re-authentication before sensitive actions (item 5) -------------------------------


def age_the_sign_in(minutes: int) -> None:
    """Every open session's password was given ``minutes`` ago."""
    with cross_tenant(db.session):
        db.session.execute(
            update(UserSession).values(verified_at=utcnow() - timedelta(minutes=minutes))
        )
        db.session.commit()


def test_a_sensitive_change_asks_the_password_again_after_ten_minutes_and_keeps_the_form(
    app, world
):
    slug = world.a.slug
    admin = browser_of(app, slug, world.a.admin_email)
    page = admin.get(f"/{slug}/admin/settings")
    token = csrf_token(page)
    age_the_sign_in(11)
    sent = {"csrf_token": token, "name": "Alpha Renamed", "support_phone": "514 555 0199"}
    stopped = admin.post(f"/{slug}/admin/settings", data=sent)
    text = stopped.get_data(as_text=True)
    assert stopped.status_code == 401 and "Confirm it is you" in text
    assert 'name="kept:name" type="hidden" value="Alpha Renamed"' in text
    with cross_tenant(db.session):
        assert db.session.get(Tenant, world.a.tenant_id).name == world.a.name, "nothing saved"
    wrong = admin.post(
        f"/{slug}/reauthenticate",
        data={
            "csrf_token": token,
            "action": f"/{slug}/admin/settings",
            "secret": "guess",
            "kept:name": "Alpha Renamed",
        },
    )
    assert wrong.status_code == 401 and "This is not your password" in wrong.get_data(True)
    confirmed = admin.post(
        f"/{slug}/reauthenticate",
        data={
            "csrf_token": token,
            "action": f"/{slug}/admin/settings",
            "secret": PASSWORD,
            "kept:name": "Alpha Renamed",
        },
    )
    text = confirmed.get_data(as_text=True)
    assert confirmed.status_code == 200 and f'action="/{slug}/admin/settings"' in text
    assert 'name="name" type="hidden" value="Alpha Renamed"' in text
    # Within ten minutes now: the same action goes through without asking.
    again = admin.post(f"/{slug}/admin/two-factor", data={"csrf_token": token, "required": []})
    assert again.status_code == 302
    with cross_tenant(db.session):
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "auth.reauth_failed" in actions


@pytest.mark.parametrize(
    "path",
    [
        "/admin/settings",
        "/admin/hours",
        "/admin/users/new",
        "/admin/roles/new",
        "/admin/two-factor",
        "/two-factor/setup",
        "/two-factor/passkeys/new",
        "/sessions/end-others",
        "/contacts/{contact_id}/access/new",
        "/contacts/{contact_id}/access/limits",
    ],
)
def test_every_sensitive_action_asks_again_after_ten_minutes(app, world, path):
    slug = world.a.slug
    admin = browser_of(app, slug, world.a.admin_email)
    token = csrf_token(admin.get(f"/{slug}/admin/users"))
    age_the_sign_in(11)
    url = f"/{slug}" + path.format(contact_id=world.a.other_contact_id)
    response = admin.post(url, data={"csrf_token": token})
    assert response.status_code == 401, url
    assert "Confirm it is you" in response.get_data(as_text=True)


# --- The audit log's addresses, kept as long as each tenant says (item 7) --------------


def test_audit_addresses_are_erased_after_each_tenants_retention(app, world):
    now = utcnow()
    with cross_tenant(db.session):
        db.session.execute(
            update(Tenant).where(Tenant.id == world.b.tenant_id).values(audit_address_days=30)
        )
        for tenant_id in (world.a.tenant_id, world.b.tenant_id):
            for days in (10, 60, 400):
                db.session.add(
                    AuditEvent(
                        tenant_id=tenant_id,
                        action="auth.login",
                        ip_address=f"192.0.2.{days % 250}",
                        created_at=now - timedelta(days=days),
                        details={"days": days},
                    )
                )
        db.session.commit()
    result = run(app, "audit", "erase-addresses")
    assert result.exit_code == 0 and "3 audit addresses erased" in result.output
    with cross_tenant(db.session):
        kept = {
            (row.tenant_id, row.details["days"]): row.ip_address
            for row in db.session.scalars(
                select(AuditEvent).where(AuditEvent.details["days"].isnot(None))
            )
        }
    a, b = world.a.tenant_id, world.b.tenant_id
    assert kept[(a, 10)] and kept[(a, 60)] and kept[(a, 400)] is None, "a year by default"
    assert kept[(b, 10)] and kept[(b, 60)] is None and kept[(b, 400)] is None, "30 days"
    assert len(kept) == 6, "the events stay"
