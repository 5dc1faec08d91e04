"""Sign-in, sign-out and server-side sessions."""

import random
import re
import statistics
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db, limiter
from portal.models import AuditEvent, User, UserSession, UserStatus
from portal.models.base import utcnow
from portal.services import users
from portal.tenancy import bound_to, cross_tenant
from tests.conftest import PASSWORD, acting, csrf_token, login

GENERIC_FAILURE = "Unknown user code or email, or wrong password."


def session_token(client) -> str | None:
    with client.session_transaction() as session:
        return session.get("sid")


def is_signed_in(client, slug: str) -> bool:
    response = client.get(f"/{slug}/clients/")
    return response.status_code == 200


def sign_out(client, slug: str):
    page = client.get(f"/{slug}/logout")
    return client.post(f"/{slug}/logout", data={"csrf_token": csrf_token(page)})


def audit_actions(tenant_id: int) -> list[str]:
    with bound_to(db.session, tenant_id):
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.mark.parametrize("login_name", ["ADMIN@alpha.test", " admin "])
def test_staff_signs_in_with_email_any_case_or_user_code(client, world, login_name):
    response = login(client, world.a.slug, login_name)
    assert response.status_code == 302
    assert response.location == f"/{world.a.slug}/"
    assert is_signed_in(client, world.a.slug)


@pytest.mark.parametrize(
    ("login_name", "password"),
    [("admin@alpha.test", "wrong password"), ("nobody@alpha.test", PASSWORD)],
)
def test_unknown_user_and_wrong_password_get_the_same_answer(client, world, login_name, password):
    response = login(client, world.a.slug, login_name, password)
    assert response.status_code == 200
    assert GENERIC_FAILURE in response.get_data(as_text=True)
    assert not is_signed_in(client, world.a.slug)
    assert audit_actions(world.a.tenant_id) == ["auth.login_failed"]


def test_a_user_of_another_tenant_cannot_sign_in_here(client, world):
    response = login(client, world.a.slug, world.b.admin_email)
    assert GENERIC_FAILURE in response.get_data(as_text=True)


def disable_the_technician(world) -> None:
    """The administrator disables the technician (nobody may disable themselves)."""
    with bound_to(db.session, world.a.tenant_id):
        admin = db.session.get(User, world.a.admin_id)
        tech = db.session.scalar(select(User).where(User.email == world.a.tech_email))
        users.set_disabled(tech, True, actor=acting(admin))
        db.session.commit()


def test_disabled_user_cannot_sign_in(client, world):
    disable_the_technician(world)
    response = login(client, world.a.slug, world.a.tech_email)
    assert GENERIC_FAILURE in response.get_data(as_text=True)


def test_session_identifier_changes_at_every_sign_in(client, world, app):
    client.get(f"/{world.a.slug}/login")
    assert session_token(client) is None
    login(client, world.a.slug, world.a.admin_email)
    first = session_token(client)
    sign_out(client, world.a.slug)
    login(client, world.a.slug, world.a.admin_email)
    second = session_token(client)
    assert first and second and first != second


def test_cookie_captured_before_logout_is_refused_after_it(client, world, app):
    login(client, world.a.slug, world.a.admin_email)
    captured = client.get_cookie("session").value
    assert sign_out(client, world.a.slug).status_code == 302

    attacker = app.test_client()
    attacker.set_cookie("session", captured)
    response = attacker.get(f"/{world.a.slug}/clients/")
    assert response.status_code == 302
    assert response.location.startswith(f"/{world.a.slug}/login")


def test_the_sign_out_button_of_every_page_signs_out_in_one_request(client, world):
    login(client, world.a.slug, world.a.admin_email)
    page = client.get(f"/{world.a.slug}/clients/").get_data(as_text=True)
    nav_form = re.search(
        r'<form class="sign-out" method="post" action="([^"]+)">(.*?)</form>', page, re.S
    )
    assert nav_form, "a sign-out form in the page's header, which needs no JavaScript"
    action, inside = nav_form.groups()
    fields = dict(re.findall(r'<input name="([^"]+)" type="hidden" value="([^"]*)">', inside))
    assert set(fields) == {"csrf_token"} and "<button" in inside
    response = client.post(action, data=fields)
    assert response.status_code == 302 and response.location == f"/{world.a.slug}/login"
    assert not is_signed_in(client, world.a.slug)
    assert audit_actions(world.a.tenant_id)[-1] == "auth.logout"

    login(client, world.a.slug, world.a.admin_email)
    assert client.post(action, data={}).status_code == 400, "no CSRF token, no sign-out"
    assert is_signed_in(client, world.a.slug)
    confirmation = client.get(f"/{world.a.slug}/logout")
    assert confirmation.status_code == 200 and "Sign out of" in confirmation.get_data(as_text=True)
    assert is_signed_in(client, world.a.slug), "the confirmation page alone signs no one out"


