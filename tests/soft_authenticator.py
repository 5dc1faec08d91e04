"""A passkey authenticator in Python, for the HTTP tests: it makes an ES256 credential
and signs challenges as a platform authenticator does (``none`` attestation), so that
the server's real checks (py_webauthn) run on real signatures. The browser tests use
Chromium's own virtual authenticator instead."""

import hashlib
import html
import json
import os
import re
import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, encode_cbor

#: Where a page carries the options of its passkey ceremony.
OPTIONS = re.compile(r'data-passkey-options="([^"]*)"')

#: Flags of the authenticator data: user present, user verified, credential data attached.
PRESENT, VERIFIED, ATTESTED = 0x01, 0x04, 0x40


class SoftAuthenticator:
    def __init__(self, origin: str = "http://portal.test", rp_id: str = "portal.test"):
        self.origin = origin
        self.rp_id = rp_id
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = 0
        self.user_handle = b""
        #: Whether the device checks its user (a PIN, a fingerprint).
        self.verifies = True

    def _client_data(self, kind: str, challenge: str) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": False}
        ).encode()

    def _flags(self) -> int:
        return PRESENT | (VERIFIED if self.verifies else 0)

    def public_key(self) -> bytes:
        """The credential's public key, COSE-encoded (EC2, P-256, ES256)."""
        numbers = self.key.public_key().public_numbers()
        return encode_cbor(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def create(self, options: dict) -> str:
        """The answer to ``navigator.credentials.create`` with these options, as JSON."""
        self.user_handle = base64url_to_bytes(options["user"]["id"])
        cose_key = self.public_key()
        auth_data = (
            hashlib.sha256(self.rp_id.encode()).digest()
            + bytes([self._flags() | ATTESTED])
            + struct.pack(">I", self.sign_count)
            + bytes(16)
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + cose_key
        )
        attestation = encode_cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return json.dumps(
            {
                "id": bytes_to_base64url(self.credential_id),
                "rawId": bytes_to_base64url(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": bytes_to_base64url(
                        self._client_data("webauthn.create", options["challenge"])
                    ),
                    "attestationObject": bytes_to_base64url(attestation),
                    "transports": ["internal"],
                },
                "clientExtensionResults": {},
            }
        )

    def get(self, options: dict) -> str:
        """The answer to ``navigator.credentials.get`` with these options, as JSON; the
        counter moves on by one."""
        self.sign_count += 1
        client_data = self._client_data("webauthn.get", options["challenge"])
        auth_data = (
            hashlib.sha256(self.rp_id.encode()).digest()
            + bytes([self._flags()])
            + struct.pack(">I", self.sign_count)
        )
        signature = self.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return json.dumps(
            {
                "id": bytes_to_base64url(self.credential_id),
                "rawId": bytes_to_base64url(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": bytes_to_base64url(client_data),
                    "authenticatorData": bytes_to_base64url(auth_data),
                    "signature": bytes_to_base64url(signature),
                    "userHandle": bytes_to_base64url(self.user_handle),
                },
                "clientExtensionResults": {},
            }
        )


def options_of(page) -> dict:
    """The options of the passkey ceremony that ``page`` offers."""
    match = OPTIONS.search(page.get_data(as_text=True))
    assert match, "the page offers no passkey"
    return json.loads(html.unescape(match.group(1)))
