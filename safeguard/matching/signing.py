"""Webhook signatures: ``X-Safeguard-Signature: t=<unix seconds>,v1=<hex>`` where
v1 = HMAC-SHA256(secret, "<t>." + raw body). Receivers recompute it over the raw bytes and
refuse old timestamps, which stops replays (the same scheme as Stripe's)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "X-Safeguard-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def compute(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for `body`."""
    ts = int(time.time()) if timestamp is None else timestamp
    return f"t={ts},v1={compute(secret, ts, body)}"


def verify(secret: str, header: str, body: bytes, *,
           tolerance: int = DEFAULT_TOLERANCE_SECONDS, now: float | None = None) -> bool:
    """True if `header` signs `body` with `secret` and is at most `tolerance` seconds old."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        ts = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - ts) > tolerance:
        return False
    expected = compute(secret, ts, body)
    return any(hmac.compare_digest(expected, given) for given in fields.get("v1", []))
