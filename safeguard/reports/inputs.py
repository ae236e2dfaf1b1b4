"""Parsing and checking what a reporter sends: the choices of "what happened", links, hashes
computed on the device, the age band and the size of free text. Every problem is named, in
words a child can act on, and nothing is stored until everything is valid."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from safeguard.cases.content_keys import url_key
from safeguard.cases.priority import AGE_BANDS
from safeguard.cases.vocabulary import INCIDENT_TYPES
from safeguard.errors import InvalidInput
from safeguard.media.signals import normalize_hash

MAX_DETAILS = 5000
MAX_ACCOUNT = 300
MAX_CONTACT = 300
MAX_URLS = 20
MAX_URL_LENGTH = 2000
MAX_HASHES = 50
MAX_EXTERNAL_REF = 128
HASH_KINDS = ("pdq", "md5")

# The child's choices of "what happened", in the order of the form, with the CyberTipline
# incident type each one maps to and a severity for triage (0-3). The first choice (in this
# order) that applies gives the report its incident type.
_ENTICEMENT, _CSAM, _UNSOLICITED = INCIDENT_TYPES[6], INCIDENT_TYPES[0], INCIDENT_TYPES[7]
WHAT_CHOICES: dict[str, tuple[str, int]] = {
    "threatened": (_ENTICEMENT, 2),  # someone threatens to share pictures (sextortion)
    "image_shared": (_CSAM, 2),  # a private picture of the child was shared
    "asked_for_images": (_ENTICEMENT, 2),
    "wants_to_meet": (_ENTICEMENT, 2),
    "money_or_gifts": (INCIDENT_TYPES[1], 3),  # made to do things for money: trafficking
    "touched": (INCIDENT_TYPES[3], 3),
    "sent_me_things": (_UNSOLICITED, 1),
    "something_else": (_ENTICEMENT, 1),
}


@dataclass(frozen=True)
class HashIn:
    kind: str  # pdq | md5
    value: str
    quality: int | None = None


def check_text(value: str, limit: int, what: str) -> str:
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(f"{what} is too long: at most {limit} characters, got {len(value)}")
    if "\x00" in value:
        raise InvalidInput(f"{what} holds a character that cannot be stored")
    return value


def check_choices(what: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(what))
    unknown = [c for c in chosen if c not in WHAT_CHOICES]
    if unknown:
        raise InvalidInput(f"unknown choice of what happened: {', '.join(unknown)[:200]}")
    return chosen


def incident_and_severity(what: Sequence[str]) -> tuple[str | None, int]:
    picked = [WHAT_CHOICES[c] for c in WHAT_CHOICES if c in what]
    if not picked:
        return None, 1
    return picked[0][0], max(s for _, s in picked)


def check_incident_type(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if value not in INCIDENT_TYPES:
        raise InvalidInput("incident_type must be one of the CyberTipline incident types: "
                           + "; ".join(INCIDENT_TYPES))
    return value


def check_age_band(value: str) -> str:
    if value not in AGE_BANDS:
        raise InvalidInput(f"age band must be one of {', '.join(AGE_BANDS)}")
    return value


def parse_urls(text_or_list: str | Sequence[str]) -> list[str]:
    """One link per line (or a list). A link typed without "https://" gets it, because
    children copy links from an app's share sheet or type them from memory."""
    items = text_or_list.splitlines() if isinstance(text_or_list, str) else list(text_or_list)
    urls: list[str] = []
    for raw in items:
        item = raw.strip()
        if not item:
            continue
        if len(item) > MAX_URL_LENGTH:
            raise InvalidInput(f"a link is too long: at most {MAX_URL_LENGTH} characters")
        if "://" not in item:
            item = "https://" + item
        url_key(item)  # raises InvalidInput naming the link
        if item not in urls:
            urls.append(item)
    if len(urls) > MAX_URLS:
        raise InvalidInput(f"too many links: at most {MAX_URLS}")
    return urls


def parse_hash_lines(text: str) -> list[HashIn]:
    """Lines `pdq <64 hex> <quality 0-100>` or `md5 <32 hex>`, as the on-device hashing script
    writes them; blank lines are skipped."""
    hashes: list[HashIn] = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        kind = parts[0].lower()
        if kind == "pdq" and len(parts) == 3:
            if not parts[2].isascii() or not parts[2].isdigit():
                raise InvalidInput(f"hash line {number}: PDQ quality must be a number 0-100")
            hashes.append(HashIn("pdq", parts[1], int(parts[2])))
        elif kind == "md5" and len(parts) == 2:
            hashes.append(HashIn("md5", parts[1]))
        else:
            raise InvalidInput(f"hash line {number}: expected 'pdq <hash> <quality>' or "
                               "'md5 <hash>'")
    return check_hashes(hashes)


def check_hashes(hashes: Sequence[HashIn]) -> list[HashIn]:
    if len(hashes) > MAX_HASHES:
        raise InvalidInput(f"too many hashes: at most {MAX_HASHES}")
    checked: list[HashIn] = []
    for h in hashes:
        if h.kind not in HASH_KINDS:
            raise InvalidInput(f"hash kind must be one of {', '.join(HASH_KINDS)}")
        try:
            value = normalize_hash(h.kind, h.value)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from exc
        if h.kind == "pdq":
            if h.quality is not None and not 0 <= h.quality <= 100:
                raise InvalidInput("PDQ quality must be 0-100")
        elif h.quality is not None:
            raise InvalidInput("only PDQ hashes have a quality")
        item = HashIn(h.kind, value, h.quality)
        if all((c.kind, c.value) != (item.kind, item.value) for c in checked):
            checked.append(item)
    return checked
