"""The Ad record and loaders for JSON lines and CSV.

Loaders never stop at a bad line: each malformed line is reported with its line number and the
valid lines are still returned. Text is cleaned on the way in (HTML stripped, huge texts truncated
with a note) so every later stage sees the same, bounded input.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from safeguard.ads.text import MAX_TEXT_CHARS, clean_text
from safeguard.errors import InvalidInput
from safeguard.jsonlines import decode_text, iter_json_lines, read_json_lines

CONTACT_FIELDS = ("phone", "email", "handle", "payment")
_MAX_ID = 256
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Ad:
    """One ad as ingested. `(site, ad_id)` is the identity; loading the same pair twice is a
    duplicate, not a new ad."""

    site: str
    ad_id: str
    text: str
    title: str = ""
    location: str = ""
    region: str | None = None  # ISO 3166 region hint for phone numbers, e.g. "GB"
    posted_at: datetime | None = None
    contacts: tuple[tuple[str, str], ...] = ()  # (field, value) from the source's contact fields
    image_hashes: tuple[str, ...] = ()  # PDQ hashes (64 hex) when the source has them
    notes: tuple[str, ...] = ()  # what cleaning did, e.g. "text truncated from 90000 characters"

    @property
    def key(self) -> str:
        return f"{self.site}:{self.ad_id}"

    @property
    def full_text(self) -> str:
        """Title and text as one string; spans from extraction refer to this string."""
        return f"{self.title}\n{self.text}" if self.title else self.text


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    message: str


@dataclass
class LoadResult:
    ads: list[Ad] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    duplicates: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return len(self.errors)


def make_ad(raw: Mapping[str, Any], *, default_site: str | None = None,
            default_region: str | None = None) -> Ad:
    """Validate one raw record (a JSON object or CSV row) into an Ad; InvalidInput names every
    problem found."""
    problems: list[str] = []
    site = _text_field(raw.get("site"), "site", problems) or (default_site or "")
    ad_id = _text_field(raw.get("id", raw.get("ad_id")), "id", problems)
    if not site:
        problems.append("site is missing")
    # NUL and other control characters in an identity field are refused, not cleaned: two
    # different raw ids must not become the same ad (PostgreSQL cannot store NUL at all).
    if _CONTROL.search(site) or _CONTROL.search(ad_id):
        problems.append("site and id must not contain control characters")
    if not ad_id:
        problems.append("id is missing")
    elif len(ad_id) > _MAX_ID:
        problems.append(f"id longer than {_MAX_ID} characters")
    text_raw = _text_field(raw.get("text"), "text", problems)
    title_raw = _text_field(raw.get("title"), "title", problems)
    location = _text_field(raw.get("location"), "location", problems)
    region = _text_field(raw.get("region"), "region", problems).upper() or default_region
    if region is not None and not (len(region) == 2 and region.isalpha()):
        problems.append(f"region must be a two-letter ISO code, got {region!r}")
    posted_at = _parse_time(raw.get("posted_at"), problems)
    contacts: list[tuple[str, str]] = []
    raw_contacts = raw.get("contacts")
    if isinstance(raw_contacts, Mapping):
        items: Iterable[tuple[Any, Any]] = raw_contacts.items()
    elif raw_contacts in (None, ""):
        items = ()
    else:
        problems.append("contacts must be an object")
        items = ()
    for name, value in list(items) + [(f, raw.get(f)) for f in CONTACT_FIELDS]:
        for one in _as_list(value):
            value_text = _CONTROL.sub(" ", str(one)).strip() if isinstance(one, str | int) else ""
            if value_text:
                contacts.append((_CONTROL.sub("", str(name))[:64], value_text[:_MAX_ID]))
    hashes = []
    for value in _as_list(raw.get("image_hashes")):
        one = str(value).strip().lower()
        if len(one) != 64 or any(c not in "0123456789abcdef" for c in one):
            problems.append(f"image hash is not 64 hex digits: {str(value)[:80]!r}")
        else:
            hashes.append(one)
    if problems:
        raise InvalidInput("; ".join(problems))
    notes: list[str] = []
    text, text_notes = clean_text(text_raw)
    title, title_notes = clean_text(title_raw, limit=1_000)
    notes += text_notes + [f"title: {n}" for n in title_notes]
    if not text and not title:
        notes.append("empty ad: no title or text")
    return Ad(site=site, ad_id=ad_id, text=text, title=title,
              location=_CONTROL.sub(" ", location).strip()[:200],
              region=region, posted_at=posted_at, contacts=tuple(contacts),
              image_hashes=tuple(dict.fromkeys(hashes)), notes=tuple(notes))


def load_jsonl(source: Path | str | Iterable[bytes], **defaults: Any) -> LoadResult:
    """Load JSON lines. Blank lines are ignored; bad lines are reported by number."""
    return next(iter_jsonl(source, chunk=sys.maxsize, **defaults))


def iter_jsonl(source: Path | str | Iterable[bytes], *, chunk: int = 10_000,
               **defaults: Any) -> Iterator[LoadResult]:
    """JSON lines in parts of about `chunk` lines, so a corpus larger than memory streams.
    Line numbers count from the start of the file and duplicates are found across parts;
    at least one part is yielded."""
    lines = (read_json_lines(source) if isinstance(source, Path | str)
             else iter_json_lines(source))
    result = LoadResult()
    seen: set[str] = set()
    for line in lines:
        if len(result.ads) + len(result.errors) >= chunk:
            yield result
            result = LoadResult()
        if line.note:
            result.notes.append(f"line {line.number}: {line.note}")
        if line.value is None:
            result.errors.append(LineError(line.number, line.error))
            continue
        _add(result, seen, line.number, line.value, defaults)
    yield result


def load_csv(source: Path | str | bytes, **defaults: Any) -> LoadResult:
    """Load CSV with a header row (site,id,posted_at,title,text,location,region,phone,email,
    handle,payment,image_hashes; several hashes separated by spaces or semicolons)."""
    data = Path(source).read_bytes() if isinstance(source, Path | str) else source
    text, note = decode_text(data)
    result = LoadResult()
    if note:
        result.notes.append(note)
    seen: set[str] = set()
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames
    except csv.Error as error:
        result.errors.append(LineError(1, f"unreadable CSV header: {error}"))
        return result
    if not header or "id" not in header:
        result.errors.append(LineError(1, "CSV header must name at least an 'id' column"))
        return result
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            result.errors.append(LineError(reader.line_num, f"malformed CSV: {error}"))
            continue
        number = reader.line_num
        if None in row:
            result.errors.append(LineError(number, "more fields than the header names"))
            continue
        if any(value is None for value in row.values()):
            result.errors.append(LineError(number, "fewer fields than the header names"))
            continue
        raw: dict[str, Any] = dict(row)
        if raw.get("image_hashes"):
            raw["image_hashes"] = raw["image_hashes"].replace(";", " ").split()
        _add(result, seen, number, raw, defaults)
    return result


def _add(result: LoadResult, seen: set[str], number: int, raw: Mapping[str, Any],
         defaults: Mapping[str, Any]) -> None:
    try:
        ad = make_ad(raw, default_site=defaults.get("default_site"),
                     default_region=defaults.get("default_region"))
    except InvalidInput as error:
        result.errors.append(LineError(number, str(error)))
        return
    if ad.key in seen:
        result.duplicates += 1
        return
    seen.add(ad.key)
    result.ads.append(ad)


def _text_field(value: Any, name: str, problems: list[str]) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    problems.append(f"{name} must be a string")
    return ""


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _parse_time(value: Any, problems: list[str]) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        problems.append("posted_at must be an ISO 8601 string")
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        problems.append(f"posted_at is not ISO 8601: {value[:40]!r}")
        return None


__all__ = ["Ad", "LineError", "LoadResult", "MAX_TEXT_CHARS", "iter_jsonl", "load_csv",
           "load_jsonl", "make_ad"]
