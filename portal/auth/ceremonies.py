"""A passkey ceremony's two halves on the web: the options the page hands the browser,
with a challenge kept in the signed session cookie, and that challenge given back once,
when the browser's answer comes in."""

import time

from flask import current_app, g, session
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

from portal.models import User
from portal.services import passkeys

#: How long the browser may take to answer.
CHALLENGE_SECONDS = 300
#: The ceremonies, each with its own challenge so that two pages do not spoil each other.
PURPOSES = ("register", "sign_in", "second_factor")


def relying_party() -> passkeys.RelyingParty | None:
    """This portal's relying party; None when it is served at an IP address."""
    return passkeys.RelyingParty.of(current_app.config["PORTAL_BASE_URL"], g.tenant.name)


def _key(purpose: str) -> str:
    assert purpose in PURPOSES
    return f"passkey:{purpose}"


def offer(purpose: str, user: User | None = None) -> str | None:
    """The options, as JSON, of a ceremony for ``purpose`` (``user`` is the one making a
    passkey, or the one signing in who gave their password); None where passkeys are
    not available."""
    party = relying_party()
    if party is None or (purpose == "second_factor" and not user.passkeys):
        return None
    if purpose == "register":
        options, challenge = passkeys.registration_options(user, party)
    else:
        options, challenge = passkeys.authentication_options(party, user)
    session[_key(purpose)] = {"challenge": bytes_to_base64url(challenge), "since": time.time()}
    return options


def taken(purpose: str) -> bytes | None:
    """The challenge of the ceremony for ``purpose``, once; None when none is under way
    or it is too old."""
    kept = session.pop(_key(purpose), None)
    if not isinstance(kept, dict) or time.time() - kept.get("since", 0) > CHALLENGE_SECONDS:
        return None
    try:
        return base64url_to_bytes(kept["challenge"])
    except (KeyError, TypeError, ValueError):
        return None
