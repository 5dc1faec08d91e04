"""Passkeys (WebAuthn, checked by py_webauthn): registered from one's two-factor page,
then a second factor after the password, or a sign-in on their own when the device
checked its user (a PIN, a fingerprint).

One relying party serves every tenant: the host of ``PORTAL_BASE_URL``. A ceremony's
challenge is made here, kept by the caller (the web layer keeps it in the session) and
given back once: a response is checked against it, the origin and the relying party,
the credential's public key and its signature counter.
"""

import hashlib
import ipaddress
import json
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select, update
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import Passkey, User
from portal.models.base import utcnow
from portal.services import audit, two_factor, unique
from portal.services.actor import Actor
from portal.services.refusal import Refusal

#: The longest credential a browser sends back, as JSON; anything longer is refused unread.
MAX_RESPONSE = 16_384
#: How long a passkey's name may be.
NAME_LENGTH = 80
#: The transports WebAuthn knows; anything else a browser says is dropped.
TRANSPORTS = {transport.value: transport for transport in AuthenticatorTransport}


class PasskeyRefused(Refusal):
    """The passkey's answer is not accepted; the message says why."""


@dataclass(frozen=True)
class RelyingParty:
    """Who the browser's passkeys are for: the portal's host, and its origin."""

    #: The host name (never an address: browsers refuse those).
    id: str
    #: ``scheme://host[:port]``, which every answer must come from.
    origin: str
    #: Shown by the browser when a passkey is made.
    name: str

    @classmethod
    def of(cls, base_url: str, name: str) -> "RelyingParty | None":
        """The relying party of a portal served at ``base_url``; None when its host is an
        IP address, for which browsers make no passkey."""
        parts = urlsplit(base_url)
        host = parts.hostname or ""
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            return None
        return cls(id=host, origin=f"{parts.scheme}://{parts.netloc}", name=name) if host else None


def user_handle(user: User) -> bytes:
    """What a passkey keeps of its user: a digest of tenant and user, so that one
    device's passkeys for two tenants of the same portal never replace each other, and
    no name or address is stored on the device."""
    return hashlib.sha256(f"portal-user:{user.tenant_id}:{user.id}".encode()).digest()


def _descriptors(user: User) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(
            id=key.credential_id,
            transports=[TRANSPORTS[t] for t in key.transports.split(",") if t in TRANSPORTS],
        )
        for key in user.passkeys
    ]