def change_password(browser, slug: str, current: str, new: str = "a brand new secret"):
    page = browser.get(f"/{slug}/password/change")
    return browser.post(
        f"/{slug}/password/change",
        data={
            "csrf_token": csrf_token(page),
            "current_password": current,
            "new_password": new,
            "confirm": new,
        },
    )


def test_password_change_ends_every_other_session(app, world):
    browser, other_browser = app.test_client(), app.test_client()
    login(browser, world.a.slug, world.a.admin_email)
    login(other_browser, world.a.slug, world.a.admin_email)
    response = change_password(browser, world.a.slug, PASSWORD)
    assert response.status_code == 302
    assert is_signed_in(browser, world.a.slug)
    assert not is_signed_in(other_browser, world.a.slug)
    assert login(app.test_client(), world.a.slug, world.a.admin_email).status_code == 200
    assert (
        login(
            app.test_client(), world.a.slug, world.a.admin_email, "a brand new secret"
        ).status_code
        == 302
    )


def test_password_change_needs_the_current_password(client, world):
    login(client, world.a.slug, world.a.admin_email)
    response = change_password(client, world.a.slug, "not it")
    assert response.status_code == 200
    assert "This is not your current password." in response.get_data(as_text=True)


def test_disabling_a_user_ends_their_sessions(client, world):
    login(client, world.a.slug, world.a.tech_email)
    assert is_signed_in(client, world.a.slug)
    disable_the_technician(world)
    assert not is_signed_in(client, world.a.slug)


@pytest.mark.parametrize(
    ("column", "age"),
    [("last_seen_at", timedelta(minutes=31)), ("created_at", timedelta(hours=12, minutes=1))],
)
def test_idle_and_absolute_timeouts_end_the_session(client, world, column, age):
    login(client, world.a.slug, world.a.admin_email)
    with cross_tenant(db.session):
        for user_session in db.session.scalars(select(UserSession)):
            setattr(user_session, column, utcnow() - age)
        db.session.commit()
    assert not is_signed_in(client, world.a.slug)
    with cross_tenant(db.session):
        browser_sessions = db.session.scalars(
            select(UserSession).where(UserSession.user_agent != "Fixture browser")
        ).all()
        assert browser_sessions and all(s.ended_at for s in browser_sessions)


