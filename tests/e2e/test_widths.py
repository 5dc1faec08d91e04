"""Phones and small windows (issue 19): no page of the route map is wider than the
window, at 390 px (a phone) and at 1280 px, for each kind of user. Each page is kept
as a screenshot under test-artifacts/e2e/widths/<who>-<width>-<page>.png, which CI keeps.

The pages come from the app's own url map, so a new page is covered without anyone
editing this test: the pages without ids are opened directly, those with ids by the
first link to them found on the pages the user has seen (links are followed until no
new page of the map turns up)."""

from collections import deque
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter, Rule

from portal import create_app
from portal.web.routing import IdConverter
from tests.conftest import make_config
from tests.e2e.conftest import ARTIFACTS, PASSWORD

SHOTS = ARTIFACTS / "widths"
WIDTHS = (390, 1280)
TENANT = "demo"
#: Who visits: a name for the screenshots, and the login (None: nobody signed in).
USERS = {
    "anonymous": None,
    "admin": "admin@demo.test",
    "tech": "tech@demo.test",
    "client": "jszczygiel@jmactions.com",
}
#: GET routes of the map that are not pages to look at, each for a reason.
NOT_PAGES = {
    "statement.export": "a CSV file",
    "statement.account_export": "a CSV file",
    "support_moved.moved_page": "a redirect of an old address",
}
#: Pages that only some data of the demo links to, which the first links followed do
#: not reach (the route sweep of tests/test_routes.py opens them with its own data).
ONLY_WITH_DATA = {
    "access.new": "a contact without portal access (the first contact card has one)",
    "account.propose_correction": "a colleague of the client user (Joseph has none)",
    "admin.delete_branch": "a branch in use by no one (all the demo's are)",
    "proposals.show": "a client's proposal waiting (the demo has none)",
    "support.open_account": "a client without credit account in the support search's results",
}
#: Where a route takes a token from a mail, a forged one: the "invalid link" page.
FORGED_TOKEN = "eyJmb3JlaWduIjp0cnVlfQ.forged.token"
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


def page_rules() -> tuple[list[Rule], MapAdapter]:
    app = create_app(make_config("sqlite://"), commands=False)
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and "tenant" in rule.arguments and rule.endpoint not in NOT_PAGES
    ]
    return sorted(rules, key=lambda rule: rule.rule), app.url_map.bind("127.0.0.1")


def id_arguments(rule: Rule) -> set[str]:
    return {name for name, conv in rule._converters.items() if isinstance(conv, IdConverter)}


def match(adapter: MapAdapter, path: str) -> Rule | None:
    try:
        return adapter.match(path, method="GET", return_rule=True)[0]
    except HTTPException:
        return None


def sign_in(page: Page, base: str, login: str) -> None:
    page.goto(f"{base}/{TENANT}/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form [type=submit]").click()
    page.locator("form.sign-out").wait_for(state="attached")


def shot_name(path: str) -> str:
    name = path.replace(FORGED_TOKEN, "token").removeprefix(f"/{TENANT}").strip("/")
    name = name.replace("/", "-") or "home"
    return name.replace(".", "-")


def visit_all(page: Page, base: str, who: str, signed_in: bool) -> tuple[dict, list, set]:
    """Opens every page of the map this user reaches, at each width. Returns the pages
    (endpoint → path), the overflows found, and the routes never reached."""
    rules, adapter = page_rules()
    queue: deque[tuple[Rule, str]] = deque()
    for rule in rules:
        if id_arguments(rule):
            continue  # filled from the links found
        values = {"tenant": TENANT}
        tokens = rule.arguments - {"tenant"}
        if tokens and signed_in:
            continue  # the links from mails are for people not signed in
        values.update(dict.fromkeys(tokens, FORGED_TOKEN))
        queue.append((rule, rule.build(values, append_unknown=False)[1]))
    rendered: dict[str, str] = {}  # rule → the path that showed it
    tried: set[str] = set()
    overflows = []
    while queue:
        rule, path = queue.popleft()
        if rule.rule in tried:
            continue
        tried.add(rule.rule)
        page.set_viewport_size({"width": WIDTHS[-1], "height": 900})
        response = page.goto(base + path)
        landed = urlsplit(page.url).path
        # A page that sends this user elsewhere (the sign-in page, a refusal) is not
        # theirs; a mail's link leads, with its forged token, to the page that says the
        # link is not valid, which is one to look at all the same.
        token_flow = bool(rule.arguments - {"tenant"} - id_arguments(rule))
        if landed != path:
            target = match(adapter, landed)
            if not token_flow or target not in rules or target.rule in rendered:
                continue
            rendered[rule.rule] = path
            tried.add(target.rule)
            rule, path = target, landed
        elif response.status >= 400 and not token_flow:
            continue
        rendered[rule.rule] = path
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            excess = page.evaluate(OVERFLOW)
            page.screenshot(path=SHOTS / f"{who}-{width}-{shot_name(path)}.png", full_page=True)
            if excess > 0:
                overflows.append(f"{who} at {width} px: {path} is {excess} px too wide")
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            parts = urlsplit(href)
            found = match(adapter, parts.path) if parts.netloc == urlsplit(base).netloc else None
            if found in rules and found.rule not in tried:
                queue.append((found, parts.path))
    unreached = {rule.endpoint for rule in rules if rule.rule not in rendered}
    return rendered, overflows, unreached


