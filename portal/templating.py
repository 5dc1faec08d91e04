"""What every template can use: the tenant, the navigation, the CSRF token."""

from flask import Flask, g, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

#: Navigation entries: label, endpoint, the permission that shows them.
NAVIGATION = [
    (_l("Clients"), "clients.index", "clients.view"),
    (_l("My company"), "account.index", "portal.self"),
]


def navigation() -> list[tuple[str, str]]:
    if not current_user.is_authenticated or "tenant" not in g:
        return []
    return [
        (label, url_for(endpoint))
        for label, endpoint, needed in NAVIGATION
        if current_user.can(needed)
    ]


def register(app: Flask) -> None:
    @app.context_processor
    def inject():
        return {"tenant": g.get("tenant"), "navigation": navigation, "get_locale": get_locale}
