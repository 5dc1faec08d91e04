"""Every page of the route map, visited once as each kind of user (issue 19).

- Phones and small windows: no page is wider than the window, at 390 px (a phone) and
  at 1280 px. Each page is kept as a screenshot under
  test-artifacts/e2e/widths/<who>-<width>-<page>.png, which CI keeps.
- WCAG 2.1 AA, by tools nobody here wrote: axe-core (node_modules, from npm) runs in each
  page at both widths with the WCAG 2.0/2.1 A and AA rules and finds no violation; the
  HTML each page was sent with is kept under test-artifacts/e2e/html/<who>-<page>.html
  and the Nu Html Checker (vnu.jar, from npm, on the machine's Java) finds no error and
  no warning in any of them, but for the few explained in VNU_ALLOWED.

The pages come from the app's own url map, so a new page is covered without anyone
editing this test: the pages without ids are opened directly, those with ids by the
first link to them found on the pages the user has seen (links are followed until no
new page of the map turns up)."""

import json
import re
import shutil
import subprocess
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter, Rule

from portal import create_app
from portal.web.routing import IdConverter
from tests.conftest import make_config
from tests.e2e.conftest import ARTIFACTS, PASSWORD, ROOT

SHOTS = ARTIFACTS / "widths"
HTML = ARTIFACTS / "html"
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
    "requests.attachment": "a file sent with a request (an image or a PDF)",
    "desk.attachment": "a file sent with a request (an image or a PDF)",
    "brand.logo": "the tenant's logo, an image",
    "brand.theme": "the tenant's colour, a style sheet",
    "chat.updates": "what changed for an open chat page, as JSON for its script",
    "chat.picture": "a colleague's chat picture, an image",
    "account.data_download": "the customer's data, a ZIP file",
}
#: Pages that only some data of the demo links to, which the first links followed do
#: not reach (the route sweep of tests/test_routes.py opens them with its own data).
ONLY_WITH_DATA = {
    "access.new": "a contact without portal access (the first contact card has one)",
    "account.propose_correction": "a colleague of the client user (Joseph has none)",
    "admin.delete_branch": "a branch in use by no one (all the demo's are)",
    "proposals.show": "a client's proposal waiting (the demo has none)",
    "support.open_account": "a client without credit account in the support search's results",
    "chat.index": "someone in no channel (every staff member is in Everyone); else a redirect",
    "chat.leave": "a channel but Everyone, which nobody leaves and the sweep opens first",
    "auth.second_factor": "a user with two-factor sign-in on (test_stories_two_factor.py)",
    "admin.reset_two_factor": "a user with two-factor sign-in on (the demo's have none)",
    "auth.passkey_edit": "a passkey (test_stories_passkeys.py makes and removes one)",
    "auth.passkey_remove": "a passkey (test_stories_passkeys.py makes and removes one)",
}
#: Where a route takes a token from a mail, a forged one: the "invalid link" page.
FORGED_TOKEN = "eyJmb3JlaWduIjp0cnVlfQ.forged.token"
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"

#: The checkers, from package.json (`python3 dev.py install` runs `npm ci`).
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
JAVA = shutil.which("java")
NO_AXE = (
    f"axe-core sweep skipped: no {AXE.relative_to(ROOT)}; run `python3 dev.py install` "
    "(npm ci, which needs npm: `apt-get install npm`)"
)
NO_VNU = (
    f"Nu Html Checker skipped: no {VNU.relative_to(ROOT)} or no java; run `python3 dev.py "
    "install` (npm ci) and install Java (`apt-get install default-jre-headless`)"
)
#: axe-core's rules for WCAG 2.0 and 2.1, levels A and AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_RUN = """tags => axe.run(document, {runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"]}).then(result => result.violations.map(v => ({
        id: v.id, help: v.help, targets: v.nodes.map(n => n.target.join(" "))})))"""
#: Warnings of the Nu Html Checker that are no defect, each for a reason (a regular
#: expression matched against the message). Errors are never allowed.
VNU_ALLOWED: dict[str, str] = {}


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
    page.locator("main form [type=submit][name=submit]").click()
    page.locator("form.sign-out").wait_for(state="attached")


def shot_name(path: str) -> str:
    name = path.replace(FORGED_TOKEN, "token").removeprefix(f"/{TENANT}").strip("/")
    name = name.replace("/", "-") or "home"
    return name.replace(".", "-")


@dataclass
class Sweep:
    """What one user's visit of the map found."""

    #: Each page shown: the route's rule → the path that showed it.
    pages: dict[str, str] = field(default_factory=dict)
    #: The pages wider than the window.
    overflows: list[str] = field(default_factory=list)
    #: What axe-core found: one line per rule broken on a page at a width.
    violations: list[str] = field(default_factory=list)
    #: The routes of the map this user never reached.
    unreached: set[str] = field(default_factory=set)


