"""Secrets kept at rest, sealed with a key derived from ``SECRET_KEY`` (a TOTP secret is
one): Fernet from ``cryptography`` (AES-128-CBC with an HMAC-SHA256), the key derived by
HKDF-SHA256 for this one purpose, so that the sealing key is never the session's.

Rotating ``SECRET_KEY``: set the new key, and the old one first in
``SECRET_KEY_FALLBACKS`` (Flask reads it too, for the session cookies). What was sealed
with the old key still opens, and ``reseal`` seals it again with the new one; once every
secret is resealed, the old key can go.

``cryptography`` is imported when a secret is first sealed or opened: only the users with
an authenticator app need it, and its Rust core costs each web worker some 8 MB.
"""

import base64
from functools import lru_cache

from flask import current_app

#: What the derived key is for: another purpose derives another key.
PURPOSE = b"portal: secrets sealed at rest"


class Unsealable(ValueError):
    """The sealed text opens with none of the keys: tampered with, or sealed with a key
    that is no longer configured."""


@lru_cache(maxsize=16)
def _fernet(secret_key: str):
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _keys():
    from cryptography.fernet import MultiFernet

    config = current_app.config
    keys = [config["SECRET_KEY"], *(config.get("SECRET_KEY_FALLBACKS") or [])]
    return MultiFernet([_fernet(key) for key in keys])


def seal(text: str) -> str:
    return _keys().encrypt(text.encode()).decode()


def unseal(sealed: str) -> str:
    from cryptography.fernet import InvalidToken

    try:
        return _keys().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise Unsealable("this secret opens with none of the configured keys") from None


def reseal(sealed: str) -> str:
    """``sealed`` sealed again with the current key."""
    from cryptography.fernet import InvalidToken

    try:
        return _keys().rotate(sealed.encode()).decode()
    except InvalidToken:
        raise Unsealable("this secret opens with none of the configured keys") from None
