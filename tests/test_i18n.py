"""Internationalisation: the catalogue is current, templates hold no bare text, and the
locale follows the user's preference, then the browser's Accept-Language."""

import io
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import flask_babel
import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask import g
from flask_babel import force_locale, get_locale, get_translations
from jinja2 import Environment, nodes

import portal.i18n
from portal.extensions import db
from portal.models import User
from portal.tenancy import bound_to
from portal.web import languages
from portal.web.languages import select_locale

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
TRANSLATIONS = ROOT / "portal" / "translations"
POT = TRANSLATIONS / "messages.pot"
PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
MO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.mo"

EXTRACT_ARGS = [
    "extract",
    "-F",
    "babel.cfg",
    "-k",
    "_l",
    "-k",
    "lazy_gettext",
    "--sort-by-file",
    "--no-wrap",
    "--project",
    "Portal",
    "--version",
    "0.1.0",
]
REFRESH = "\nRefresh the catalogue from the repository root: python3 dev.py translations\n"

#: Literal text a template may print untranslated: the product's name.
NOT_TRANSLATED = {"Portal"}


def message_keys(catalog) -> set:
    """(msgid, context) of every message but the header."""
    return {(message.id, message.context) for message in catalog if message.id}


def read_catalog(path: Path):
    with path.open("rb") as file:
        return read_po(file)


def describe(missing: set, extra: set) -> str:
    lines = [f"  missing: {key[0]!r}" for key in sorted(missing, key=repr)]
    lines += [f"  stale:   {key[0]!r}" for key in sorted(extra, key=repr)]
    return "\n".join(lines)


# --- the catalogue ------------------------------------------------------------------------


def test_pot_matches_the_source(tmp_path, monkeypatch):
    fresh = tmp_path / "messages.pot"
    monkeypatch.chdir(ROOT)  # babel.cfg's patterns are relative to the scanned directory
    CommandLineInterface().run(["pybabel", "--quiet", *EXTRACT_ARGS, "-o", str(fresh), "."])
    extracted, committed = message_keys(read_catalog(fresh)), message_keys(read_catalog(POT))
    assert extracted, "extraction found no message: is babel.cfg right?"
    assert extracted == committed, (
        f"portal/translations/messages.pot is out of date:\n"
        f"{describe(extracted - committed, committed - extracted)}\n{REFRESH}"
    )


def test_english_catalogue_has_every_message():
    template, english = message_keys(read_catalog(POT)), message_keys(read_catalog(PO))
    assert template == english, (
        f"en/LC_MESSAGES/messages.po does not match messages.pot:\n"
        f"{describe(template - english, english - template)}\n{REFRESH}"
    )


def compiled_messages(file) -> dict:
    """Each message of a .mo file; plural ids and strings come as lists, made tuples."""

    def frozen(value):
        return tuple(value) if isinstance(value, list) else value

    return {(frozen(m.id), m.context): frozen(m.string) for m in read_mo(file)}


def test_compiled_catalogue_matches_the_po():
    compiled = io.BytesIO()
    write_mo(compiled, read_catalog(PO))
    compiled.seek(0)
    expected = compiled_messages(compiled)
    with MO.open("rb") as file:
        committed = compiled_messages(file)
    assert committed == expected, (
        f"en/LC_MESSAGES/messages.mo is not compiled from the current .po.\n{REFRESH}"
    )


