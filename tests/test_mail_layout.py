"""Every mail is HTML in the tenant's name with a plain-text alternative, readable in
mail clients (inline styles, no script, no external resource, at most 600 px wide); the
recap follows seed 002's layout."""

import re
from html.parser import HTMLParser

import pytest
from flask import render_template
from sqlalchemy import select

from portal.extensions import db
from portal.mail import outbox
from portal.models import Client, OutboxMail, Tenant, User
from portal.services import email_change, invitations, password_reset
from portal.services.actor import Actor
from portal.tenancy import bound_to, cross_tenant
from tests.conftest import csrf_token, login
from tests.test_change_notices import assign, save_card, signed_in_client
from tests.test_cli import DEMO_PASSWORD, run
from tests.test_credit import record, set_balance, signed_in

PORTAL = "http://portal.test"
REVIEW_URL = "https://reviews.example.com/alpha"
ACCENT = "#1f5fbf"


class MailHTML(HTMLParser):
    """What a mail client would have to fetch or run, and what it would ignore."""

    def __init__(self):
        super().__init__()
        self.tags, self.links, self.sources, self.handlers, self.classes = [], [], [], [], []
        self.unstyled = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append(tag)
        if tag == "a":
            self.links.append(attributes.get("href") or "")
        for name, value in attrs:
            if name in ("src", "srcset", "background", "poster", "data") and value:
                self.sources.append(value)
            if name.startswith("on"):
                self.handlers.append(name)
            if name == "class":
                self.classes.append(value)
        if tag in ("p", "h1", "h2", "ul", "li", "a", "td") and "style" not in attributes:
            self.unstyled.append(tag)


def parsed(html: str) -> MailHTML:
    parser = MailHTML()
    parser.feed(html)
    return parser


def assert_readable_in_mail_clients(mail: OutboxMail, tenant_name: str, *, allowed=()):
    html, text = mail.html_body, mail.text_body
    page = parsed(html)
    assert html.lstrip().lower().startswith("<!doctype html>"), mail.kind
    assert tenant_name in html and tenant_name in text, mail.kind
    assert "max-width:600px" in html.replace(" ", ""), mail.kind
    # Mail clients run no script, load no style sheet and fetch no remote resource.
    assert not {"script", "style", "link", "iframe", "object", "embed", "form"} & set(page.tags)
    assert page.handlers == [] and page.classes == [], mail.kind
    assert [source for source in page.sources if not source.startswith("data:")] == []
    assert "url(" not in html and "@import" not in html, mail.kind
    # Every element that a client's defaults would set otherwise says its own style.
    assert page.unstyled == [], (mail.kind, page.unstyled)
    # Links lead only to the portal (or to what the tenant chose, such as its review page).
    outside = [
        link for link in page.links if not link.startswith(PORTAL + "/") and link not in allowed
    ]
    assert outside == [], (mail.kind, outside)
    # The plain-text alternative says it without markup, links included.
    assert text.strip() and "<" not in text.replace("->", ""), mail.kind
    for link in page.links:
        assert link in text or "unsubscribe" in link, (mail.kind, link)


def queued(kind: str) -> list[OutboxMail]:
    db.session.expire_all()
    with cross_tenant(db.session):
        return db.session.scalars(
            select(OutboxMail).where(OutboxMail.kind == kind).order_by(OutboxMail.id)
        ).all()


def test_every_account_mail_is_html_in_the_tenants_name_with_a_text_part(app, world):
    with app.test_request_context(), bound_to(db.session, world.a.tenant_id):
        tenant = db.session.get(Tenant, world.a.tenant_id)
        admin = db.session.get(User, world.a.admin_id)
        user = db.session.get(User, world.a.client_user_id)
        actor = Actor(tenant, user=admin, address="192.0.2.10")
        invitations.invite(user, actor=actor)
        password_reset.send_reset(user, tenant)
        own = Actor(tenant, user=user, address="192.0.2.10")
        email_change.request_email_change("new@alpha-client.example", actor=own)
        email_change.change_email(user, "new@alpha-client.example", actor=own)
        db.session.commit()
    kinds = {"invitation", "password_reset", "email_change", "email_changed_notice"}
    with cross_tenant(db.session):
        sent = db.session.scalars(select(OutboxMail).where(OutboxMail.kind.in_(kinds))).all()
    assert {mail.kind for mail in sent} == kinds
    for mail in sent:
        assert_readable_in_mail_clients(mail, "Alpha Services")
    (invitation,) = [mail for mail in sent if mail.kind == "invitation"]
    link = re.search(r"http://portal\.test/alpha/\S+", invitation.text_body).group(0)
    # The button, and its address written out for a client that shows no button.
    assert invitation.html_body.count(f'href="{link}"') == 2
    assert "Choose your password</a>" in invitation.html_body


def test_the_client_change_notice_is_html_in_the_tenants_name(app, world):
    assign(world, world.a.admin_email)
    save_card(signed_in_client(app, world), world, title="Gérant")
    (notice,) = queued("client_changes")
    assert_readable_in_mail_clients(notice, "Alpha Services")
    assert "Gérant" in notice.html_body and "Gérant" in notice.text_body


def recap_world(world, *, phone: str | None = "+1 514-555-0142") -> None:
    with bound_to(db.session, world.a.tenant_id):
        tenant = db.session.get(Tenant, world.a.tenant_id)
        tenant.support_phone, tenant.review_url = "+1 514-555-0100", REVIEW_URL
        db.session.get(Client, world.a.client_id).email = "billing@alpha-client.example"
        db.session.scalar(select(User).where(User.email == world.a.tech_email)).phone = phone
        db.session.commit()


