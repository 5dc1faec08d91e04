"""Field validators and code lists shared by the forms. Messages say what is expected."""

import re
from collections.abc import Callable
from functools import cache
from urllib.parse import urlsplit

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email
from flask_babel import get_locale
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from portal.i18n import lazy_gettext as _l

POSTAL_CODES = {
    "CA": (re.compile(r"^([A-Z]\d[A-Z])\s*(\d[A-Z]\d)$"), r"\1 \2", "H2X 1Y4"),
    "US": (re.compile(r"^(\d{5})(?:-?(\d{4}))?$"), None, "90210 or 90210-1234"),
    "FR": (re.compile(r"^(\d{5})$"), r"\1", "75001"),
}


@cache
def country_codes() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries)


@cache
def currency_codes() -> frozenset[str]:
    return frozenset(currency.alpha_3 for currency in pycountry.currencies) - {"XXX", "XTS"}


@cache
def language_codes() -> frozenset[str]:
    return frozenset(
        language.alpha_2 for language in pycountry.languages if hasattr(language, "alpha_2")
    )


def _localised(names: dict[str, str], codes) -> list[SelectChoice]:
    """Options named in the user's language, sorted by name, with the code shown."""
    return [
        SelectChoice(code, label)
        for label, code in sorted((f"{names.get(code, code)} ({code})", code) for code in codes)
    ]


def country_choices() -> list[SelectChoice]:
    return _localised(get_locale().territories, country_codes())


def currency_choices() -> list[SelectChoice]:
    return _localised(get_locale().currencies, currency_codes())


def language_choices() -> list[SelectChoice]:
    return _localised(get_locale().languages, language_codes())


def normalise_postal_code(country: str | None, value: str) -> str:
    """The postal code in its country's usual form; ValueError says what is expected."""
    value = " ".join(value.upper().split())
    rule = POSTAL_CODES.get(country or "")
    if rule is None:
        if len(value) > 20:
            raise ValueError(_l("A postal code has at most 20 characters."))
        return value
    pattern, replacement, example = rule
    match = pattern.match(value.replace(" ", "") if country != "CA" else value)
    if not match:
        raise ValueError(_l("Enter a postal code such as %(example)s.", example=example))
    if country == "US":
        return match.group(1) + (f"-{match.group(2)}" if match.group(2) else "")
    return match.expand(replacement)


def normalise_phone(value: str, region: str) -> str:
    """The number in international format, read as a number of ``region`` when it has
    no country code; ValueError says what is expected."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValueError(
            _l(
                "Enter a valid phone number, such as +1 514 555 0123 or, in %(region)s, "
                "a national number.",
                region=region,
            )
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def normalise_email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValueError(_l("Enter an email address such as name@example.com.")) from None


def normalise_website(value: str) -> str:
    """An http(s) URL with a real host name; ``example.com`` gets https:// in front."""
    candidate = value if "://" in value else f"https://{value}"
    parts = urlsplit(candidate)
    host = parts.hostname or ""
    if (
        parts.scheme not in {"http", "https"}
        or "." not in host
        or not re.fullmatch(r"[a-z0-9.-]+", host)
        or len(candidate) > 255
    ):
        raise ValueError(_l("Enter a web address such as https://www.example.com."))
    return candidate


def apply(field, normaliser: Callable[[str], str]) -> None:
    """Normalise a filled-in field's data in place, or put the message on the field.
    A value left as it was stored is kept: data imported before these rules (the
    seed's phone numbers) must not block an edit of another field."""
    value = (field.data or "").strip()
    if not value:
        field.data = None
        return
    if value == (field.object_data or ""):
        field.data = value
        return
    try:
        field.data = normaliser(value)
    except ValueError as error:
        raise ValidationError(str(error)) from None
