"""Tests that walk every route in ``app.url_map``: a new route is covered without
anyone editing these tests.

- every endpoint declares a permission, or is one of the public pages listed here;
- signed in to one tenant, every URL of the other tenant answers 404;
- every URL filled with the other tenant's ids (and, for a client user, the other
  client's ids) answers 404 or 403 and shows none of their data;
- every page a user can open has one h1 and a label for every field.
"""

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select
from werkzeug.routing import Rule

from portal.extensions import db
from portal.models import AuditEvent
from portal.permissions import CATALOGUE, SIGNED_IN, is_public, required_permission
from portal.tenancy import bound_to
from portal.web.routing import IdConverter
from tests.conftest import DEVICES, PASSKEY_IDS, PASSWORD, TenantWorld, csrf_token, login
from tests.soft_authenticator import options_of

pytestmark = pytest.mark.usefixtures("administrators_passkeys")

#: The only pages open to anonymous visitors. Adding one is a decision: add it here.
PUBLIC_ENDPOINTS = {
    "static",
    "main.health",
    "auth.login",
    "auth.second_factor",  # the code after the password, before any session
    "auth.second_factor_passkey",  # or a passkey, after the password
    "auth.passkey_sign_in",  # a passkey instead of the password
    "auth.set_password",
    "auth.choose_password",
    "auth.renew_link",
    "auth.forgot_password",
    "auth.reset_password",
    "auth.choose_new_password",
    "auth.confirm_email",
    "auth.choose_language",  # the language switch of the pages above
    "mailing.unsubscribe",
    # The tenant's logo and colour: the sign-in page shows them.
    "brand.logo",
    "brand.theme",
}

FOREIGN_TOKEN = "eyJmb3JlaWduIjp0cnVlfQ.forged.token"

#: POST endpoints that take no CSRF token, each for a reason. Adding one is a decision.
CSRF_EXEMPT = {
    # RFC 8058 one-click unsubscribe: mail clients POST it without a page to hold a
    # token; the signed link in the URL is the proof, and it only unsubscribes.
    "mailing.unsubscribe",
}


def routes(app) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)


def tenant_routes(app) -> list[Rule]:
    return [rule for rule in routes(app) if "tenant" in rule.arguments]


def id_arguments(rule: Rule) -> list[str]:
    return [
        name for name, converter in rule._converters.items() if isinstance(converter, IdConverter)
    ]