def test_the_recap_follows_seed_002(app, world):
    recap_world(world)
    tech = signed_in(app, world, world.a.tech_email)
    assert record(tech, world, advice="Back up every day", review="y").status_code == 302
    (mail,) = queued("recap")
    assert_readable_in_mail_clients(mail, "Alpha Services", allowed=(REVIEW_URL,))
    html = mail.html_body
    unsubscribe = re.search(
        r"<(http://portal\.test/alpha/unsubscribe/\S+)>", mail.headers["List-Unsubscribe"]
    ).group(1)
    # In the seed's order: unsubscribe on top, heading, greeting, list, then the signature.
    order = [
        f'<a href="{unsubscribe}"',
        "Unsubscribe from these messages.</a>",
        "<h1",
        "Your time credit status</h1>",
        "Hello,",
        "Following our intervention of",
        "You: Alpha Client 1 Ltd",
        "Summary of the intervention: Reset the mail password",
        "Our advice: Back up every day",
        "Duration of the intervention: 12 minutes",
        "Previous time credit: 50 minutes",
        "<strong>Time credit balance: 38 minutes.</strong>",
        "Have a nice day!",
        "<strong>Alpha Tech</strong><br>+1 514-555-0142",
        "The Alpha Services team<br>+1 514-555-0100",
        f'Happy with this intervention? <a href="{REVIEW_URL}"',
        f'<a href="{unsubscribe}"',
        "Unsubscribe from these messages.</a>",
    ]
    position = 0
    for piece in order:
        found = html.find(piece, position)
        assert found >= 0, piece
        position = found + len(piece)
    assert html.count(f'href="{unsubscribe}"') == 2
    assert "free of charge" not in html and "Warning" not in html
    text = mail.text_body
    assert "Alpha Tech\n+1 514-555-0142\n\nThe Alpha Services team\n+1 514-555-0100" in text
    assert f"review page: {REVIEW_URL}" in text and unsubscribe in text


def test_a_free_recap_into_the_negative_says_so_and_warns(app, world):
    recap_world(world, phone=None)
    set_balance(world, -5)
    tech = signed_in(app, world, world.a.tech_email)
    assert record(tech, world, normal=None, free="Free").status_code == 302
    (mail,) = queued("recap")
    html = mail.html_body
    assert "<p" in html.split("This intervention was done free of charge.")[0][-200:]
    assert "<strong>Time credit balance: -5 minutes.</strong>" in html
    # The seed's bold "Attention", then the sentence.
    assert re.search(
        r"<strong>Warning</strong>: your time credit is negative; please top up your account "
        r"before the next intervention\.",
        html,
    )
    assert "<strong>Alpha Tech</strong></p>" in html, "no phone: the name alone"
    assert REVIEW_URL not in html, "the review link only when the technician ticks it"
    text = mail.text_body
    assert "This intervention was done free of charge." in text
    assert "Warning: your time credit is negative" in text


@pytest.mark.parametrize(
    ("brand_color", "shown"),
    [
        (None, ACCENT),
        ("#0a6b4f", "#0a6b4f"),
        ("#0A6", "#0A6"),
        # Anything but a hex colour never reaches a style attribute.
        ("red; background:url(https://tracker.example/p.png)", ACCENT),
        ("#12345g", ACCENT),
        ("#1234567", ACCENT),
    ],
)
def test_the_layout_takes_the_tenants_colour_when_given(app, world, brand_color, shown):
    with app.test_request_context(), bound_to(db.session, world.a.tenant_id):
        tenant = db.session.get(Tenant, world.a.tenant_id)
        user = db.session.get(User, world.a.client_user_id)
        html = render_template(
            "mail/reset.html",
            tenant=tenant,
            user=user,
            link=f"{PORTAL}/alpha/password/reset/token",
            minutes=30,
            brand_color=brand_color,
        )
    assert f"background-color:{shown};" in html
    assert "tracker.example" not in html and "#12345g" not in html and "#1234567" not in html


def test_the_outbox_sends_the_text_and_the_html_as_alternatives(app, world):
    with app.test_request_context(), bound_to(db.session, world.a.tenant_id):
        tenant = db.session.get(Tenant, world.a.tenant_id)
        password_reset.send_reset(db.session.get(User, world.a.client_user_id), tenant)
        db.session.commit()
    assert outbox.deliver_due().sent == 1
    (sent,) = app.extensions["mailman"].outbox
    message = sent.message()
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.get_payload()
    assert (
        plain.get_content_type() == "text/plain"
        and "Alpha Services" in plain.get_payload(decode=True).decode()
    )
    assert (
        html.get_content_type() == "text/html"
        and "<!doctype html>" in html.get_payload(decode=True).decode()
    )


def test_the_demo_recap_comes_from_the_support_desk(app):
    run(app, "demo", "--password", DEMO_PASSWORD)
    tech = app.test_client()
    assert login(tech, "demo", "tech@demo.test", DEMO_PASSWORD).status_code == 302
    found = tech.get("/demo/support/?q=jm")
    tech.post(
        f"{found.location}/interventions",
        data={
            "csrf_token": csrf_token(tech.get(found.location)),
            "summary": "Paramétrage de la sauvegarde",
            "minutes": "5",
            "normal": "Normal",
        },
    )
    (recap,) = queued("recap")
    assert recap.from_address == '"M. Répare Tout" <support@mreparetout.example>'
    assert "M. Répare Tout" in recap.html_body
    (invitation, *_) = queued("invitation")
    assert invitation.from_address.endswith(f"<{app.config['MAIL_DEFAULT_SENDER']}>")
    assert invitation.from_address.startswith('"M. Répare Tout"')
