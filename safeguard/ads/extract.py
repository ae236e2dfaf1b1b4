"""Entity extraction with spans.

`extract(ad)` finds phone numbers (see `phones`), emails (also "name at site dot com"), URLs,
social and messaging handles, payment handles, crypto addresses, prices, stated ages and
locations. Every entity carries its normalised value (what linking compares), its span in
`ad.full_text` (or the contact field it came from) and a status: "valid", or "possible" when it
looks like an entity but does not validate (kept for the reviewer, never used to link ads).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from safeguard.ads.phones import find_phones
from safeguard.ads.records import Ad
from safeguard.ads.text import word_trie

# Kinds that identify who is behind an ad; linking compares these.
LINKING_KINDS = frozenset({"phone", "email", "handle", "payment", "crypto", "image"})

_TLDS = ("com|net|org|info|biz|io|me|co|us|uk|ca|au|fr|es|de|it|nl|be|ch|mx|ar|br|pt|ru|pl|ie|"
         "eu|xyz|online|site|club")
_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-]{1,64})@([\w-]{1,63}(?:\.[\w-]{1,63}){1,4})\b")
_AT = r"(?:\s*[\(\[\{]\s*(?:at|arroba|arobase)\s*[\)\]\}]\s*|\s+(?:at|arroba|arobase)\s+|\s*@\s*)"
_DOT = r"(?:\s*[\(\[\{]\s*(?:dot|punto|point)\s*[\)\]\}]\s*|\s+(?:dot|punto|point)\s+|\.)"
_EMAIL_SPELLED = re.compile(
    rf"(?<![\w.+-])([\w.+-]{{1,64}}){_AT}([\w-]{{1,63}}(?:{_DOT}[\w-]{{1,63}}){{0,3}}){_DOT}"
    rf"({_TLDS})\b", re.IGNORECASE)
_DOT_SPLIT = re.compile(_DOT, re.IGNORECASE)
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'()]+", re.IGNORECASE)
_PLATFORMS = {
    "instagram": "instagram", "insta": "instagram", "ig": "instagram",
    "snapchat": "snapchat", "snap": "snapchat", "sc": "snapchat",
    "telegram": "telegram", "tg": "telegram", "twitter": "x", "kik": "kik",
    "wickr": "wickr", "signal": "signal", "skype": "skype", "line": "line", "wechat": "wechat",
    "tiktok": "tiktok", "discord": "discord", "whatsapp": "whatsapp", "wa": "whatsapp",
}
_HANDLE = re.compile(
    r"(?<!\w)(" + word_trie(_PLATFORMS) +
    r")\b\s*(?:[:\-=>]|id|me|at)?\s*[:\-]?\s*@?([A-Za-z][A-Za-z0-9_.]{2,29})", re.IGNORECASE)
_BARE_HANDLE = re.compile(r"(?<![\w@.])@([A-Za-z][A-Za-z0-9_.]{2,29})\b")
_CASHTAG = re.compile(r"(?<![\w$])\$([A-Za-z][A-Za-z0-9_]{2,19})\b")
_PAYMENT = re.compile(
    r"(?<!\w)(venmo|paypal(?:\.me)?|cash\s?app|zelle|revolut|skrill)\b\s*(?:[:\-/]|me)?\s*[:/]?\s*"
    r"[@$]?([A-Za-z][A-Za-z0-9_.\-]{2,29})", re.IGNORECASE)
_BTC = re.compile(r"\b([13][a-km-zA-HJ-NP-Z1-9]{25,34}|bc1[ac-hj-np-z02-9]{11,71})\b")
_ETH = re.compile(r"\b(0x[a-fA-F0-9]{40})\b")
_PRICE = re.compile(
    r"(?:(?P<c1>[$€£])\s?(?P<a1>\d{2,5})(?:[.,]\d{2})?|"
    r"(?P<a2>\d{2,5})\s?(?P<c2>\$|€|£|(?:usd|eur|gbp|dollars?|euros?|pounds?)\b))"
    r"(?:\s*(?:/|per|an|a|la|par)?\s*(?P<unit>hour|hr|h|hora|heure|half hour|hh|session))?",
    re.IGNORECASE)
_AGE = re.compile(
    r"\b(?:(?:age|aged|edad|âge)\s*[:\-]?\s*(?P<a1>\d{2})\b|"
    r"(?P<a2>\d{2})\s*(?:yo|y/o|y\.o\.|years?\s+old|yrs?\s+old|años|ans)\b)", re.IGNORECASE)
_LOCATION_CUE = re.compile(
    r"\b(?:located in|based in|visiting|now in|new in|in town:|near|cerca de|situé à"
    r"|en la ciudad de)"
    r"\s+([A-Z][\w'-]+(?:\s+[A-Z][\w'-]+){0,2})")
_CURRENCIES = {"$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD", "€": "EUR",
               "eur": "EUR", "euro": "EUR", "euros": "EUR", "£": "GBP", "gbp": "GBP",
               "pound": "GBP", "pounds": "GBP"}
_HANDLE_STOPWORDS = frozenset({"me", "only", "now", "and", "the", "for", "you", "available"})


@dataclass(frozen=True, slots=True)
class Entity:
    kind: str  # phone | email | url | handle | payment | crypto | price | age | location | image
    value: str  # normalised: E.164, lower-case email, "instagram:name", "cashapp:name", ...
    span: tuple[int, int] | None  # in ad.full_text; None when it came from a field
    raw: str
    status: str = "valid"  # "valid" | "possible"
    source: str = "text"  # "text" or the contact field it came from
    obfuscated: bool = False
    detail: str = ""  # e.g. the obfuscation tricks decoded

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value}"

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "value": self.value, "raw": self.raw, "status": self.status,
                "span": list(self.span) if self.span else None, "source": self.source,
                "obfuscated": self.obfuscated, "detail": self.detail}


def extract(ad: Ad) -> list[Entity]:
    """All entities of one ad, in order of appearance (field entities last)."""
    text = ad.full_text
    found: list[Entity] = []
    found += _phones(text, ad.region)
    emails = _emails(text)
    found += emails
    email_spans = [e.span for e in emails if e.span]
    found += _urls(text)
    payments = _payments(text)
    found += payments
    found += _handles(text, email_spans + [p.span for p in payments])
    found += _crypto(text)
    found += _prices(text)
    found += _ages(text)
    found += _locations(text, ad.location)
    found.sort(key=lambda e: (e.span or (len(text), len(text)), e.kind))
    found += _fields(ad)
    return _dedupe(found)


def linking_keys(entities: list[Entity]) -> set[str]:
    """Normalised values that may link ads: valid entities of the identifying kinds."""
    return {e.key for e in entities if e.kind in LINKING_KINDS and e.status == "valid"}


def _phones(text: str, region: str | None, source: str = "text") -> list[Entity]:
    return [Entity("phone", m.value, m.span if source == "text" else None, m.raw, m.status,
                   source, m.obfuscated, ", ".join(m.tricks)) for m in find_phones(text, region)]


def _emails(text: str) -> list[Entity]:
    out = [Entity("email", f"{m.group(1)}@{m.group(2)}".lower(), m.span(), m.group())
           for m in _EMAIL.finditer(text)]
    taken = [e.span for e in out if e.span]
    for m in _EMAIL_SPELLED.finditer(text):
        if _overlaps(m.span(), taken):
            continue
        domain = ".".join(p for p in _DOT_SPLIT.split(m.group(2)) if p)
        value = f"{m.group(1)}@{domain}.{m.group(3)}".lower()
        out.append(Entity("email", value, m.span(), m.group(), obfuscated=True,
                          detail="at/dot spelled out"))
    return out


def _urls(text: str) -> list[Entity]:
    out = []
    for m in _URL.finditer(text):
        raw = m.group().rstrip(".,;:!?")
        value = raw.lower()
        value = re.sub(r"^https?://", "", value).removeprefix("www.").rstrip("/")
        out.append(Entity("url", value, (m.start(), m.start() + len(raw)), raw))
    return out


def _handles(text: str, email_spans: Sequence[tuple[int, int] | None]) -> list[Entity]:
    out: list[Entity] = []
    spans: list[tuple[int, int]] = [s for s in email_spans if s]
    for m in _HANDLE.finditer(text):
        name = m.group(2).rstrip(".").lower()
        if name in _HANDLE_STOPWORDS or _overlaps(m.span(), spans):
            continue
        platform = _PLATFORMS[m.group(1).lower()]
        out.append(Entity("handle", f"{platform}:{name}", m.span(), m.group()))
        spans.append(m.span())
    for m in _BARE_HANDLE.finditer(text):
        if _overlaps(m.span(), spans):
            continue
        out.append(Entity("handle", f"@:{m.group(1).rstrip('.').lower()}", m.span(), m.group()))
    return out


def _payments(text: str) -> list[Entity]:
    out = []
    for m in _PAYMENT.finditer(text):
        service = re.sub(r"[\s.]|me$", "", m.group(1).lower())
        name = m.group(2).rstrip(".-").lower()
        if name in _HANDLE_STOPWORDS or name.isdigit():
            continue
        out.append(Entity("payment", f"{service}:{name}", m.span(), m.group()))
    for m in _CASHTAG.finditer(text):
        out.append(Entity("payment", f"cashapp:{m.group(1).lower()}", m.span(), m.group()))
    return out


def _crypto(text: str) -> list[Entity]:
    out = []
    for m in _BTC.finditer(text):
        address = m.group(1)
        valid = address.startswith("bc1") or _base58check(address)
        out.append(Entity("crypto", f"btc:{address if valid else address}", m.span(), address,
                          "valid" if valid else "possible"))
    for m in _ETH.finditer(text):
        out.append(Entity("crypto", f"eth:{m.group(1).lower()}", m.span(), m.group(1)))
    return out


def _prices(text: str) -> list[Entity]:
    out = []
    for m in _PRICE.finditer(text):
        amount = m.group("a1") or m.group("a2")
        currency = _CURRENCIES.get((m.group("c1") or m.group("c2") or "").lower(), "?")
        unit = (m.group("unit") or "").lower()
        value = f"{amount} {currency}" + (f"/{unit}" if unit else "")
        out.append(Entity("price", value, m.span(), m.group().strip()))
    return out


def _ages(text: str) -> list[Entity]:
    out = []
    for m in _AGE.finditer(text):
        age = int(m.group("a1") or m.group("a2"))
        status = "valid" if 14 <= age <= 80 else "possible"
        out.append(Entity("age", str(age), m.span(), m.group(), status))
    return out


def _locations(text: str, field: str) -> list[Entity]:
    out = []
    if field.strip():
        out.append(Entity("location", _norm_place(field), None, field, source="location"))
        place = field.split(",")[0].strip()
        if len(place) >= 3:
            for m in re.finditer(r"\b" + re.escape(place) + r"\b", text, re.IGNORECASE):
                out.append(Entity("location", _norm_place(place), m.span(), m.group()))
    for m in _LOCATION_CUE.finditer(text):
        out.append(Entity("location", _norm_place(m.group(1)), m.span(1), m.group(1)))
    return out


def _fields(ad: Ad) -> list[Entity]:
    out: list[Entity] = []
    for name, value in ad.contacts:
        if name == "phone":
            phones = _phones(value, ad.region, source=name)
            out += phones or [Entity("phone", "?" + value, None, value, "possible", name)]
        elif name == "email":
            emails = [Entity(e.kind, e.value, None, e.raw, e.status, name, e.obfuscated, e.detail)
                      for e in _emails(value)]
            out += emails or [Entity("email", value.lower(), None, value, "possible", name)]
        else:
            kind = "payment" if name == "payment" else "handle"
            out.append(Entity(kind, f"{name}:{value.lower().lstrip('@$')}", None, value,
                              source=name))
    out += [Entity("image", h, None, h, source="image_hashes") for h in ad.image_hashes]
    return out


def _dedupe(entities: list[Entity]) -> list[Entity]:
    seen: set[tuple[str, str, tuple[int, int] | None, str]] = set()
    out = []
    for e in entities:
        marker = (e.kind, e.value, e.span, e.source)
        if marker not in seen:
            seen.add(marker)
            out.append(e)
    return out


def _overlaps(span: tuple[int, int], others: Sequence[tuple[int, int] | None]) -> bool:
    return any(o is not None and span[0] < o[1] and o[0] < span[1] for o in others)


def _norm_place(value: str) -> str:
    return " ".join(value.lower().replace(",", " ").split())


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _base58check(address: str) -> bool:
    number = 0
    for char in address:
        number = number * 58 + _B58.index(char)
    raw = number.to_bytes(25, "big") if number.bit_length() <= 200 else b""
    if len(raw) != 25:
        return False
    check = hashlib.sha256(hashlib.sha256(raw[:-4]).digest()).digest()[:4]
    return check == raw[-4:]
