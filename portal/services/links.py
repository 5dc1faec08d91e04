"""Signed links mailed to users: their absolute URL and reading their payload."""

import hashlib

from flask import current_app
from itsdangerous import BadData


def portal_url(endpoint: str, **values) -> str:
    """An absolute link for a mail: PORTAL_BASE_URL, never the request's Host header."""
    path = current_app.url_map.bind("portal.invalid").build(endpoint, values)
    return current_app.config["PORTAL_BASE_URL"] + path


def digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def read_token(serializer, token: str, **loads) -> dict | None:
    """A token's payload if its signature (and, when asked, its age) holds, else None."""
    try:
        data = serializer.loads(token, **loads)
    except BadData:
        return None
    return data if isinstance(data, dict) else None


def token_id(value) -> int | None:
    """A database id from a token payload, or None for anything that cannot be one."""
    return value if isinstance(value, int) and 0 < value < 2**31 else None