def check_with_axe(page: Page, axe: str, where: str) -> list[str]:
    """Runs axe-core in the page as it is shown, and says what it finds.

    The source is evaluated through the browser's debugging protocol, which the
    page's Content-Security-Policy (script-src 'self', no inline script) does not
    apply to: the sweep sees the pages exactly as they are served."""
    if page.evaluate("typeof axe") == "undefined":
        page.evaluate(axe)
    return [
        f"{found['id']} ({found['help']}) {where}: {', '.join(found['targets'])}"
        for found in page.evaluate(AXE_RUN, AXE_TAGS)
    ]


def visit_all(page: Page, base: str, who: str, signed_in: bool, axe: str | None) -> Sweep:
    """Opens every page of the map this user reaches, at each width: checks its width,
    keeps a screenshot and the HTML it was sent with, and runs axe-core in it (unless
    axe is None)."""
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
    sweep = Sweep()
    rendered = sweep.pages
    tried: set[str] = set()
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
        # The HTML as the server sent it (after redirects), not the DOM scripts changed.
        if response.headers.get("content-type", "").startswith("text/html"):
            (HTML / f"{who}-{shot_name(path)}.html").write_text(response.text())
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            excess = page.evaluate(OVERFLOW)
            page.screenshot(path=SHOTS / f"{who}-{width}-{shot_name(path)}.png", full_page=True)
            if excess > 0:
                sweep.overflows.append(f"{who} at {width} px: {path} is {excess} px too wide")
            if axe:
                where = f"on {path} as {who} at {width} px"
                sweep.violations += check_with_axe(page, axe, where)
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            parts = urlsplit(href)
            found = match(adapter, parts.path) if parts.netloc == urlsplit(base).netloc else None
            if found in rules and found.rule not in tried:
                queue.append((found, parts.path))
    sweep.unreached = {rule.endpoint for rule in rules if rule.rule not in rendered}
    return sweep


@pytest.fixture(scope="module")
def visits():
    return {}


@pytest.mark.parametrize("who", USERS)
def test_no_page_is_wider_than_the_window_at_390_and_1280_px(live, pages, visits, who):
    SHOTS.mkdir(parents=True, exist_ok=True)
    HTML.mkdir(parents=True, exist_ok=True)
    page = pages(who, locale="fr-CA", viewport={"width": WIDTHS[-1], "height": 900})
    login = USERS[who]
    if login:
        sign_in(page, live, login)
    axe = AXE.read_text() if AXE.exists() else None
    sweep = visit_all(page, live, who, signed_in=bool(login), axe=axe)
    visits[who] = sweep
    print(
        f"\n{who}: {len(sweep.pages)} pages x {len(WIDTHS)} widths; "
        f"not theirs: {sorted(sweep.unreached)}"
    )
    assert sweep.overflows == [], "\n".join(sweep.overflows)


def test_every_page_of_the_map_was_visited_by_someone(visits):
    """The sweep above reached every page of the map, as one user or another."""
    assert set(visits) == set(USERS), "run the whole module"
    nobody = set.intersection(*(sweep.unreached for sweep in visits.values()))
    assert nobody - set(ONLY_WITH_DATA) == set(), "pages nobody reached by a link"


def test_axe_core_finds_no_wcag_2_1_aa_violation_on_any_page(visits):
    """axe-core, run in every page of the sweep above at 390 and 1280 px as each kind of
    user, finds nothing against WCAG 2.0 and 2.1, levels A and AA."""
    if not AXE.exists():
        pytest.skip(NO_AXE)
    assert set(visits) == set(USERS), "run the whole module"
    violations = [line for sweep in visits.values() for line in sweep.violations]
    assert violations == [], f"{len(violations)} axe-core violations:\n" + "\n".join(violations)


