"""French everywhere, and kept so: complete catalogues, Québec's falling back to France's
string by string, every page and mail read in French without an English phrase left."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale
from sqlalchemy import select

from portal.extensions import db
from portal.i18n import gettext
from portal.models import Client, Contact, OutboxMail, Tenant, User
from portal.services import email_change, invitations, password_reset
from portal.services.actor import Actor
from portal.tenancy import bound_to
from tests.conftest import csrf_token
from tests.test_routes import fill, own_ids, tenant_routes, visitor

CATALOGUES = Path(__file__).resolve().parent.parent / "portal" / "translations"
FRENCH = ["fr", "fr_CA"]
#: A placeholder of a message: the page shows data there.
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")
#: English that a French page may show: names and codes, the same in both languages.
SAME_IN_BOTH = re.compile(r"^[\W\d_]*$|^(ID|OK|CSV|URL|IP|N\.E\.Q\.)$")


def catalogue(locale: str):
    with open(CATALOGUES / locale / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=locale)


def translated(message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(strings) and "fuzzy" not in message.flags


def test_every_message_has_its_french_translation():
    missing = [message.id for message in catalogue("fr") if message.id and not translated(message)]
    assert missing == [], f"{len(missing)} messages without French: {missing[:10]}"


def test_quebec_catalogue_holds_only_translations_and_says_it_in_quebec_words():
    messages = [message for message in catalogue("fr_CA") if message.id]
    assert not [message.id for message in messages if "fuzzy" in message.flags]
    quebec = {message.id: message.string for message in messages if translated(message)}
    assert quebec["User code or email"] == "Code d'utilisateur ou adresse courriel"
    assert "succursale" in quebec["Limit access to this branch (optional)"]
    assert "courriel" in quebec["Save and send email"].lower()


@pytest.mark.parametrize(
    ("locale", "message", "expected"),
    [
        # Québec's own word, from the fr_CA catalogue
        ("fr_CA", "User code or email", "Code d'utilisateur ou adresse courriel"),
        # not in fr_CA: France's, string by string
        ("fr_CA", "Password", "Mot de passe"),
        ("fr", "User code or email", "Code utilisateur ou adresse e-mail"),
        # in no catalogue: English, the message itself
        ("fr_CA", "A message no catalogue has", "A message no catalogue has"),
    ],
)
def test_quebec_falls_back_to_france_then_to_english(app, locale, message, expected):
    with app.test_request_context(), force_locale(locale):
        assert gettext(message) == expected


def english_phrases(locale: str) -> dict[str, str]:
    """The English phrases of the messages whose French differs (or is missing), each
    with its message: the pieces between placeholders that hold two words or more."""
    phrases = {}
    for message in catalogue("fr"):
        if not message.id:
            continue
        english = message.id if isinstance(message.id, tuple) else (message.id,)
        french = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in english:
            for piece in PLACEHOLDER.split(text):
                piece = " ".join(piece.split()).strip(" :.,;!?()“”\"'")
                if len(piece.split()) < 2 or SAME_IN_BOTH.match(piece):
                    continue
                if any(piece in translation for translation in french):
                    continue
                phrases[piece] = text
    assert len(phrases) > 300, "the check must have English to look for"
    return phrases


class VisibleText(HTMLParser):
    """What a reader sees or hears of a page: its text and its labelling attributes."""

    SPOKEN = {"placeholder", "aria-label", "title", "alt"}

    def __init__(self):
        super().__init__()
        self.parts, self._hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        attributes = dict(attrs)
        self.parts += [value for name, value in attributes.items() if name in self.SPOKEN]
        if tag == "input" and attributes.get("type") in ("submit", "button"):
            self.parts.append(attributes.get("value") or "")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)

    def text(self) -> str:
        return " ".join(" ".join(part.split()) for part in self.parts if part and part.strip())


def english_left(html: str, phrases: dict[str, str]) -> list[str]:
    reader = VisibleText()
    reader.feed(html)
    text = reader.text()
    return sorted(phrase for phrase in phrases if phrase in text)


def prefer(world, email: str, locale: str) -> None:
    with bound_to(db.session, world.a.tenant_id):
        db.session.scalar(select(User).where(User.email == email)).locale = locale
        db.session.commit()


@pytest.mark.usefixtures("administrators_passkeys")
@pytest.mark.parametrize("locale", FRENCH)
def test_every_page_reads_in_french_for_every_kind_of_user(app, world, locale):
    """Signed in as staff and as a client's contact, and signed out with a French
    browser: no page shows an English phrase that has a French translation."""
    phrases = english_phrases(locale)
    for email in (world.a.admin_email, world.a.client_user_email):
        prefer(world, email, locale)
    browsers = {
        "visitor": app.test_client(),
        "staff": visitor(app, world.a.slug, world.a.admin_email).client,
        "client": visitor(app, world.a.slug, world.a.client_user_email).client,
    }
    header = {"Accept-Language": locale.replace("_", "-")}
    seen, found = 0, {}
    for rule in tenant_routes(app):
        if "GET" not in rule.methods:
            continue
        url = fill(rule, world.a.slug, own_ids(world.a))
        for who, browser in browsers.items():
            response = browser.get(url, headers=header)
            if response.mimetype != "text/html" or response.status_code >= 500:
                continue
            seen += 1
            left = english_left(response.get_data(as_text=True), phrases)
            if left:
                found[f"{who} {url}"] = left
    assert seen > 60
    assert found == {}


def test_the_sweep_sees_english_left_on_a_page(app, world):
    """The check above fails on a page with English left: here, a French page with one
    English message pasted in."""
    phrases = english_phrases("fr")
    with app.test_request_context(), force_locale("fr"):
        french = f"<p>{gettext('Forgot your password?')}</p>"
    assert english_left(french, phrases) == []
    assert english_left(french + "<p>Forgot your password?</p>", phrases) == [
        "Forgot your password"
    ]


def mails_to(address: str) -> list[OutboxMail]:
    return list(db.session.scalars(select(OutboxMail).where(OutboxMail.to_address == address)))


@pytest.mark.parametrize("locale", FRENCH)
def test_mails_reach_their_recipient_in_the_recipients_french(app, world, locale):
    """Sent by an English-speaking administrator, every account mail is written in the
    recipient's language, subject and body."""
    phrases = english_phrases(locale)
    with app.test_request_context(), bound_to(db.session, world.a.tenant_id):
        tenant = db.session.get(Tenant, world.a.tenant_id)
        admin = db.session.get(User, world.a.admin_id)
        admin.locale = "en"
        user = db.session.get(User, world.a.client_user_id)
        user.locale = locale
        actor = Actor(tenant, user=admin, address="192.0.2.10")
        invitations.invite(user, actor=actor)
        password_reset.send_reset(user, tenant)
        email_change.request_email_change(
            "nouvelle@alpha-client.example", actor=Actor(tenant, user=user, address="192.0.2.10")
        )
        db.session.flush()
        sent = [*mails_to(user.email), *mails_to("nouvelle@alpha-client.example")]
        assert len(sent) == 3
        with force_locale(locale):
            link_word = gettext("Choose a new password for %(tenant)s", tenant=tenant.name)
        for mail in sent:
            for part in (mail.subject, mail.text_body, mail.html_body):
                assert english_left(part, phrases) == [], (mail.kind, part)
        assert link_word in [mail.subject for mail in sent]
        db.session.rollback()


