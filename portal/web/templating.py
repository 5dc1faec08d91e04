"""What every template can use: the tenant, the navigation, the CSRF token."""

import flask_babel
import ua_parser
from flask import Flask, g, request, url_for
from flask_babel import get_locale
from flask_login import current_user

from portal.i18n import format_date, format_datetime, gettext
from portal.i18n import lazy_gettext as _l
from portal.mail.requests import expected_delay
from portal.services import brand, chat
from portal.services.audit import labels
from portal.services.credit import format_minutes, shown_summary
from portal.web.chat_messages import message_html
from portal.web.emoji import emoji_choices
from portal.web.languages import html_lang, locale_choices

#: Navigation entries: label, endpoint, the permission that shows them.
NAVIGATION = [
    (_l("Clients"), "clients.index", "clients.view"),
    (_l("Support"), "support.index", "clients.view"),
    (_l("Requests"), "desk.index", "requests.view"),
    (_l("Chat"), "chat.index", "chat.use"),
    (_l("My company"), "account.index", "portal.self"),
    (_l("Time credit"), "statement.index", "portal.statement"),
    (_l("Requests"), "requests.index", "portal.requests"),
    (_l("Colleagues"), "account.colleagues", "portal.self"),
    (_l("History"), "account.history", "portal.self"),
    (_l("Users"), "admin.users", "tenant.admin"),
    (_l("Roles"), "admin.role_list", "tenant.admin"),
    (_l("Branches"), "admin.branches", "tenant.admin"),
    (_l("Settings"), "admin.edit_settings", "tenant.admin"),
    (_l("Audit"), "admin.audit_log", "tenant.admin"),
]


def chat_unread(user) -> int:
    """The user's unread chat messages; a page that has counted them already (the
    chat's, the home page's panel) leaves the total in ``g``."""
    if "chat_unread_total" not in g:
        g.chat_unread_total = chat.unread_total(user)
    return g.chat_unread_total


#: Entries that show a count beside their label: the function that counts for the user.
COUNTS = {"chat.index": chat_unread}


def navigation() -> list[tuple[str, str, bool, int | None]]:
    """The user's entries: label, link, whether it is the current section (the longest
    link the path starts with), and the count shown beside it (the chat's unread
    messages), None where none is."""
    if not current_user.is_authenticated or "tenant" not in g:
        return []
    links = [
        (label, url_for(endpoint), endpoint)
        for label, endpoint, needed in NAVIGATION
        if current_user.can(needed)
    ]
    current = max(
        (href for _label, href, _endpoint in links if request.path.startswith(href)),
        key=len,
        default=None,
    )
    return [
        (
            label,
            href,
            href == current,
            COUNTS[endpoint](current_user) if endpoint in COUNTS else None,
        )
        for label, href, endpoint in links
    ]


def sign_in_method(method: str) -> str:
    """How a session's user proved who they are, in words."""
    return {
        "password": gettext("Password"),
        "password+totp": gettext("Password and authenticator app"),
        "password+recovery": gettext("Password and recovery code"),
        "password+passkey": gettext("Password and passkey"),
        "passkey": gettext("Passkey"),
    }.get(method, method)


def country_name(code: str) -> str:
    return get_locale().territories.get(code, code)


def language_name(code: str) -> str:
    return get_locale().languages.get(code, code)


def browser_name(user_agent: str | None) -> str:
    """A stored User-Agent as people say it: "Firefox on Windows"."""
    parsed = ua_parser.parse(user_agent) if user_agent else None
    browser = parsed.user_agent.family if parsed and parsed.user_agent else None
    system = parsed.os.family if parsed and parsed.os else None
    if not browser or browser == "Other":
        return gettext("Unknown browser")
    if not system or system == "Other":
        return browser
    return gettext("%(browser)s on %(system)s", browser=browser, system=system)


#: What a page shows where a value is missing, rather than "None" or a blank.
MISSING = "—"


def or_dash(value):
    """The value, or "—" when there is none (None or an empty text; 0 stays 0)."""
    return MISSING if value is None or value == "" else value


def change_value(name: str, value):
    """An audit change's old or new value in words (see ``labels.change_value``); the
    language and country codes by their names in the page's language."""
    if value is not None and name in {"language", "default_locale"}:
        return language_name(value)
    if value is not None and name.endswith("_country"):
        return country_name(value)
    return labels.change_value(name, value)


def logo_url(tenant) -> str | None:
    """Where the tenant's logo is served, or None when it has none."""
    name = brand.logo_name(tenant)
    return url_for("brand.logo", tenant=tenant.slug, name=name) if name else None


def theme_url(tenant) -> str | None:
    """The style sheet of the tenant's accent colour, or None for Portal's own."""
    if tenant is None or not tenant.accent_color:
        return None
    return url_for("brand.theme", tenant=tenant.slug, v=brand.accent_color(tenant)[1:])


def register(app: Flask) -> None:
    @app.context_processor
    def inject():
        return {"tenant": g.get("tenant")}

    # Globals, unlike context variables, are seen by imported macros too.
    for helper in (
        navigation,
        get_locale,
        html_lang,
        locale_choices,
        country_name,
        language_name,
        labels.action_label,
        shown_summary,
        labels.field_label,
        labels.event_subject,
        labels.permission_label,
        change_value,
        expected_delay,
        logo_url,
        theme_url,
        brand.mail_logo,
        emoji_choices,
        message_html,
        sign_in_method,
    ):
        app.add_template_global(helper)

    @app.template_filter("datetime")
    def datetime_filter(value):
        return format_datetime(value, "short") if value else ""

    @app.template_filter("date")
    def date_filter(value):
        return format_date(value, "short") if value else ""

    @app.template_filter("money")
    def money_filter(value, currency: str):
        return flask_babel.format_currency(value, currency) if value is not None else ""

    @app.template_filter("decimal")
    def decimal_filter(value):
        return flask_babel.format_decimal(value) if value is not None else ""

    app.add_template_filter(format_minutes, "minutes")
    app.add_template_filter(browser_name, "browser")
    app.add_template_filter(or_dash, "or_dash")
