"""Normalised keys of case items; two cases sharing a key are linked."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import phonenumbers

from safeguard.cases.case_models import ItemKind
from safeguard.cases.content_keys import hash_key, url_key
from safeguard.errors import InvalidInput

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HASH = re.compile(r"^(?P<type>pdq|md5|sha256):(?P<value>\S+)$", re.IGNORECASE)
_HANDLE = re.compile(r"^@?[\w.\-]{1,100}$")


def keys_for(kind: ItemKind, value: str, *, region: str | None = None) -> list[str]:
    """Link keys of one item; raises InvalidInput naming what is wrong with `value`."""
    value = value.strip()
    if not value:
        raise InvalidInput(f"an empty {kind.value} item")
    if kind == ItemKind.URL:
        key = url_key(value)
        host = (urlsplit(value).hostname or "").lower().rstrip(".")
        return [key, "domain:" + host.removeprefix("www.")]
    if kind == ItemKind.HASH:
        match = _HASH.match(value)
        if not match:
            raise InvalidInput("a hash item is written type:value, e.g. pdq:<64 hex>, "
                               "md5:<32 hex> or sha256:<64 hex>")
        return [hash_key(match["type"].lower(), match["value"])]
    if kind == ItemKind.ACCOUNT:
        return [account_key(value, region=region)]
    return []  # free text links nothing


def account_key(value: str, *, region: str | None = None) -> str:
    if _EMAIL.match(value):
        return "email:" + value.lower()
    digits = sum(c.isdigit() for c in value)
    if digits >= 7 and not value.startswith("@"):
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException as exc:
            raise InvalidInput(f"not a phone number, email or handle: {value[:80]!r} "
                               f"({exc}; give numbers in +<country> form)") from exc
        if phonenumbers.is_possible_number(number):
            return "phone:" + phonenumbers.format_number(
                number, phonenumbers.PhoneNumberFormat.E164)
        raise InvalidInput(f"not a possible phone number: {value[:80]!r}")
    if _HANDLE.match(value):
        return "handle:" + value.lstrip("@").lower()
    raise InvalidInput(f"not a phone number, email or handle: {value[:80]!r}")
