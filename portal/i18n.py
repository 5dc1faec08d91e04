"""Translating: the catalogues with their fallback, and the fast paths the pages use."""

from datetime import date, datetime
from functools import cached_property, lru_cache

import flask_babel
from babel import Locale, dates
from babel.dates import DateTimePattern
from babel.support import NullTranslations, Translations
from flask import Flask, g, has_app_context
from flask_babel.speaklater import LazyString


class FallbackDomain(flask_babel.Domain):
    """Translations that fall back string by string: ``fr_CA`` holds only what Québec
    says differently, so a string it lacks is read in ``fr``, then in English (the
    msgid). Babel alone loads the first catalogue it finds and stops there."""

    def get_translations(self) -> NullTranslations:
        locale = flask_babel.get_locale()
        if locale is None:
            return NullTranslations()
        key = str(locale)
        if key not in self.cache:
            self.cache[key] = self._chain([key, locale.language] if locale.territory else [key])
        return self.cache[key]

    def _chain(self, names: list[str]) -> NullTranslations:
        first = None
        for name in names:
            for directory in self.translation_directories:
                catalogue = Translations.load(directory, [name], self.domain[0])
                if not isinstance(catalogue, Translations) or catalogue is first:
                    continue
                if first is None:
                    first = catalogue
                else:
                    first.add_fallback(catalogue)
        return first or NullTranslations()


class PortalBabel(flask_babel.Babel):
    @cached_property
    def domain_instance(self) -> FallbackDomain:
        return FallbackDomain(domain=self.domain)


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


def pgettext(context: str, string: str, **variables) -> str:
    """``string`` as said in ``context``: one English word that French says two ways
    (a request "Closed" is "Clôturée", a desk "Closed" is "Fermé")."""
    text = translations().upgettext(context, string)
    return text % variables if variables else text


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
