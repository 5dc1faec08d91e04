"""People's words everywhere: pages never show Python's None, a raw permission key or a
true/false, and the statement's CSV gives words beside its codes."""

import re
from html.parser import HTMLParser

import pytest

from portal.extensions import db
from portal.models import Client, Contact, CreditAccount, Role, User
from portal.models.base import utcnow
from portal.permissions import CATALOGUE
from portal.services import clients, credit, roles
from portal.tenancy import bound_to
from tests.conftest import acting, login
from tests.test_routes import pages_to_check


class VisibleText(HTMLParser):
    """The text a reader sees: no tags, no script or style, no attribute values."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style", "template"}:
            self.hidden += 1

    def handle_endtag(self, tag):
        if tag in {"script", "style", "template"} and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return parser.text


KEY = re.compile(r"\b[a-z]+\.[a-z_]+\b")


def raw_words(text: str) -> list[str]:
    """What a reader should never see: None, a permission key, true or false."""
    found = re.findall(r"\bNone\b|\btrue\b|\bfalse\b|\bTrue\b|\bFalse\b", text)
    found += [key for key in KEY.findall(text) if key in CATALOGUE]
    return found


def test_the_visible_text_helper_finds_what_it_must():
    html = "<p>Phone: None</p><p>portal.self</p><p title='None'>false → true</p><p>Nonexistent</p>"
    assert raw_words(visible_text(html)) == ["None", "false", "true", "portal.self"]
    assert raw_words(visible_text("<script src='x.js'></script><p>Nonetheless, ok.</p>")) == []


@pytest.mark.usefixtures("administrators_passkeys")
def test_no_page_shows_none_a_permission_key_or_a_boolean(app, world):
    """…nor a heading with a section prefix such as "Clients - "."""
    offenders = {}
    seen = 0
    for url, response in pages_to_check(app, world):
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        seen += 1
        html = response.get_data(as_text=True)
        found = raw_words(visible_text(html))
        heading = visible_text(re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1))
        if re.match(r"\w+ [-–—] ", heading):
            found.append(f"heading with a prefix: {heading}")
        if found:
            offenders[url] = sorted(set(found))
    assert seen > 5
    assert offenders == {}, "\n".join(f"{url}: {words}" for url, words in offenders.items())


def make_changes_of_every_kind(world) -> None:
    """A flag, a permission list, an enumeration and a date in the audit log."""
    tenant = world.a
    with bound_to(db.session, tenant.tenant_id):
        actor = acting(db.session.get(User, tenant.admin_id))
        client = db.session.get(Client, tenant.client_id)
        clients.update_client(
            client, {"shipping_same_as_billing": not client.shipping_same_as_billing}, actor=actor
        )
        clients.update_client(client, {"mode": "individual", "language": "fr"}, actor=actor)
        account = db.session.get(CreditAccount, tenant.account_id)
        credit.set_npi(account, True, reason="Unpaid invoice", actor=actor)
        role = db.session.get(Role, tenant.role_id)
        roles.update_role(role, role.name, {"clients.view", "support.record"}, actor=actor)
        db.session.commit()


def test_the_audit_log_tells_changes_in_words(app, world):
    make_changes_of_every_kind(world)
    browser = app.test_client()
    login(browser, world.a.slug, world.a.admin_email)
    for url in (f"/{world.a.slug}/admin/audit", f"/{world.a.slug}/clients/{world.a.client_id}/log"):
        response = browser.get(url)
        assert response.status_code == 200, url
        text = visible_text(response.get_data(as_text=True))
        assert raw_words(text) == [], (url, raw_words(text))
        assert re.search(r"\b(Yes → No|No → Yes)\b", text), url
        assert "Company → Individual" in text, url
        assert "→ French" in text, url
    audit = visible_text(browser.get(f"/{world.a.slug}/admin/audit").get_data(as_text=True))
    assert re.search(r"Do not intervene ?: No → Yes", audit), audit
    assert str(CATALOGUE["support.record"]) in audit
    assert "support.record" not in audit


def test_roles_are_shown_by_what_their_permissions_let_people_do(app, world):
    browser = app.test_client()
    login(browser, world.a.slug, world.a.admin_email)
    for url in (f"/{world.a.slug}/admin/roles", f"/{world.a.slug}/admin/roles/{world.a.role_id}"):
        text = visible_text(browser.get(url).get_data(as_text=True))
        assert str(CATALOGUE["support.record"]) in text, url
        assert "support.record" not in text, url


def test_a_missing_value_reads_as_a_dash(app, world):
    browser = app.test_client()
    login(browser, world.a.slug, world.a.admin_email)
    with bound_to(db.session, world.a.tenant_id):
        client = db.session.get(Client, world.a.client_id)
        client.fax = None
        client.website = None
        db.session.commit()
    text = visible_text(
        browser.get(f"/{world.a.slug}/clients/{world.a.client_id}").get_data(as_text=True)
    )
    assert "Fax —" in text
    assert "Website —" in text


def test_the_statement_csv_gives_words_beside_its_stable_codes(app, world):
    """People read the kind and the billing in their language; programs keep the codes."""
    from tests.test_statement import START, client_user, csv_rows, grow, statement_url

    grow(world, 1, start=START)
    with bound_to(db.session, world.a.tenant_id):
        db.session.get(User, world.a.client_user_id).locale = "fr"
        db.session.commit()
    rows = csv_rows(client_user(app, world).get(statement_url(world, suffix=".csv")))
    header, opening, intervention = rows[0], rows[1], rows[-1]
    kind, billing = header.index("Type"), header.index("Facturation")
    assert (opening[kind], opening[kind + 1]) == ("Achat", "purchase")
    assert (intervention[kind], intervention[kind + 1]) == ("Intervention", "intervention")
    assert (intervention[billing], intervention[billing + 1]) == ("Normal", "normal")
    assert len(header) == len(intervention) == 12


def test_the_clients_page_ends_with_its_contacts_table_at_a_constant_cost(app, world):
    """As seed 004: the client's current contacts below its details, as on the tab."""
    from tests.test_home import statements

    tenant = world.a
    url = f"/{tenant.slug}/clients/{tenant.client_id}"
    browser = app.test_client()
    login(browser, tenant.slug, tenant.admin_email)
    with bound_to(db.session, tenant.tenant_id):
        db.session.add(
            Contact(client_id=tenant.client_id, name="Gone Person", archived_at=utcnow())
        )
        db.session.commit()
    html = browser.get(url).get_data(as_text=True)
    section = html[html.index('id="contacts-heading"') :]
    assert re.search(r'<table>.*<th scope="col">Email</th>', section, re.S)
    assert f">{tenant.contact_name}</a>" in section
    assert "Gone Person" not in section
    assert f"/clients/{tenant.client_id}/contacts" in section
    few = statements(browser, url)
    with bound_to(db.session, tenant.tenant_id):
        for number in range(30):
            db.session.add(
                Contact(client_id=tenant.client_id, name=f"Person {number}", phone="555 0100")
            )
        db.session.commit()
    assert statements(browser, url) == few
    assert "Person 29" in browser.get(url).get_data(as_text=True)


