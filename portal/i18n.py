"""Choosing the interface language and time zone."""

from datetime import date, datetime
from functools import lru_cache

import flask_babel
from babel import Locale, dates
from babel.dates import DateTimePattern
from babel.support import NullTranslations
from flask import Flask, current_app, g, has_app_context, has_request_context, request
from flask_babel.speaklater import LazyString
from flask_login import current_user


def select_locale() -> str | None:
    """The user's preference, then the browser's, then the tenant's default. Outside a
    request (commands, the outbox worker) only the tenant's default can apply."""
    languages = current_app.config["LANGUAGES"]
    tenant = g.get("tenant")
    fallback = tenant.default_locale if tenant is not None else None
    if not has_request_context():
        return fallback
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return request.accept_languages.best_match(languages) or fallback


def select_timezone() -> str | None:
    tenant = g.get("tenant")
    return tenant.timezone if tenant is not None else None


# --- Fast paths ----------------------------------------------------------------------------
# flask_babel finds the locale, its name, the domain and the translations again on every
# call (some 25 µs), and babel composes a date-time pattern from its date and time parts
# on every call (some 80 µs). A statement page makes a hundred such calls; these keep
# what they look up for the request, or for the process when it never changes.


def translations() -> NullTranslations:
    """The translations of the current locale, kept on the request (``force_locale``
    changes the locale, and so the translations, for a block)."""
    if not has_app_context():
        return flask_babel.get_translations()
    locale = flask_babel.get_locale()
    cached = g.get("_portal_translations")
    if cached is None or cached[0] is not locale:
        cached = g._portal_translations = (locale, flask_babel.get_translations())
    return cached[1]


def gettext(string: str, **variables) -> str:
    text = translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


def lazy_gettext(string: str, **variables) -> LazyString:
    return LazyString(gettext, string, **variables)


@lru_cache(maxsize=256)
def _pattern(locale: Locale, kind: str, format: str) -> DateTimePattern:
    """A named format's pattern, parsed once. A date-time one is the locale's date and
    time patterns set in its date-time pattern, as babel.dates.format_datetime sets them."""
    if kind == "date":
        return dates.parse_pattern(locale.date_formats[format])
    combined = str(locale.datetime_formats[format])
    time_pattern = str(locale.time_formats[format].pattern)
    date_pattern = str(locale.date_formats[format].pattern)
    return dates.parse_pattern(combined.replace("{0}", time_pattern).replace("{1}", date_pattern))


def format_datetime(value: datetime, format: str = "medium") -> str:
    """``value`` (aware, or naive UTC) in the user's time zone and locale."""
    locale = flask_babel.get_locale()
    return _pattern(locale, "datetime", format).apply(flask_babel.to_user_timezone(value), locale)


def format_date(value: date, format: str = "medium") -> str:
    """A date, or the day of a datetime in the user's time zone, in the user's locale."""
    locale = flask_babel.get_locale()
    if isinstance(value, datetime):
        value = flask_babel.to_user_timezone(value)
    return _pattern(locale, "date", format).apply(value, locale)


def register(app: Flask) -> None:
    """Templates translate through the same fast path."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda string: translations().ugettext(string),
        ngettext=lambda singular, plural, num: translations().ungettext(singular, plural, num),
        newstyle=True,
        pgettext=lambda context, string: translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, num: translations().unpgettext(
            context, singular, plural, num
        ),
    )
