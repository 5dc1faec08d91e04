"""Attacks that hit customer portals, and what Portal answers (issue 9): exact security
headers, the limiter behind a forged X-Forwarded-For, mail links that ignore a forged
Host, and random and hostile values posted to every form of every page."""

import re
from html.parser import HTMLParser

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, OutboxMail
from portal.tenancy import cross_tenant
from tests.conftest import csrf_token, login
from tests.test_routes import fill, own_ids, tenant_routes, visitor

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def test_the_security_headers_are_exactly_these(client, world):
    anonymous = client.get(f"/{world.a.slug}/login").headers
    assert {
        name: anonymous.get(name)
        for name in (
            "Content-Security-Policy",
            "X-Content-Type-Options",
            "Referrer-Policy",
            "X-Frame-Options",
            "Strict-Transport-Security",
        )
    } == {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Strict-Transport-Security": None,
    }
    signed_in = login(client, world.a.slug, world.a.admin_email)
    cookie = signed_in.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get(f"/{world.a.slug}/clients/").headers["Cache-Control"] == "no-store"


def test_the_limiter_answers_429_whatever_x_forwarded_for_claims(client, world):
    """With no trusted proxy, the forwarded address is ignored: rotating it buys nothing."""
    for attempt in range(10):
        response = login(
            client,
            world.a.slug,
            world.a.admin_email,
            "wrong password",
            headers={"X-Forwarded-For": f"203.0.113.{attempt}"},
        )
        assert response.status_code == 200
    refused = login(
        client,
        world.a.slug,
        world.a.admin_email,
        "wrong password",
        headers={"X-Forwarded-For": "198.51.100.77"},
    )
    assert refused.status_code == 429


def test_a_reset_link_asked_for_under_a_forged_host_points_to_the_base_url(app, client, world):
    evil = "http://evil.example"
    page = client.get(f"/{world.a.slug}/password/forgot", base_url=evil)
    asked = client.post(
        f"/{world.a.slug}/password/forgot",
        base_url=evil,
        data={"csrf_token": csrf_token(page), "login": world.a.admin_email},
    )
    assert asked.status_code == 302
    with cross_tenant(db.session):
        mail = db.session.scalar(select(OutboxMail).where(OutboxMail.kind == "password_reset"))
    assert mail is not None
    links = re.findall(r"https?://[^\s\"<]+", mail.text_body + mail.html_body)
    assert links and all(link.startswith(app.config["PORTAL_BASE_URL"]) for link in links)
    assert "evil.example" not in mail.text_body + mail.html_body


class Forms(HTMLParser):
    """The POST forms of a page: their action and the names of their fields."""

    def __init__(self, url: str):
        super().__init__()
        self.url, self.forms, self.current = url, [], None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and attributes.get("method", "").lower() == "post":
            self.current = (attributes.get("action") or self.url, set())
            self.forms.append(self.current)
        elif (
            self.current
            and tag in ("input", "textarea", "select")
            and attributes.get("name")
            and attributes.get("type") not in ("hidden", "submit")
        ):
            self.current[1].add(attributes["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None


def forms_of(app, world) -> list[tuple[str, str, frozenset[str]]]:
    """(who, action, fields) of every POST form with fields on every page of the site."""
    found = set()
    for who, email in (("staff", world.a.admin_email), ("client", world.a.client_user_email)):
        browser = visitor(app, world.a.slug, email).client
        for rule in tenant_routes(app):
            if "GET" not in rule.methods:
                continue
            url = fill(rule, world.a.slug, own_ids(world.a))
            response = browser.get(url)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            parser = Forms(url)
            parser.feed(response.get_data(as_text=True))
            found |= {
                (who, action.replace("&amp;", "&"), frozenset(fields))
                for action, fields in parser.forms
                if fields
            }
    return sorted(found)


HOSTILE = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "99999999999999999999",
            "1e309",
            "NaN",
            "null",
            "true",
            "' OR 1=1 --",
            "<script>alert(1)</script>",
            "{{7*7}}",
            "../../etc/passwd",
            "é" * 5000,
            "\u202e\u0000",
            "2025-02-30",
            "0001-01-01",
            "300.1.2.3/99",
            "javascript:alert(1)",
            "a@b",
            '=HYPERLINK("x")',
        ]
    ),
)


def test_random_and_hostile_values_posted_to_every_form_never_give_a_500(app, world):
    """Each form gets hostile values in every field. The answer is never a 500, and a
    refusal (anything but a redirect after success) writes nothing: no audit event, no
    mail. The forms are found by walking the site, so a new form is covered too."""
    forms = forms_of(app, world)
    assert len(forms) > 15
    browsers = {
        who: visitor(app, world.a.slug, email)
        for who, email in (("staff", world.a.admin_email), ("client", world.a.client_user_email))
    }

    def writes() -> tuple[int, int]:
        with cross_tenant(db.session):
            return (
                db.session.scalar(select(func.count()).select_from(AuditEvent)),
                db.session.scalar(select(func.count()).select_from(OutboxMail)),
            )

    @settings(
        max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    @given(values=st.dictionaries(st.sampled_from(range(8)), HOSTILE, min_size=8))
    def post_everywhere(values):
        for who, action, fields in forms:
            browser = browsers[who]
            data = {name: values[index % 8] for index, name in enumerate(sorted(fields))}
            before = writes()
            response = browser.client.post(action, data={"csrf_token": browser.token, **data})
            assert response.status_code != 500, (who, action, data)
            if response.status_code not in (302, 303):
                assert writes() == before, (who, action, response.status_code, data)
            db.session.expire_all()

    post_everywhere()