def test_the_app_loads_the_english_catalogue(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert str(get_locale()) == "en"
        loaded = {Path(file) for file in getattr(get_translations(), "files", [])}
    assert MO in loaded


# --- no bare text in templates ------------------------------------------------------------

#: Attributes whose value is shown or read out to the user.
VISIBLE_ATTRIBUTES = {
    "alt",
    "title",
    "placeholder",
    "label",
    "aria-label",
    "aria-description",
    "aria-placeholder",
    "aria-roledescription",
    "aria-valuetext",
}
BUTTON_INPUTS = {"submit", "button", "reset"}


def has_letters(text: str) -> bool:
    return any(character.isalpha() for character in text)


def markup_only(env: Environment, source: str) -> str:
    """The template's HTML with every Jinja tag, expression and comment removed (line
    numbers kept) and the content of {% trans %} blocks dropped, as it is translated."""
    parts, in_trans, after_block_begin = [], False, False
    for _lineno, kind, value in env.lex(source):
        if kind == "name" and after_block_begin:
            if value == "trans":
                in_trans = True
            elif value == "endtrans":
                in_trans = False
        after_block_begin = kind == "block_begin" or (after_block_begin and kind == "whitespace")
        if kind == "data" and not in_trans:
            parts.append(value)
        else:
            parts.append("\n" * value.count("\n"))
    return "".join(parts)


class BareText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self.hidden = 0  # inside <script> or <style>

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style"}:
            self.hidden += 1
        attributes = dict(attrs)
        visible = set(VISIBLE_ATTRIBUTES)
        if tag == "input" and (attributes.get("type") or "").lower() in BUTTON_INPUTS:
            visible.add("value")
        for name, value in attrs:
            if name in visible and value and has_letters(value):
                self.found.append((self.getpos()[0], f'{name}="{value.strip()}"'))

    def handle_endtag(self, tag):
        if tag in {"script", "style"} and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden and has_letters(data):
            self.found.append((self.getpos()[0], data.strip()))


def printed_literals(node: nodes.Node):
    """String constants a {{ }} prints as they are: "x", a or "x", a if b else "x", a ~ "x"."""
    if isinstance(node, nodes.Const) and isinstance(node.value, str):
        yield node
    elif isinstance(node, nodes.CondExpr):
        yield from printed_literals(node.expr1)
        if node.expr2 is not None:
            yield from printed_literals(node.expr2)
    elif isinstance(node, nodes.Or | nodes.And):
        yield from printed_literals(node.left)
        yield from printed_literals(node.right)
    elif isinstance(node, nodes.Concat):
        for child in node.nodes:
            yield from printed_literals(child)


def jinja_environment() -> Environment:
    """Only lexes and parses, never renders; i18n for {% trans %}."""
    return Environment(autoescape=True, extensions=["jinja2.ext.i18n"])


TEMPLATE_FILES = sorted(TEMPLATES.rglob("*.html"))


def test_templates_are_found():
    assert len(TEMPLATE_FILES) > 5


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_template_has_no_bare_text(path):
    env = jinja_environment()
    source = path.read_text(encoding="utf-8")
    parser = BareText()
    parser.feed(markup_only(env, source))
    parser.close()
    found = list(parser.found)
    for output in env.parse(source).find_all(nodes.Output):
        for expression in output.nodes:
            if isinstance(expression, nodes.TemplateData):
                continue
            found += [
                (literal.lineno, repr(literal.value))
                for literal in printed_literals(expression)
                if has_letters(literal.value) and literal.value not in NOT_TRANSLATED
            ]
    name = path.relative_to(ROOT)
    assert not found, 'text not wrapped in {{ _("...") }}:\n' + "\n".join(
        f"  {name}:{line}: {text}" for line, text in sorted(found)
    )


def test_bare_text_check_catches_unwrapped_text():
    env = jinja_environment()
    source = (
        '{# a comment #}<p title="Help">{{ _("Wrapped") }} Bare'
        ' {{ x or "none" }}</p>{% trans %}Translated{% endtrans %}'
    )
    parser = BareText()
    parser.feed(markup_only(env, source))
    assert [text for _line, text in parser.found] == ['title="Help"', "Bare"]
    output = next(env.parse(source).find_all(nodes.Output))
    literals = [c.value for e in output.nodes for c in printed_literals(e)]
    assert "none" in literals
    assert "Wrapped" not in literals


# --- choosing the locale ------------------------------------------------------------------


def someone(locale: str | None, authenticated: bool = True):
    return SimpleNamespace(is_authenticated=authenticated, locale=locale)


@pytest.fixture
def offered(app, monkeypatch):
    """Offer French besides English for the duration of a test."""
    monkeypatch.setitem(app.config, "LANGUAGES", ["en", "fr"])
    return app


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("fr", "fr"), ("fr-CA,fr;q=0.9,en;q=0.5", "fr"), ("de,en;q=0.5", "en"), ("en", "en")],
)
def test_anonymous_visitor_gets_the_browser_language(offered, accept, expected):
    with offered.test_request_context(headers={"Accept-Language": accept}):
        assert select_locale() == expected
        assert str(get_locale()) == expected  # Flask-Babel asks select_locale


