"""What makes two leads "the same content": a normalised hash or URL."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from safeguard.errors import InvalidInput
from safeguard.media.signals import normalize_hash

_DEFAULT_PORTS = {"http": 80, "https": 443}


def hash_key(signal_type: str, value: str) -> str:
    try:
        return f"{signal_type}:{normalize_hash(signal_type, value)}"
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc


def url_key(url: str) -> str:
    """Scheme and host lower-cased, default port and fragment dropped; path and query kept
    as they are (they are case-sensitive on most servers)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(f"not a valid URL: {url[:200]!r} ({exc})") from exc
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        raise InvalidInput(f"not an http(s) URL: {url[:200]!r}")
    host = parts.hostname.lower().rstrip(".")
    netloc = host if port in (None, _DEFAULT_PORTS[parts.scheme.lower()]) else f"{host}:{port}"
    return "url:" + urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))