def test_a_refused_sign_in_is_told_in_words_on_the_audit_page(app, world):
    tenant = world.a
    assert login(app.test_client(), tenant.slug, tenant.tech_email, "wrong").status_code == 200
    browser = app.test_client()
    login(browser, tenant.slug, tenant.admin_email)
    text = visible_text(browser.get(f"/{tenant.slug}/admin/audit").get_data(as_text=True))
    assert f"Sign-in refused · {tenant.tech_email} · Unknown user or wrong password" in text
    assert "· password" not in text


def test_stored_change_values_read_as_words(app):
    from portal.services.audit.labels import change_value

    with app.test_request_context():
        assert change_value("npi", "true") == "Yes"
        assert change_value("recap_mails", "False") == "No"
        assert change_value("status", "invited") == "Invited"
        assert change_value("type", "prospect") == "Prospect"
        assert change_value("valid_until", "2026-03-31") == "3/31/26"
        assert change_value("permissions", "credit.npi") == str(CATALOGUE["credit.npi"])
        assert change_value("name", "Acme") == "Acme"
        assert change_value("name", None) is None


#: Pictographs that a system may draw as colour emoji, or not at all: the Miscellaneous
#: Symbols and Dingbats blocks, their supplements, and the emoji planes.
PICTOGRAPHS = re.compile("[\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff]")


def test_icons_are_inline_svg_never_emoji(app, world):
    from pathlib import Path

    templates = Path(app.root_path).parent / "templates"
    found = {
        f"{path.relative_to(templates)}:{number}": PICTOGRAPHS.findall(line)
        for path in templates.rglob("*.html")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if PICTOGRAPHS.search(line)
    }
    assert found == {}
    browser = app.test_client()
    login(browser, world.a.slug, world.a.admin_email)
    page = browser.get(f"/{world.a.slug}/clients/?dir=desc").get_data(as_text=True)
    icon = re.search(r'<svg class="icon"[^>]*>', page)
    assert icon and 'aria-hidden="true"' in icon.group(0), "an icon beside its words, silent"


def test_every_audited_action_has_words():
    """The log names each action in words: every action a service records has a label
    (an action chosen by a condition is found on each branch)."""
    import ast
    from pathlib import Path

    from portal.services.audit.labels import ACTIONS

    recorded = set()
    for path in (Path(__file__).resolve().parents[1] / "portal").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            is_record = (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("record", "record_refusal")
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "audit"
            )
            if is_record and node.args:
                recorded |= {
                    constant.value
                    for constant in ast.walk(node.args[0])
                    if isinstance(constant, ast.Constant) and isinstance(constant.value, str)
                }
    assert len(recorded) > 30
    assert sorted(recorded - set(ACTIONS)) == []


def test_one_number_one_name_in_every_language():
    """The customer ID (the credit account's number, seed 002's 4996) and the client's
    code are two numbers: no language may call both by the same name, nor give the
    customer ID two names."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    folder = Path(__file__).resolve().parents[1] / "portal" / "translations"
    for locale in ("fr", "fr_CA"):
        with open(folder / locale / "LC_MESSAGES" / "messages.po", "rb") as po:
            catalogue = read_po(po)
        labels = {message.id: message.string for message in catalogue if message.string}
        if "Customer ID" not in labels:
            continue  # fr_CA says it as fr does
        same_name = sorted(id_ for id_, text in labels.items() if text == labels["Customer ID"])
        assert same_name == ["Customer ID"], (locale, same_name)