def test_the_nu_html_checker_finds_nothing_in_any_page(visits):
    """The Nu Html Checker, run once over the HTML every page of the sweep was sent with,
    reports no error, and no warning but the few explained in VNU_ALLOWED."""
    if not (VNU.exists() and JAVA):
        pytest.skip(NO_VNU)
    assert set(visits) == set(USERS), "run the whole module"
    files = sorted(HTML.glob("*.html"))
    assert files, "no page kept"
    checked = subprocess.run(  # noqa: S603 - the checker from package.json, on our files
        [JAVA, "-jar", VNU, "--format", "json", "--stdout", "--exit-zero-always", *files],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    findings = []
    for message in json.loads(checked.stdout)["messages"]:
        kind = message.get("subType", message["type"])
        text = message.get("message", "")
        if kind == "warning" and any(re.search(allowed, text) for allowed in VNU_ALLOWED):
            continue
        if message["type"] == "info" and kind != "warning":
            continue  # notes that are neither errors nor warnings
        name = message.get("url", "").rsplit("/", 1)[-1]
        findings.append(f"{kind}: {name}:{message.get('lastLine', '?')}: {text}")
    assert findings == [], f"{len(findings)} Nu Html Checker findings:\n" + "\n".join(findings)


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


#: The focused element's ring: its colour, style and width, and the colour it sits on
#: (the first ancestor's that is not transparent; the ring is outside the element);
#: ``again`` once the keyboard has gone round the page, ``outside`` past its last control.
FOCUS_RING = """() => {
    const el = document.activeElement, style = getComputedStyle(el);
    let under = el.parentElement, background = "rgb(255, 255, 255)";
    for (; under; under = under.parentElement) {
        const color = getComputedStyle(under).backgroundColor;
        if (color !== "transparent" && !color.endsWith(", 0)")) { background = color; break; }
    }
    const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
        + " " + (el.textContent || el.value || "").replace(/\\s+/g, " ").trim().slice(0, 30);
    const again = el.hasAttribute("data-ring-seen"), outside = el === document.body;
    el.setAttribute("data-ring-seen", "");
    return {name, again, outside, color: style.outlineColor, style: style.outlineStyle,
            width: parseFloat(style.outlineWidth), background};
}"""


def luminance(rgb: str) -> float:
    """The relative luminance of a CSS rgb()/rgba() colour, as WCAG 2.1 defines it."""
    red, green, blue = (int(part) / 255 for part in re.findall(r"[\d.]+", rgb)[:3])
    linear = [
        c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (red, green, blue)
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.mark.parametrize(
    ("who", "path", "width"),
    [
        ("anonymous", "/login", 1280),
        ("admin", "/", 1280),
        ("admin", "/", 390),
        ("client", "/statement", 1280),
    ],
)
def test_the_focus_ring_stands_out_from_what_it_sits_on(live, pages, who, path, width):
    """WCAG 2.1, 1.4.11 (which axe-core cannot measure): every control the keyboard
    reaches shows a ring of 2 px or more that contrasts 3:1 or more with the colour it
    sits on: the header's white, the page's grey, a card's white."""
    page = pages(who, locale="fr-CA", viewport={"width": width, "height": 900})
    if USERS[who]:
        sign_in(page, live, USERS[who])
    page.goto(f"{live}/{TENANT}{path}")
    if width < 768:
        page.locator("header details.menu summary").click()  # the menu's links too
    seen, faint = [], []
    for _ in range(80):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        if ring["again"]:
            break  # round the page, from wherever the focus was first
        if ring["outside"]:
            continue  # past the last control: the next Tab starts again from the top
        seen.append(ring["name"])
        ratio = contrast(ring["color"], ring["background"])
        if ring["style"] == "none" or ring["width"] < 2 or ratio < 3:
            faint.append(
                f"{ring['name']}: {ring['style']} {ring['width']} px {ring['color']} "
                f"on {ring['background']} ({ratio:.2f}:1)"
            )
    print(f"\n{who} on {path} at {width} px: {len(seen)} controls reached by keyboard")
    assert len(seen) > 3, "the keyboard reached hardly any control"
    assert faint == [], "\n".join(faint)
