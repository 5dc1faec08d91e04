"""Choosing the interface language."""

from flask import current_app, g, request
from flask_login import current_user


def select_locale() -> str | None:
    languages = current_app.config["LANGUAGES"]
    user = current_user if current_user else None
    if user is not None and user.is_authenticated and user.locale in languages:
        return user.locale
    match = request.accept_languages.best_match(languages)
    if match:
        return match
    tenant = g.get("tenant")
    return tenant.default_locale if tenant is not None else None


def select_timezone() -> str | None:
    tenant = g.get("tenant")
    return tenant.timezone if tenant is not None else None
