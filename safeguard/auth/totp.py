"""Two-step sign-in with time-based one-time codes (RFC 6238, `pyotp`).

The secret is stored encrypted with the field key; a code is accepted once (the last used
time step is kept, so a code seen over a shoulder cannot be replayed) and within one step of
clock drift either way.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass

import pyotp
import segno
from sqlalchemy.orm import Session

from safeguard.audit.service import Actor, record
from safeguard.auth.models import User
from safeguard.db.encryption import FieldCipher
from safeguard.errors import ConflictError, InvalidInput

ISSUER = "Safeguard"
STEP_SECONDS = 30


@dataclass(frozen=True)
class Enrolment:
    secret: str  # base32, for typing into an app by hand
    uri: str  # otpauth:// for the QR code
    qr_svg: str


def start_enrolment(session: Session, actor: Actor, user: User, cipher: FieldCipher,
                    *, issuer: str = ISSUER) -> Enrolment:
    """A new secret for `user` (replacing a pending one); two-step sign-in turns on only when
    `confirm_enrolment` sees a valid code from it."""
    if user.totp_enabled:
        raise ConflictError("two-step sign-in is already on; an admin can reset it")
    secret = pyotp.random_base32()
    user.totp_secret = cipher.encrypt(secret)
    user.totp_last_step = None
    record(session, actor, "totp.enrolment_started", "user", user.id)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=issuer)
    return Enrolment(secret, uri, _qr_svg(uri))


def pending_enrolment(user: User, cipher: FieldCipher, *,
                      issuer: str = ISSUER) -> Enrolment | None:
    """The enrolment started but not confirmed yet, to show its QR code again."""
    if user.totp_enabled or user.totp_secret is None:
        return None
    secret = cipher.decrypt(user.totp_secret)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=issuer)
    return Enrolment(secret, uri, _qr_svg(uri))


def confirm_enrolment(session: Session, actor: Actor, user: User, code: str,
                      cipher: FieldCipher) -> None:
    if user.totp_enabled:
        raise ConflictError("two-step sign-in is already on")
    if user.totp_secret is None:
        raise InvalidInput("start the set-up first")
    if not check_code(user, code, cipher):
        raise InvalidInput("that code is not right; check the clock on your phone and try "
                           "the next code")
    user.totp_enabled = True
    record(session, actor, "totp.enabled", "user", user.id)


def check_code(user: User, code: str, cipher: FieldCipher, *, now: float | None = None) -> bool:
    """True for a valid, not yet used code; remembers its time step."""
    code = "".join(code.split())
    if user.totp_secret is None or len(code) != 6 or not code.isascii() or not code.isdigit():
        return False
    totp = pyotp.TOTP(cipher.decrypt(user.totp_secret))
    at = time.time() if now is None else now
    step = int(at // STEP_SECONDS)
    for candidate in (step, step - 1, step + 1):
        if candidate <= (user.totp_last_step or -1):
            continue
        if totp.verify(code, for_time=candidate * STEP_SECONDS):
            user.totp_last_step = candidate
            return True
    return False


def reset(session: Session, actor: Actor, user: User) -> None:
    """Turn two-step sign-in off (a lost phone); the user sets it up again at next sign-in
    when their role requires it."""
    user.totp_secret = None
    user.totp_enabled = False
    user.totp_last_step = None
    record(session, actor, "totp.reset", "user", user.id)


def _qr_svg(uri: str) -> str:
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, border=4, xmldecl=False,
                                    title="QR code for your authenticator app")
    return out.getvalue().decode("utf-8")