@pytest.mark.parametrize(("preference", "accept"), [("en", "fr"), ("fr", "en")])
def test_user_preference_beats_the_browser(offered, monkeypatch, preference, accept):
    monkeypatch.setattr(languages, "current_user", someone(preference))
    with offered.test_request_context(headers={"Accept-Language": accept}):
        assert select_locale() == preference


@pytest.mark.parametrize("preference", [None, "", "de"])
def test_no_usable_preference_falls_back_to_the_browser(offered, monkeypatch, preference):
    monkeypatch.setattr(languages, "current_user", someone(preference))
    with offered.test_request_context(headers={"Accept-Language": "fr"}):
        assert select_locale() == "fr"


def test_signed_out_user_object_has_no_say(offered, monkeypatch):
    monkeypatch.setattr(languages, "current_user", someone("en", authenticated=False))
    with offered.test_request_context(headers={"Accept-Language": "fr"}):
        assert select_locale() == "fr"


def test_without_a_match_the_tenant_default_applies(offered):
    with offered.test_request_context(headers={"Accept-Language": "de"}):
        assert select_locale() is None  # Flask-Babel then uses BABEL_DEFAULT_LOCALE
        g.tenant = SimpleNamespace(default_locale="fr")
        assert select_locale() == "fr"


def test_pages_follow_the_signed_in_users_preference(offered, world, client, signed_in):
    page = client.get(f"/{world.a.slug}/login", headers={"Accept-Language": "fr"})
    assert '<html lang="fr">' in page.get_data(as_text=True)

    with bound_to(db.session, world.a.tenant_id):
        db.session.get(User, world.a.client_user_id).locale = "en"
        db.session.commit()
    signed_in(world.a.slug, world.a.client_user_email)
    page = client.get(f"/{world.a.slug}/account", headers={"Accept-Language": "fr"})
    assert page.status_code == 200
    assert '<html lang="en">' in page.get_data(as_text=True)


@pytest.mark.parametrize("locale", ["en", "en_CA", "fr", "fr_CA", "de"])
def test_the_fast_date_formats_write_what_flask_babel_writes(app, locale):
    """Portal formats dates through patterns it parses once; they must read exactly as
    flask_babel's own formatting, in every locale and time zone."""
    moments = [
        datetime(2026, 1, 5, 3, 7, tzinfo=UTC),  # the evening before, in Montréal
        datetime(2026, 7, 14, 16, 45, 9, tzinfo=UTC),  # summer time
        datetime(2026, 12, 31, 23, 59, 59),  # naive: UTC
    ]
    for timezone in ("America/Montreal", "Europe/Paris", "UTC"):
        with app.test_request_context("/"):
            g.tenant = SimpleNamespace(timezone=timezone, default_locale=locale)
            flask_babel.refresh()
            with force_locale(locale):
                assert str(get_locale()) == locale
                assert str(flask_babel.get_timezone()) == timezone
                check_formats(moments)


def check_formats(moments):
    for moment in moments:
        for format in ("short", "medium", "long"):
            assert portal.i18n.format_datetime(moment, format) == flask_babel.format_datetime(
                moment, format
            )
            assert portal.i18n.format_date(moment, format) == flask_babel.format_date(
                moment, format
            )
        assert portal.i18n.format_date(moment.date(), "medium") == flask_babel.format_date(
            moment.date(), "medium"
        )


def test_the_request_s_translations_follow_a_forced_locale(app):
    with app.test_request_context("/"):
        english = portal.i18n.translations()
        assert english is get_translations()
        with force_locale("fr"):
            assert portal.i18n.translations() is get_translations()
            assert portal.i18n.translations() is not english
        assert portal.i18n.translations() is english
