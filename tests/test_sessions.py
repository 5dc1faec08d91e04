"""Your sessions: every signed-in browser of the user, each of which can be ended."""

from sqlalchemy import select

from portal.extensions import db
from portal.models import UserSession
from portal.tenancy import cross_tenant
from tests.conftest import csrf_token, login

#: What two browsers send, and how people call them.
AGENTS = [
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0",
        "Firefox on Windows",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
        "Mobile Safari on iOS",
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36",
        "Chrome on Linux",
    ),
]


def signed_in_browsers(app, world, count: int) -> list:
    browsers = []
    for number in range(count):
        browser = app.test_client()
        browser.environ_base["REMOTE_ADDR"] = f"192.0.2.{number + 1}"
        agent = {"User-Agent": AGENTS[number][0]}
        login(browser, world.a.slug, world.a.admin_email, headers=agent)
        browsers.append(browser)
    return browsers


def is_signed_in(browser, world) -> bool:
    return browser.get(f"/{world.a.slug}/clients/").status_code == 200


def test_the_list_shows_each_browser_and_marks_this_one(app, world):
    mine, other = signed_in_browsers(app, world, 2)
    page = mine.get(f"/{world.a.slug}/sessions").get_data(as_text=True)
    assert "Firefox on Windows" in page and "Mobile Safari on iOS" in page
    assert "Mozilla/5.0" not in page, "people read browsers' names, not their User-Agent"
    # The fixture's session was opened by something no browser family matches.
    assert "192.0.2.2" in page and "This browser" in page and "Unknown browser" in page
    assert page.count("End this session") == 2, "every session but this browser's"
    tech = app.test_client()
    tech.environ_base["REMOTE_ADDR"] = "198.51.100.77"
    login(tech, world.a.slug, world.a.tech_email)
    page = mine.get(f"/{world.a.slug}/sessions").get_data(as_text=True)
    assert "198.51.100.77" not in page, "only the user's own sessions"


def test_ending_another_session_signs_that_browser_out(app, world):
    mine, other = signed_in_browsers(app, world, 2)
    with cross_tenant(db.session):
        other_id = db.session.scalar(
            select(UserSession.id).where(UserSession.ip_address == "192.0.2.2")
        )
    page = mine.get(f"/{world.a.slug}/sessions")
    mine.post(f"/{world.a.slug}/sessions/{other_id}/end", data={"csrf_token": csrf_token(page)})
    assert not is_signed_in(other, world)
    assert is_signed_in(mine, world)


def test_ending_every_other_session_keeps_this_one(app, world):
    mine, *others = signed_in_browsers(app, world, 3)
    page = mine.get(f"/{world.a.slug}/sessions")
    mine.post(f"/{world.a.slug}/sessions/end-others", data={"csrf_token": csrf_token(page)})
    assert is_signed_in(mine, world)
    assert not any(is_signed_in(browser, world) for browser in others)


def test_a_session_of_someone_else_cannot_be_ended(app, world):
    (mine,) = signed_in_browsers(app, world, 1)
    tech = app.test_client()
    login(tech, world.a.slug, world.a.tech_email)
    with cross_tenant(db.session):
        admin_session = db.session.scalar(
            select(UserSession.id).where(UserSession.ip_address == "192.0.2.1")
        )
    page = tech.get(f"/{world.a.slug}/logout")
    response = tech.post(
        f"/{world.a.slug}/sessions/{admin_session}/end", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 404
    assert is_signed_in(mine, world)
