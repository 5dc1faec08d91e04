"""Choosing the interface language and time zone."""

from flask import current_app, g, has_request_context, request
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
