"""The language and time zone of a page.

Signed in, the page speaks the user's language (``services.languages``). Nobody signed
in, it speaks what the visitor chose with the language switch, else what the browser
asks for, else the tenant's default. Outside a request (commands, the outbox worker)
only the tenant's default can apply; mails choose their recipient's language themselves.
"""

from babel import Locale
from flask import current_app, g, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

from portal.services import languages

#: Where an anonymous visitor's choice is kept, for the browser session.
SESSION_LOCALE = "locale"


def select_locale() -> str | None:
    tenant = g.get("tenant")
    fallback = tenant.default_locale if tenant is not None else None
    if not has_request_context():
        return fallback
    offered = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated:
        if current_user.locale in offered:
            return current_user.locale
        if tenant is not None:
            return languages.locale_for(tenant, user=current_user._get_current_object())
    if session.get(SESSION_LOCALE) in offered:
        return session[SESSION_LOCALE]
    return request.accept_languages.best_match(offered) or fallback


def select_timezone() -> str | None:
    tenant = g.get("tenant")
    return tenant.timezone if tenant is not None else None


def html_lang() -> str:
    """The page's language as HTML wants it (``fr-CA``, not Babel's ``fr_CA``)."""
    locale = get_locale()
    return f"{locale.language}-{locale.territory}" if locale.territory else locale.language


def remember_choice(locale: str) -> None:
    """The language switch of a visitor nobody knows yet: for this browser session."""
    session[SESSION_LOCALE] = locale


def locale_choices() -> list[tuple[str, str]]:
    """Each offered language named in itself ("Français (Canada)"), as a reader looks
    for their own language whatever the page is in."""
    choices = []
    for code in current_app.config["LANGUAGES"]:
        name = Locale.parse(code).get_display_name(code)
        choices.append((code, name[:1].upper() + name[1:]))
    return choices
