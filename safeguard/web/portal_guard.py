"""Abuse handling for the anonymous portal forms, without puzzles a child cannot solve (CR-13):
per-network rate limits held in memory only, a small proof-of-work the browser computes,
one-time form tokens against replays, and a double-submit cookie against cross-site posts.

Nothing here is written to disk or to the database: the network prefix (a /24 for IPv4, a
/56 for IPv6, never the full address) lives in a bounded in-memory table for at most the
length of a rate-limit window, so no IP address is stored (CR-08). With several worker
processes each keeps its own counters; that only makes the limits looser by the number of
workers, and is written down in docs/portal.md.

The `limits` package was considered; a sliding-window log of a few dozen lines does the job
without a new dependency or its storage abstraction (see docs/decisions/025).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass

CSRF_COOKIE = "sg_portal_csrf"
POW_BITS = 14  # ~16,000 SHA-256 in the browser: well under a second on a cheap phone
TOKEN_MAX_AGE = 2 * 3600  # a form older than this is shown again with a fresh token


@dataclass(frozen=True)
class Limit:
    requests: int
    seconds: float


# With proof-of-work a school's shared network can send many reports; without JavaScript the
# form still works but each network may send fewer.
LIMITS = {
    "report_pow": Limit(30, 3600),
    "report_plain": Limit(8, 3600),
    "status": Limit(30, 900),
}


def network_prefix(host: str | None) -> str:
    """The client's network, coarse enough to be shared by a household or a school."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    bits = 24 if address.version == 4 else 56
    return str(ipaddress.ip_network(f"{address}/{bits}", strict=False))


class RateLimiter:
    """Sliding-window log per (bucket, prefix). Bounded: the least recently seen keys go first
    when the table is full."""

    def __init__(self, limits: dict[str, Limit] | None = None, capacity: int = 50_000) -> None:
        self.limits = dict(limits or LIMITS)
        self._hits: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()
        self._lock = threading.Lock()
        self._capacity = capacity

    def hit(self, bucket: str, prefix: str, now: float | None = None) -> bool:
        """Count one request; False when the limit is already reached (nothing counted)."""
        limit = self.limits[bucket]
        now = time.monotonic() if now is None else now
        key = (bucket, prefix)
        with self._lock:
            hits = self._hits.pop(key, None) or deque()
            while hits and hits[0] <= now - limit.seconds:
                hits.popleft()
            allowed = len(hits) < limit.requests
            if allowed:
                hits.append(now)
            self._hits[key] = hits
            while len(self._hits) > self._capacity:
                self._hits.popitem(last=False)
            return allowed

    def prefixes(self) -> list[str]:
        """What is held (for tests): network prefixes only."""
        with self._lock:
            return [prefix for _, prefix in self._hits]


class UsedTokens:
    """Form tokens already spent, until they would have expired anyway."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._used: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._capacity = capacity

    def spend(self, token: str, now: float) -> bool:
        """True the first time; False for a replay."""
        with self._lock:
            while self._used and next(iter(self._used.values())) < now - TOKEN_MAX_AGE:
                self._used.popitem(last=False)
            if token in self._used:
                return False
            self._used[token] = now
            while len(self._used) > self._capacity:
                self._used.popitem(last=False)
            return True

    def forget(self, token: str) -> None:
        """Give a spent token back: what it carried was not stored (the database failed),
        so sending the same form again is a retry, not a replay."""
        with self._lock:
            self._used.pop(token, None)


class FormTokens:
    """Signed one-time tokens for a form: `<issued>.<nonce>.<signature>`. The nonce is also the
    proof-of-work challenge. The key is made at start-up and never leaves memory."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)
        self.used = UsedTokens()

    def issue(self, now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        body = f"{issued}.{secrets.token_hex(12)}"
        return f"{body}.{self._sign(body)}"

    def _sign(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()[:32]

    def check(self, token: str, now: float | None = None) -> str:
        """'ok', 'expired' or 'invalid' (without spending it)."""
        now = time.time() if now is None else now
        parts = token.split(".")
        if len(parts) != 3 or len(token) > 100:
            return "invalid"
        body = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(self._sign(body), parts[2]):
            return "invalid"
        if not parts[0].isdigit() or now - int(parts[0]) > TOKEN_MAX_AGE:
            return "expired"
        return "ok"

    def spend(self, token: str, now: float | None = None) -> bool:
        return self.used.spend(token, time.time() if now is None else now)

    def release(self, token: str) -> None:
        self.used.forget(token)


def pow_ok(token: str, nonce: str, bits: int = POW_BITS) -> bool:
    """SHA-256(token + ":" + nonce) starts with `bits` zero bits (what pow.js searches for)."""
    if not nonce or len(nonce) > 32 or not nonce.isascii() or not nonce.isdigit():
        return False
    digest = hashlib.sha256(f"{token}:{nonce}".encode()).digest()
    return int.from_bytes(digest, "big") >> (256 - bits) == 0


def solve_pow(token: str, bits: int = POW_BITS) -> str:
    """The same search in Python (tests and API clients that want the higher limit)."""
    nonce = 0
    while not pow_ok(token, str(nonce), bits):
        nonce += 1
    return str(nonce)


def csrf_ok(cookie: str | None, field: str | None) -> bool:
    return bool(cookie) and bool(field) and hmac.compare_digest(str(cookie), str(field))


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


@dataclass
class PortalGuard:
    limiter: RateLimiter
    tokens: FormTokens
    pow_bits: int = POW_BITS


_made = threading.Lock()


def guard_of(state: object) -> PortalGuard:
    """The app's guard, made on first use (held on app.state, so each app has its own)."""
    with _made:
        guard = getattr(state, "portal_guard", None)
        if guard is None:
            guard = PortalGuard(RateLimiter(), FormTokens())
            state.portal_guard = guard  # type: ignore[attr-defined]
        return guard