def registration_options(user: User, party: RelyingParty) -> tuple[str, bytes]:
    """What the browser needs to make a passkey for ``user`` (as JSON), and the
    challenge to keep for checking its answer."""
    options = generate_registration_options(
        rp_id=party.id,
        rp_name=party.name,
        user_id=user_handle(user),
        user_name=user.email,
        user_display_name=user.name,
        exclude_credentials=_descriptors(user),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    return options_to_json(options), options.challenge


def authentication_options(party: RelyingParty, user: User | None = None) -> tuple[str, bytes]:
    """What the browser needs to sign in with a passkey (as JSON), and the challenge to
    keep. For ``user`` (who gave their password) one of their passkeys; without a user,
    any passkey of this portal that checks its user on the device."""
    options = generate_authentication_options(
        rp_id=party.id,
        allow_credentials=_descriptors(user) if user is not None else [],
        user_verification=(
            UserVerificationRequirement.PREFERRED
            if user is not None
            else UserVerificationRequirement.REQUIRED
        ),
    )
    return options_to_json(options), options.challenge


def clean_name(name: str) -> str:
    name = " ".join((name or "").split())[:NAME_LENGTH]
    if not name:
        raise PasskeyRefused(_l("Give this passkey a name, such as the device it is on."))
    return name


def _read(response: str) -> str:
    if not response or len(response) > MAX_RESPONSE:
        raise PasskeyRefused(_l("The browser sent no passkey. Try again."))
    return response


def register(
    user: User,
    response: str,
    challenge: bytes,
    name: str,
    party: RelyingParty | None,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> list[str] | None:
    """Keep the passkey the browser made for ``user`` (its ``response`` to the
    ``challenge``), under ``name``. When it is their first second factor, returns their
    new recovery codes, to show once."""
    name = clean_name(name)
    if party is None:
        raise PasskeyRefused(
            _l("Passkeys need the portal to be served under a domain name; ask your administrator.")
        )
    try:
        made = verify_registration_response(
            credential=_read(response),
            expected_challenge=challenge,
            expected_rp_id=party.id,
            expected_origin=party.origin,
        )
        transports = json.loads(response).get("response", {}).get("transports") or []
    except (WebAuthnException, ValueError, TypeError, KeyError, AttributeError) as problem:
        raise PasskeyRefused(
            _l("This passkey could not be checked. Try again, or with another device.")
        ) from problem
    now = now or utcnow()
    first = not user.has_second_factor
    try:
        with unique.claimed():
            db.session.add(
                Passkey(
                    tenant_id=user.tenant_id,
                    user_id=user.id,
                    credential_id=made.credential_id,
                    public_key=made.credential_public_key,
                    sign_count=made.sign_count,
                    name=name,
                    transports=",".join(
                        t for t in transports if isinstance(t, str) and t in TRANSPORTS
                    ),
                    created_at=now,
                )
            )
    except unique.Taken as taken:
        raise PasskeyRefused(_l("This passkey is registered already.")) from taken
    db.session.expire(user, ["passkeys"])
    codes = two_factor.new_recovery_codes(user, now) if first else None
    audit.record("auth.passkey_added", actor=actor, client_id=user.client_id, name=name)
    return codes


def owned(user: User, passkey_id: int) -> Passkey | None:
    """``user``'s passkey ``passkey_id``; None for anyone else's."""
    return db.session.scalar(
        select(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user.id)
    )


def rename(passkey: Passkey, name: str, *, actor: Actor) -> None:
    before, passkey.name = passkey.name, clean_name(name)
    audit.record(
        "auth.passkey_renamed",
        actor=actor,
        client_id=actor.user.client_id,
        before=before,
        after=passkey.name,
    )


def remove(passkey: Passkey, *, actor: Actor) -> None:
    """Forget a passkey; with the user's last second factor go their recovery codes."""
    user = actor.user
    db.session.delete(passkey)
    db.session.flush()
    db.session.expire(user, ["passkeys"])
    if not user.has_second_factor:
        two_factor.forget_recovery_codes(user)
    audit.record("auth.passkey_removed", actor=actor, client_id=user.client_id, name=passkey.name)


def authenticate(
    response: str,
    challenge: bytes,
    party: RelyingParty | None,
    *,
    user: User | None = None,
    now: datetime | None = None,
) -> Passkey:
    """The passkey whose signed ``response`` to ``challenge`` this is: one of ``user``'s
    when given, else one whose device checked its user. A counter that did not grow
    (a cloned key) is refused, like a bad signature."""
    refused = PasskeyRefused(_l("This passkey was not accepted."))
    if party is None:
        raise refused
    try:
        raw_id = base64url_to_bytes(json.loads(_read(response))["rawId"])
    except (ValueError, TypeError, KeyError, AttributeError) as problem:
        raise refused from problem
    passkey = db.session.scalar(select(Passkey).where(Passkey.credential_id == raw_id))
    if passkey is None or (user is not None and passkey.user_id != user.id):
        raise refused
    try:
        checked = verify_authentication_response(
            credential=response,
            expected_challenge=challenge,
            expected_rp_id=party.id,
            expected_origin=party.origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=user is None,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError, AttributeError) as problem:
        raise refused from problem
    # Moved on in one statement, so that two requests with one answer cannot both pass.
    taken = db.session.execute(
        update(Passkey)
        .where(Passkey.id == passkey.id, Passkey.sign_count == passkey.sign_count)
        .values(sign_count=checked.new_sign_count, last_used_at=now or utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        raise refused
    db.session.expire(passkey)
    return passkey