def test_a_recap_is_written_in_its_clients_french(app, world, signed_in):
    """A client in Canada that speaks French reads Québec's French; in France, France's."""
    phrases = english_phrases("fr")
    tech = signed_in(world.a.slug, world.a.tech_email)
    for country, language, balance, when in (
        ("CA", "fr-CA", 45, r"\d{4}-\d\d-\d\d \d\d h \d\d"),
        ("FR", "fr", 40, r"\d\d/\d\d/\d{4} \d\d:\d\d"),
    ):
        with bound_to(db.session, world.a.tenant_id):
            client = db.session.get(Client, world.a.client_id)
            client.language, client.billing_country = "fr", country
            client.email = "facturation@alpha-client.example"
            client.recap_mails = True
            for contact in db.session.scalars(select(Contact)):
                contact.recap_mails = False
            db.session.commit()
        url = f"/{world.a.slug}/support/accounts/{world.a.account_id}"
        response = tech.post(
            f"{url}/interventions",
            data={
                "csrf_token": csrf_token(tech.get(url)),
                "client_id": world.a.client_id,
                "summary": "Réglage de la sauvegarde",
                "minutes": "5",
                "normal": "Normal",
            },
        )
        assert response.status_code == 302
        with bound_to(db.session, world.a.tenant_id):
            (mail,) = mails_to("facturation@alpha-client.example")
            assert mail.subject == "Votre situation de Crédit-Temps"
            assert f"Solde de crédit-temps\u00a0: {balance} minutes." in mail.text_body
            assert re.search(f"Suite à notre intervention du {when},", mail.text_body)
            assert f'<html lang="{language}">' in mail.html_body
            assert english_left(mail.html_body, phrases) == []
            db.session.delete(mail)
            db.session.commit()
