"""Two-factor sign-in with an authenticator app (TOTP, RFC 6238, by pyotp) and recovery
codes: enrolment confirmed by a first code, codes that work once, the secret sealed at
rest (``portal.sealing``), recovery codes stored hashed and shown once."""

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
from sqlalchemy import delete, func, select, update

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.mail import outbox
from portal.models import Passkey, RecoveryCode, User
from portal.models.base import utcnow
from portal.sealing import seal, unseal
from portal.services import audit, authority, languages
from portal.services.actor import Actor
from portal.services.refusal import Refusal

#: A code of the step before or after the current one is accepted too (clocks drift).
DRIFT_STEPS = 1
#: Recovery codes made at once.
RECOVERY_CODES = 10
#: A recovery code's letters: no 0/O, 1/I/L to misread.
RECOVERY_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


class TwoFactorRefused(Refusal):
    """The code is not accepted; the message says why."""


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str, issuer: str) -> str:
    """What the QR code holds: ``otpauth://totp/<issuer>:<email>?secret=…&issuer=…``."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def qr_code(uri: str) -> str:
    """The QR code of ``uri`` as an SVG data URI, drawn on the server."""
    import segno  # its QR code tables, for the one page that shows a code

    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def grouped(secret: str) -> str:
    """The secret as people type it: in groups of four."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code ``code`` is, within the drift allowed, or None."""
    code = "".join((code or "").split())
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


#: scrypt's cost for recovery codes (OWASP's floor for scrypt: N=2^14, r=8, p=5).
SCRYPT = {"n": 2**14, "r": 8, "p": 5}


def _hash(code: str, salt: bytes) -> str:
    """A recovery code as stored: ``scrypt$<salt>$<digest>``. A code holds about 50 random
    bits, below the 112 that a plain hash would need (ASVS 6.5.2), hence a slow, salted
    hash; the user's codes share one salt, so a typed code costs one scrypt, not ten."""
    digest = hashlib.scrypt(
        normalise_recovery(code).encode(), salt=salt, maxmem=64 * 1024 * 1024, **SCRYPT
    )
    return f"scrypt${salt.hex()}${digest.hex()}"


def _matches(code: str, stored: str, salted: dict[bytes, str]) -> bool:
    """Whether ``code`` is the one ``stored``; ``salted`` keeps the typed code's hash by
    salt, so that it is computed once."""
    if not stored.startswith("scrypt$"):  # made before codes were salted: SHA-256 alone
        typed = hashlib.sha256(normalise_recovery(code).encode()).hexdigest()
        return hmac.compare_digest(typed, stored)
    salt = bytes.fromhex(stored.split("$")[1])
    if salt not in salted:
        salted[salt] = _hash(code, salt)
    return hmac.compare_digest(salted[salt], stored)


def normalise_recovery(code: str) -> str:
    return "".join(c for c in (code or "").upper() if c.isalnum())


def new_recovery_codes(user: User, now: datetime) -> list[str]:
    """Replace ``user``'s recovery codes with new ones, returned once, as shown."""
    forget_recovery_codes(user)
    codes = []
    salt = secrets.token_bytes(16)
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash(raw, salt), created_at=now))
    return codes


def enable(user: User, secret: str, code: str, *, actor: Actor, now=None) -> list[str]:
    """Turn on the app whose ``secret`` the user scanned, once they typed its current
    code; when it is their first second factor, returns their recovery codes, to show
    once."""
    now = now or utcnow()
    step = _matching_step(secret, code, now)
    if step is None:
        raise TwoFactorRefused(
            _l("This code does not match: check the app's clock, and type the code it shows now.")
        )
    codes = None if user.has_second_factor else new_recovery_codes(user, now)
    user.totp_secret = seal(secret)
    user.totp_enabled_at = now
    user.totp_last_step = step
    audit.record("auth.totp_enabled", actor=actor, client_id=user.client_id)
    return codes


def forget_recovery_codes(user: User) -> None:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def _forget_app(user: User) -> None:
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None


def disable(user: User, *, actor: Actor) -> None:
    """Turn off the authenticator app; the recovery codes go with the last second factor."""
    _forget_app(user)
    if not user.has_second_factor:
        forget_recovery_codes(user)
    audit.record("auth.totp_disabled", actor=actor, client_id=user.client_id)


def regenerate(user: User, *, actor: Actor, now=None) -> list[str]:
    """New recovery codes; the old ones stop working."""
    codes = new_recovery_codes(user, now or utcnow())
    audit.record("auth.recovery_codes_renewed", actor=actor, client_id=user.client_id)
    return codes


def check_code(user: User, code: str, now=None) -> bool:
    """Whether ``code`` is the app's, and not used before: a code works once, and none
    of an earlier step works after it."""
    if not user.has_authenticator_app:
        return False
    now = now or utcnow()
    step = _matching_step(unseal(user.totp_secret), code, now)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    # Taken in one statement, so that two requests with the same code cannot both pass.
    taken = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            (User.totp_last_step.is_(None)) | (User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    user.totp_last_step = step
    return taken == 1


def use_recovery_code(user: User, code: str, *, actor: Actor, now=None) -> bool:
    """Whether ``code`` is one of the user's unused recovery codes; using it is
    recorded and mailed to them."""
    now = now or utcnow()
    if len(normalise_recovery(code)) != 10:  # not even the shape of one: no hash to pay
        return False
    salted: dict[bytes, str] = {}
    found = next(
        (
            row
            for row in db.session.scalars(
                select(RecoveryCode).where(
                    RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
                )
            )
            if _matches(code, row.code_hash, salted)
        ),
        None,
    )
    if found is None:
        return False
    taken = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == found.id, RecoveryCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        return False
    left = remaining(user)
    audit.record(
        "auth.recovery_code_used",
        actor=actor.signed_in_as(user),
        client_id=user.client_id,
        left=left,
    )
    outbox.queue_from_templates(
        actor.tenant,
        kind="recovery_code_used",
        to=user.email,
        subject=_l("A recovery code was used to sign in to %(tenant)s", tenant=actor.tenant.name),
        locale=languages.locale_for(actor.tenant, user=user),
        template="recovery_code_used",
        user=user,
        left=left,
        address=actor.address or "?",
    )
    return True


def remaining(user: User) -> int:
    """How many of ``user``'s recovery codes still work."""
    return db.session.scalar(
        select(func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )


def reset(user: User, *, actor: Actor) -> None:
    """An administrator removes ``user``'s second factors (a lost phone): refused
    (``authority.Refused``) when the user holds permissions the actor lacks. The user
    sets up a new one at their next sign-in if their role asks for one; they are told
    by mail, and the reset is recorded."""
    authority.check_user(actor.user, user)
    _forget_app(user)
    forget_recovery_codes(user)
    db.session.execute(delete(Passkey).where(Passkey.user_id == user.id))
    db.session.expire(user, ["passkeys"])
    audit.record("auth.totp_reset", actor=actor, client_id=user.client_id, user_id=user.id)
    outbox.queue_from_templates(
        actor.tenant,
        kind="two_factor_reset",
        to=user.email,
        subject=_l("Your two-factor sign-in for %(tenant)s was reset", tenant=actor.tenant.name),
        locale=languages.locale_for(actor.tenant, user=user),
        template="two_factor_reset",
        user=user,
        by=actor.user.name,
    )