def methods(rule: Rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def fill(rule: Rule, slug: str, ids: dict[str, int]) -> str:
    """The rule's URL with ``ids`` for its id arguments and a forged token for the rest."""
    values = {"tenant": slug}
    for name in rule.arguments - {"tenant"}:
        if name in id_arguments(rule):
            assert name in ids, (
                f"{rule.rule}: no id for <{name}> in the two-tenant fixture; "
                f"add one to TenantWorld in tests/conftest.py"
            )
            values[name] = ids[name]
        else:
            values[name] = FOREIGN_TOKEN
    return rule.build(values, append_unknown=False)[1]


def own_ids(world: TenantWorld) -> dict[str, int]:
    return {
        "client_id": world.client_id,
        "contact_id": world.contact_id,
        "user_id": world.client_user_id,
        "session_id": world.admin_session_id,
        "proposal_id": world.proposal_id,
        "account_id": world.account_id,
        "branch_id": world.branch_id,
        "role_id": world.role_id,
        "request_id": world.request_id,
        "file_id": world.file_id,
        "channel_id": world.channel_id,
        "message_id": world.message_id,
        "passkey_id": PASSKEY_IDS[world.tenant_id],
        "export_id": world.export_id,
    }


def other_client_ids(world: TenantWorld) -> dict[str, int]:
    """Ids in the same tenant that a client user of ``world.client_id`` must not reach."""
    return {
        "client_id": world.other_client_id,
        "contact_id": world.other_contact_id,
        "user_id": world.admin_id,
        "session_id": world.admin_session_id,
        "proposal_id": world.other_proposal_id,
        "account_id": world.other_account_id,
        "branch_id": world.branch_id,  # no client user may reach the branches at all
        "role_id": world.role_id,  # nor the roles
        "request_id": world.other_request_id,
        "file_id": world.other_file_id,
        "channel_id": world.channel_id,  # no client user may reach the chat at all
        "message_id": world.message_id,
        "passkey_id": PASSKEY_IDS[world.tenant_id],  # the administrator's
        "export_id": world.other_export_id,  # someone else's, of the other client
    }


def foreign_names(world: TenantWorld) -> list[str]:
    return [
        world.client_name,
        world.other_client_name,
        world.contact_name,
        world.other_contact_name,
        world.name,
    ]


@dataclass
class Visitor:
    client: object
    token: str

    def call(self, method: str, url: str):
        if method == "GET":
            return self.client.get(url)
        return self.client.open(url, method=method, data={"csrf_token": self.token})


def visitor(app, slug: str, login_name: str, password: str = PASSWORD) -> Visitor:
    """Signed in as ``login_name``, with their passkey after the password if they have one."""
    client = app.test_client()
    response = login(client, slug, login_name, password)
    assert response.status_code == 302
    if response.location.endswith("/login/code"):
        page = client.get(response.location)
        answer = DEVICES[login_name].get(options_of(page))
        response = client.post(
            f"/{slug}/login/code/passkey",
            data={"passkey-csrf_token": csrf_token(page), "passkey-response": answer},
        )
        assert response.status_code == 302 and not response.location.endswith("/login/code")
    return Visitor(client, csrf_token(client.get(f"/{slug}/logout")))


def test_every_endpoint_declares_a_permission_or_is_listed_public(app):
    undeclared, unknown, unlisted_public = [], [], []
    for endpoint, view in app.view_functions.items():
        if endpoint == "static" or is_public(view):
            if endpoint not in PUBLIC_ENDPOINTS:
                unlisted_public.append(endpoint)
            continue
        needed = required_permission(app, endpoint)
        if needed is None:
            undeclared.append(endpoint)
        elif needed != SIGNED_IN and needed not in CATALOGUE:
            unknown.append(endpoint)
    assert undeclared == [], "endpoints without @permission"
    assert unknown == []
    assert unlisted_public == [], "public endpoints missing from PUBLIC_ENDPOINTS"


def test_an_undeclared_endpoint_is_refused_even_to_an_administrator(app, world):
    app.add_url_rule("/<tenant>/forgotten", "forgotten", lambda: "secret data")
    browser = visitor(app, world.a.slug, world.a.admin_email)
    response = browser.client.get(f"/{world.a.slug}/forgotten")
    assert response.status_code == 403
    assert "secret data" not in response.get_data(as_text=True)


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_every_post_route_refuses_a_missing_or_wrong_csrf_token_and_changes_nothing(
    app, world, token
):
    browser = visitor(app, world.a.slug, world.a.admin_email)
    with bound_to(db.session, world.a.tenant_id):
        before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    checked = 0
    for rule in tenant_routes(app):
        if "POST" not in rule.methods or rule.endpoint in CSRF_EXEMPT:
            continue
        url = fill(rule, world.a.slug, own_ids(world.a))
        data = {} if token is None else {"csrf_token": token}
        response = browser.client.post(url, data=data)
        assert response.status_code == 400, (url, response.status_code)
        checked += 1
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before
    assert checked > 20


def test_every_url_of_another_tenant_answers_404(app, world):
    for login_name in (world.a.admin_email, world.a.client_user_email):
        browser = visitor(app, world.a.slug, login_name)
        for rule in tenant_routes(app):
            url = fill(rule, world.b.slug, own_ids(world.b))
            for method in methods(rule):
                response = browser.call(method, url)
                assert response.status_code == 404, (login_name, method, url)
                body = response.get_data(as_text=True)
                assert not any(name in body for name in foreign_names(world.b)), (method, url)


@pytest.mark.parametrize(
    ("who", "whose_ids"),
    [
        ("staff", "another tenant's"),
        ("client user", "another tenant's"),
        ("client user", "another client's"),
    ],
)
def test_every_url_with_ids_not_ones_own_answers_404_or_403(app, world, who, whose_ids):
    login_name = world.a.admin_email if who == "staff" else world.a.client_user_email
    if whose_ids == "another tenant's":
        ids, hidden = own_ids(world.b), foreign_names(world.b)
    else:
        ids, hidden = (
            other_client_ids(world.a),
            [world.a.other_client_name, world.a.other_contact_name],
        )
    browser = visitor(app, world.a.slug, login_name)
    checked = 0
    for rule in tenant_routes(app):
        if not id_arguments(rule):
            continue
        url = fill(rule, world.a.slug, ids)
        for method in methods(rule):
            response = browser.call(method, url)
            assert response.status_code in (403, 404), (method, url, response.status_code)
            body = response.get_data(as_text=True)
            assert not any(name in body for name in hidden), (method, url)
            checked += 1
    assert checked, "no route with ids was found: the sweep would prove nothing"


def test_every_chat_url_of_a_channel_one_is_not_in_answers_404_without_its_content(app, world):
    """Membership is the chat's one rule: every route that takes a channel or a message,
    walked by a member of the tenant (its administrator, who holds the chat's
    administration too) with the ids of a channel they are not in, answers 404 and
    shows neither the channel's name nor its messages."""
    ids = own_ids(world.a) | {
        "channel_id": world.a.private_channel_id,
        "message_id": world.a.private_message_id,
    }
    hidden = [world.a.private_channel_name, world.a.private_message_text]
    browser = visitor(app, world.a.slug, world.a.admin_email)
    checked = 0
    for rule in tenant_routes(app):
        if not {"channel_id", "message_id"} & set(id_arguments(rule)):
            continue
        url = fill(rule, world.a.slug, ids)
        for method in methods(rule):
            response = browser.call(method, url)
            assert response.status_code == 404, (method, url, response.status_code)
            body = response.get_data(as_text=True)
            assert not any(text in body for text in hidden), (method, url)
            checked += 1
    for url in (
        f"/{world.a.slug}/chat/updates?channel={world.a.private_channel_id}&after=0",
        f"/{world.a.slug}/chat/",
        f"/{world.a.slug}/",
    ):
        body = browser.client.get(url, follow_redirects=True).get_data(as_text=True)
        assert not any(text in body for text in hidden), url
    assert checked >= 8, "the chat's routes with ids were not found"


def test_the_sweep_ids_are_real_every_id_page_opens_for_its_own_tenant(app, world):
    """Control: with their own ids, each GET page with ids opens (or sends on to another
    page of the site) for staff or client user, so the 404s above come from scoping,
    not from wrong ids."""
    staff = visitor(app, world.a.slug, world.a.admin_email)
    client_user = visitor(app, world.a.slug, world.a.client_user_email)

    def opens(response) -> bool:
        return response.status_code == 200 or (
            response.status_code == 302 and "/login" not in response.location
        )

    for rule in tenant_routes(app):
        if not id_arguments(rule) or "GET" not in rule.methods:
            continue
        url = fill(rule, world.a.slug, own_ids(world.a))
        responses = [staff.call("GET", url), client_user.call("GET", url)]
        assert any(opens(r) for r in responses), (url, [r.status_code for r in responses])


class PageStructure(HTMLParser):
    """Collects the h1 count, form fields and labels, element ids and attributes that
    say ``None`` (a template passing Python's None where it meant no attribute)."""

    def __init__(self):
        super().__init__()
        self.h1 = 0
        self.ids: list[str] = []
        self.none_attributes: list[str] = []
        self.fields: list[str | None] = []
        self.labelled: set[str] = set()
        self.inline_scripts = 0
        self.inline_styles = 0

    def handle_starttag(self, tag, attrs):
        self.none_attributes += [f"{tag} {name}" for name, value in attrs if value == "None"]
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.append(attrs["id"])
        if tag == "h1":
            self.h1 += 1
        elif tag == "label" and attrs.get("for"):
            self.labelled.add(attrs["for"])
        elif tag in {"input", "select", "textarea"} and attrs.get("type") not in {
            "hidden",
            "submit",
            "button",
        }:
            self.fields.append(attrs.get("id"))
        elif tag == "script" and not attrs.get("src"):
            self.inline_scripts += 1
        elif tag == "style":
            self.inline_styles += 1
        if "style" in attrs or any(name.startswith("on") for name in attrs):
            self.inline_styles += 1


def pages_to_check(app, world):
    anonymous = app.test_client()
    staff = visitor(app, world.a.slug, world.a.admin_email).client
    client_user = visitor(app, world.a.slug, world.a.client_user_email).client
    for rule in tenant_routes(app):
        if "GET" not in rule.methods:
            continue
        url = fill(rule, world.a.slug, own_ids(world.a))
        for browser in (anonymous, staff, client_user):
            yield url, browser.get(url)
    yield "/unknown-tenant/login", anonymous.get("/unknown-tenant/login")


def test_every_page_has_one_h1_labelled_fields_and_no_inline_code(app, world):
    """…and unique element ids, and no attribute rendered from a None."""
    seen = 0
    for url, response in pages_to_check(app, world):
        assert response.status_code != 500, url
        if 300 <= response.status_code < 400 or response.mimetype != "text/html":
            continue  # a redirect, or a download such as the statement's CSV
        page = PageStructure()
        page.feed(response.get_data(as_text=True))
        assert page.h1 == 1, (url, response.status_code, page.h1)
        unlabelled = [field for field in page.fields if field not in page.labelled]
        assert unlabelled == [], (url, unlabelled)
        assert page.inline_scripts == 0 and page.inline_styles == 0, url
        assert page.none_attributes == [], (url, page.none_attributes)
        duplicate_ids = sorted({id_ for id_ in page.ids if page.ids.count(id_) > 1})
        assert duplicate_ids == [], (url, duplicate_ids)
        seen += 1
    assert seen > 5


def test_no_template_uses_inline_script_or_style(app):
    """Pages run under a CSP without inline script or style. Mails are no pages: mail
    clients only read inline styles, so a mail's styles are inline, and it has no script
    at all, not even from a file."""
    from pathlib import Path

    offenders = []
    for path in Path(app.template_folder).rglob("*.html"):
        text = path.read_text()
        is_mail = path.parent.name == "mail"
        if is_mail and re.search(r"<script", text):
            offenders.append(path.name)
        if not is_mail and (
            re.search(r"<script(?![^>]*\bsrc=)", text) or re.search(r"\sstyle=|<style", text)
        ):
            offenders.append(path.name)
        if re.search(r"\son[a-z]+=", text):
            offenders.append(path.name)
    assert offenders == []


LIMITED_STAFF = ["branch-limited", "assignment-limited"]


def limited_visitor(app, shared_world, who: str) -> Visitor:
    email = (
        shared_world.branch_tech_email
        if who == "branch-limited"
        else shared_world.assigned_tech_email
    )
    return visitor(app, shared_world.world.a.slug, email)


@pytest.mark.parametrize("who", LIMITED_STAFF)
def test_staff_who_see_part_of_a_shared_account_walk_every_route_without_error(
    app, shared_world, who
):
    """Every route, filled with what these staff may see (an account billed to a company of
    another branch, or not assigned to them), answers without a server error and never
    names the company they cannot see; GETs first, then POSTs with only a CSRF token."""
    world = shared_world.world.a
    browser = limited_visitor(app, shared_world, who)
    ids = own_ids(world) | {"account_id": shared_world.account_id}
    checked = 0
    for wanted in ("GET", "POST"):
        for rule in tenant_routes(app):
            if wanted not in methods(rule) or rule.endpoint == "auth.logout":
                continue
            url = fill(rule, world.slug, ids)
            response = browser.call(wanted, url)
            assert response.status_code < 500, (wanted, url, response.status_code)
            body = response.get_data().decode("utf-8", "replace")  # files are bytes
            assert not any(name in body for name in shared_world.hidden_names), (wanted, url)
            checked += 1
    assert checked > 40
    shared = browser.client.get(f"/{world.slug}/support/accounts/{shared_world.account_id}")
    assert shared.status_code == 200, "the walk must have kept the session signed in"


@pytest.mark.parametrize("who", LIMITED_STAFF)
def test_staff_limited_to_part_of_a_tenant_get_404_or_403_for_what_they_cannot_see(
    app, shared_world, who
):
    world = shared_world.world.a
    browser = limited_visitor(app, shared_world, who)
    checked = 0
    for rule in tenant_routes(app):
        if not id_arguments(rule):
            continue
        url = fill(rule, world.slug, other_client_ids(world))
        for method in methods(rule):
            response = browser.call(method, url)
            assert response.status_code in (403, 404), (method, url, response.status_code)
            body = response.get_data().decode("utf-8", "replace")
            assert not any(name in body for name in shared_world.hidden_names), (method, url)
            checked += 1
    assert checked


def test_the_support_pages_old_addresses_redirect_to_them_with_their_query_string(app, world):
    """Mailed and bookmarked links from when support shared /<tenant>/admin keep working."""
    slug, account_id, client_id = world.a.slug, world.a.account_id, world.a.client_id
    browser = visitor(app, slug, world.a.admin_email)
    for old, new in (
        (f"/{slug}/admin/?q=ALP", f"/{slug}/support/?q=ALP"),
        (f"/{slug}/admin/accounts/{account_id}", f"/{slug}/support/accounts/{account_id}"),
        (
            f"/{slug}/admin/accounts/{account_id}?page=2",
            f"/{slug}/support/accounts/{account_id}?page=2",
        ),
        (
            f"/{slug}/admin/clients/{client_id}/open-account",
            f"/{slug}/support/clients/{client_id}/open-account",
        ),
    ):
        response = browser.client.get(old)
        assert (response.status_code, response.location) == (301, new), old
        assert browser.client.get(new).status_code == 200, new


def test_a_form_posted_to_an_old_support_address_is_sent_on_as_a_post(app, world):
    slug, account_id = world.a.slug, world.a.account_id
    browser = visitor(app, slug, world.a.admin_email)
    old = f"/{slug}/admin/accounts/{account_id}/interventions"
    form = {
        "csrf_token": browser.token,
        "summary": "Posted from a page opened before the move",
        "minutes": "5",
        "normal": "Normal",
    }
    response = browser.client.post(old, data=form)
    assert response.status_code == 308
    assert response.location == f"/{slug}/support/accounts/{account_id}/interventions"
    # A browser sends the same POST again to the new address (RFC 7538); there it lands.
    landed = browser.client.post(response.location, data=form, follow_redirects=True)
    assert landed.request.path == f"/{slug}/support/accounts/{account_id}"
    assert "Recorded: the balance is now" in landed.get_data(as_text=True)


def test_the_administration_pages_keep_their_addresses(app, world):
    browser = visitor(app, world.a.slug, world.a.admin_email)
    for page in ("users", "settings", "branches", "roles", "audit"):
        response = browser.client.get(f"/{world.a.slug}/admin/{page}")
        assert response.status_code == 200, page
    assert browser.client.get(f"/{world.a.slug}/admin/elsewhere").status_code == 404
    posted = browser.call("POST", f"/{world.a.slug}/admin/audit")
    assert posted.status_code == 405  # a GET page, not sent on to support