@pytest.fixture(scope="module")
def visits():
    return {}


@pytest.mark.parametrize("who", USERS)
def test_no_page_is_wider_than_the_window_at_390_and_1280_px(live, pages, visits, who):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = pages(who, locale="fr-CA", viewport={"width": WIDTHS[-1], "height": 900})
    login = USERS[who]
    if login:
        sign_in(page, live, login)
    seen, overflows, unreached = visit_all(page, live, who, signed_in=bool(login))
    visits[who] = (seen, unreached)
    print(f"\n{who}: {len(seen)} pages x {len(WIDTHS)} widths; not theirs: {sorted(unreached)}")
    assert overflows == [], "\n".join(overflows)


def test_every_page_of_the_map_was_visited_by_someone(visits):
    """The sweep above reached every page of the map, as one user or another."""
    assert set(visits) == set(USERS), "run the whole module"
    nobody = set.intersection(*(unreached for _seen, unreached in visits.values()))
    assert nobody - set(ONLY_WITH_DATA) == set(), "pages nobody reached by a link"


def test_the_menu_folds_on_a_phone_and_opens_without_javascript_by_keyboard(live, pages):
    """At 390 px the navigation and the user's links hide behind "Menu", which the
    keyboard opens, with no JavaScript at all; at 1280 px they show and "Menu" does not."""
    phone = pages("phone", locale="en-US", viewport={"width": 390, "height": 800})
    sign_in(phone, live, "admin@demo.test")
    phone.goto(f"{live}/{TENANT}/clients/")
    offline = pages("no-script", java_script_enabled=False, viewport={"width": 390, "height": 800})
    offline.context.add_cookies(phone.context.cookies())
    for page in (phone, offline):
        page.goto(f"{live}/{TENANT}/clients/")
        menu = page.locator("header details.menu")
        current = menu.locator('nav a[aria-current="page"]')
        assert menu.locator("summary").is_visible()
        assert not current.is_visible()
        assert not page.locator("form.sign-out button").is_visible()
        menu.locator("summary").focus()
        page.keyboard.press("Enter")
        assert current.is_visible()
        assert current.get_attribute("href") == f"/{TENANT}/clients/"
        assert page.locator("form.sign-out button").is_visible()
        assert page.evaluate(OVERFLOW) <= 0

    wide = pages("wide", locale="en-US", viewport={"width": 1280, "height": 800})
    wide.context.add_cookies(phone.context.cookies())
    wide.goto(f"{live}/{TENANT}/clients/")
    assert not wide.locator("header details.menu summary").is_visible()
    assert wide.locator('header nav a[aria-current="page"]').is_visible()
    wide.locator("form.sign-out button").click()  # signs out in one click, as before
    wide.get_by_role("heading", level=1).wait_for()
    assert "/login" in wide.url or wide.locator("form.languages").count() == 1


def test_a_wide_table_scrolls_in_its_box_keeping_its_first_column_and_prints_whole(live, pages):
    phone = pages("phone", locale="fr-CA", viewport={"width": 390, "height": 800})
    sign_in(phone, live, "admin@demo.test")
    phone.goto(f"{live}/{TENANT}/admin/users")
    table = phone.locator("main table").first
    box = table.evaluate("t => ({scroll: t.scrollWidth, client: t.clientWidth})")
    assert box["scroll"] > box["client"]  # more columns than the phone shows ...
    assert phone.evaluate(OVERFLOW) <= 0  # ... inside the table's box, not the page's
    key = table.locator("tbody tr td").first
    before = key.bounding_box()["x"]
    table.evaluate("t => { t.scrollLeft = 300; }")
    assert table.evaluate("t => t.scrollLeft") > 0
    assert key.bounding_box()["x"] == before  # the key column stays in view
    assert table.locator("tbody tr td").nth(1).bounding_box()["x"] < before + 100
    phone.emulate_media(media="print")
    assert table.evaluate("t => getComputedStyle(t).display") == "table"
    assert table.evaluate("t => getComputedStyle(t).overflowX") == "visible"