def test_session_within_the_timeouts_stays_alive(client, world):
    login(client, world.a.slug, world.a.admin_email)
    with cross_tenant(db.session):
        for user_session in db.session.scalars(select(UserSession)):
            user_session.last_seen_at = utcnow() - timedelta(minutes=29)
            user_session.created_at = utcnow() - timedelta(hours=11)
        db.session.commit()
    assert is_signed_in(client, world.a.slug)


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/alpha/clients/?q=x", "/alpha/clients/?q=x"),
        ("https://evil.test/alpha/", "/alpha/"),
        ("//evil.test/alpha/", "/alpha/"),
        ("/\\evil.test", "/alpha/"),
        ("javascript:alert(1)", "/alpha/"),
        ("http:/evil.test", "/alpha/"),
    ],
)
def test_next_only_redirects_within_the_site(client, world, next_url, expected):
    page = client.get(f"/{world.a.slug}/login")
    response = client.post(
        f"/{world.a.slug}/login",
        query_string={"next": next_url},
        data={"csrf_token": csrf_token(page), "login": world.a.admin_email, "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.location == expected


def test_protected_page_sends_anonymous_visitor_to_sign_in_and_back(client, world):
    response = client.get(f"/{world.a.slug}/clients/?q=Alpha")
    assert response.status_code == 302
    assert response.location.startswith(f"/{world.a.slug}/login?next=")
    page = client.get(response.location)
    response = client.post(
        response.location,
        data={"csrf_token": csrf_token(page), "login": world.a.admin_email, "password": PASSWORD},
    )
    assert response.location == f"/{world.a.slug}/clients/?q=Alpha"


def test_eleventh_wrong_password_in_a_minute_gets_429(client, world):
    for _attempt in range(10):
        assert login(client, world.a.slug, world.a.admin_email, "wrong").status_code == 200
    response = login(client, world.a.slug, world.a.admin_email, "wrong")
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)


def test_attempts_on_one_login_are_limited_across_addresses(app, world):
    for attempt in range(10):
        browser = app.test_client()
        browser.environ_base["REMOTE_ADDR"] = f"198.51.100.{attempt + 1}"
        assert login(browser, world.a.slug, world.a.admin_email, "wrong").status_code == 200
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = "198.51.100.200"
    assert login(browser, world.a.slug, world.a.admin_email, "wrong").status_code == 429


def test_failures_on_one_account_add_up_however_its_login_is_typed(app, world):
    """Its email (in any case) and its user code share one allowance, from any address."""
    spellings = [world.a.admin_email, "admin", world.a.admin_email.upper()]
    for attempt in range(10):
        browser = app.test_client()
        browser.environ_base["REMOTE_ADDR"] = f"198.51.100.{attempt + 1}"
        response = login(browser, world.a.slug, spellings[attempt % 3], "wrong")
        assert response.status_code == 200
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = "198.51.100.200"
    assert login(browser, world.a.slug, "admin", "wrong").status_code == 429


def test_a_login_typed_in_one_tenant_does_not_use_up_another_tenants(app, world):
    for attempt in range(10):
        browser = app.test_client()
        browser.environ_base["REMOTE_ADDR"] = f"198.51.100.{attempt + 1}"
        assert login(browser, world.a.slug, "admin", "wrong").status_code == 200
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = "198.51.100.200"
    assert login(browser, world.a.slug, "admin", "wrong").status_code == 429
    assert login(browser, world.b.slug, "admin").status_code == 302, "Beta's admin is not Alpha's"


#: Rounds discarded while caches warm up (templates, the dummy password hash).
TIMING_WARM_UP = 3
#: Most a known login may take longer (or shorter) than an unknown one, as a share of
#: the typical time: the median of the rounds' differences. Forgot-password once took
#: 30 to 100 % longer for a known login; the same work measures within 15 %, noise and all.
TIMING_TOLERANCE = 0.2


@pytest.mark.parametrize(
    ("form", "status", "rounds"),
    [
        # Sign-in's password hashing is slow and dominates, so that few rounds tell.
        ("login", UserStatus.ACTIVE, 15),
        ("password/forgot", UserStatus.ACTIVE, 60),
        ("password/forgot", UserStatus.INVITED, 60),
        ("password/forgot", UserStatus.DISABLED, 60),
    ],
)
def test_the_time_an_answer_takes_does_not_tell_whether_the_login_exists(
    app, world, form, status, rounds
):
    """Rounds of one known and one unknown login, each in random order, in one process."""
    with bound_to(db.session, world.a.tenant_id):
        user = db.session.get(User, world.a.client_user_id)
        user.status = status
        user.set_password("the user's own password")  # hashed as users' are, not cheaply
        db.session.commit()
    browser = app.test_client()
    url = f"/{world.a.slug}/{form}"
    token = csrf_token(browser.get(url))
    answers = set()

    def time_taken(login_name: str) -> float:
        limiter.reset()  # the limits are not what is measured
        started = time.perf_counter()
        response = browser.post(
            url, data={"csrf_token": token, "login": login_name, "password": "not it at all"}
        )
        elapsed = time.perf_counter() - started
        answers.add((response.status_code, response.location))
        return elapsed

    logins = {"known": world.a.client_user_email, "unknown": "nobody@alpha-client.test"}
    measured, order = [], random.Random(16)
    for _round in range(TIMING_WARM_UP + rounds):
        taken = {which: time_taken(logins[which]) for which in order.sample(list(logins), 2)}
        measured.append(taken)
    measured = measured[TIMING_WARM_UP:]
    typical = statistics.median(taken["unknown"] for taken in measured)
    difference = statistics.median(taken["known"] - taken["unknown"] for taken in measured)
    assert len(answers) == 1, "the same answer for both"
    assert abs(difference) < TIMING_TOLERANCE * typical, (
        f"a known login takes {difference * 1000:+.1f} ms against {typical * 1000:.1f} ms"
    )


def limit_network(world, network: str) -> None:
    with bound_to(db.session, world.a.tenant_id):
        db.session.get(User, world.a.admin_id).allowed_network = network
        db.session.commit()


@pytest.mark.parametrize("address", ["10.1.2.3", "::ffff:10.1.2.3"])
def test_sign_in_from_inside_the_allowed_network(client, world, address):
    limit_network(world, "10.0.0.0/8")
    client.environ_base["REMOTE_ADDR"] = address
    assert login(client, world.a.slug, world.a.admin_email).status_code == 302


def test_sign_in_from_outside_the_allowed_network_is_refused_with_the_reason(client, world):
    limit_network(world, "10.0.0.0/8")
    client.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    response = login(client, world.a.slug, world.a.admin_email)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "10.0.0.0/8" in body and "192.0.2.7" in body
    assert not is_signed_in(client, world.a.slug)
    assert audit_actions(world.a.tenant_id) == ["auth.network_refused"]


def test_network_limit_is_checked_on_every_request(client, world):
    limit_network(world, "10.0.0.0/8")
    client.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    login(client, world.a.slug, world.a.admin_email)
    assert is_signed_in(client, world.a.slug)
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    response = client.get(f"/{world.a.slug}/clients/")
    assert response.status_code == 403
    assert "203.0.113.9" in response.get_data(as_text=True)
    client.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    assert not is_signed_in(client, world.a.slug), "the refused session must be ended"
    assert "auth.network_refused" in audit_actions(world.a.tenant_id)


def test_client_address_comes_from_trusted_proxy_hops_only(app_config, client, world):
    limit_network(world, "10.0.0.0/8")
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    response = login(
        client, world.a.slug, world.a.admin_email, headers={"X-Forwarded-For": "10.1.1.1"}
    )
    assert "203.0.113.9" in response.get_data(as_text=True), "a raw header must not be trusted"


@pytest.mark.parametrize("app_config", [{"TRUSTED_PROXY_HOPS": 1}])
def test_with_one_trusted_proxy_its_forwarded_address_is_used(app_config, client, world):
    limit_network(world, "10.0.0.0/8")
    client.environ_base["REMOTE_ADDR"] = "127.0.0.1"
    response = login(
        client, world.a.slug, world.a.admin_email, headers={"X-Forwarded-For": "10.1.1.1"}
    )
    assert response.status_code == 302


def test_session_of_one_tenant_is_refused_under_another_slug(client, world):
    login(client, world.a.slug, world.a.admin_email)
    for path in ("login", "clients/", "", "password/change", "logout"):
        assert client.get(f"/{world.b.slug}/{path}").status_code == 404


def test_successful_sign_ins_do_not_use_up_the_allowance(app, world):
    for _attempt in range(12):
        assert login(app.test_client(), world.a.slug, world.a.admin_email).status_code == 302


def test_limits_are_kept_in_the_configured_redis(migrated_database, redis_url, world):
    """Production keeps the counters in Redis, so that every gunicorn worker sees them."""
    import redis

    from portal import create_app
    from tests.conftest import IsolatedClient, make_config

    prefix = f"portal-test-{uuid.uuid4().hex}"
    app = create_app(
        make_config(migrated_database, RATELIMIT_STORAGE_URI=redis_url, RATELIMIT_KEY_PREFIX=prefix)
    )
    app.test_client_class = IsolatedClient
    server = redis.Redis.from_url(redis_url)
    try:
        for _attempt in range(10):
            login(app.test_client(), world.a.slug, world.a.admin_email, "x")
        assert login(app.test_client(), world.a.slug, world.a.admin_email, "x").status_code == 429
        assert server.keys(f"*{prefix}*"), "no rate-limit counter was written to Redis"
    finally:
        for key in server.keys(f"*{prefix}*"):
            server.delete(key)


def test_with_redis_down_sign_in_works_and_is_still_limited(migrated_database, world):
    """A lost Redis must not take sign-in down with it: each worker counts in memory
    until it is back, so the limit still holds (per worker)."""
    from portal import create_app
    from tests.conftest import IsolatedClient, make_config
    from tests.test_outbox import free_port

    unreachable = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app(make_config(migrated_database, RATELIMIT_STORAGE_URI=unreachable))
    app.test_client_class = IsolatedClient
    assert login(app.test_client(), world.a.slug, world.a.admin_email).status_code == 302
    for _attempt in range(10):
        assert login(app.test_client(), world.a.slug, world.a.admin_email, "x").status_code == 200
    assert login(app.test_client(), world.a.slug, world.a.admin_email, "x").status_code == 429
