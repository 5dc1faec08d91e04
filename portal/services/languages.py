"""Whose language a page or a mail is in.

A user's own preference first; else their company's language, in its region (a client in
Canada that speaks French reads Québec's French); else the tenant's default. Pages add the
browser's choice where nobody is known (``portal.web.languages``); mails never do: they
are written in their recipient's language, not their sender's.
"""

from flask import current_app

from portal.models import Client, Tenant, User

#: Countries whose French is Québec's (the ``fr_CA`` catalogue).
CANADIAN_FRENCH = frozenset({"CA"})


def offered() -> list[str]:
    return current_app.config["LANGUAGES"]


def regional(language: str | None, country: str | None) -> str | None:
    """A client's two-letter language as an offered locale, in the client's region."""
    if language == "fr" and country in CANADIAN_FRENCH and "fr_CA" in offered():
        return "fr_CA"
    return language if language in offered() else None


def locale_for(tenant: Tenant, *, user: User | None = None, client: Client | None = None) -> str:
    """The locale to write to ``user`` (or to ``client``'s addresses) in."""
    if user is not None and user.locale in offered():
        return user.locale
    if client is None and user is not None and user.client_id is not None:
        client = user.client  # staff have none: asking would cost a query on every page
    if client is not None:
        spoken = regional(client.language, client.billing_country)
        if spoken is not None:
            return spoken
    return tenant.default_locale if tenant.default_locale in offered() else offered()[0]
