"""Parsers for hash-list files: ours (CSV, JSON lines, one hash a line) and threatexchange's, read
as threatexchange writes them.

Every parser reads the whole file and reports *every* bad line before anything is stored.

threatexchange formats (python-threatexchange):
- ``te-file``: LocalFileSignalExchangeAPI, one ``<signal type> <hash>`` a line
  (``pdq facd...``, ``video_md5 3c2f...``);
- ``te-dataset``: ``threatexchange dataset -P --csv`` (header
  ``signal_type,signal_str,collab,category,tags``, tags space-separated);
- ``te-simple``: the CLI/HMA state files ``simple.<INDICATOR_TYPE>.te`` (no header:
  ``indicator,first_descriptor_id,added_on,labels`` or, HMA's, with ``indicator_id`` second);
- ``te-query``: ``threatexchange api fb_threatexchange query`` output, CSV with a header naming
  ``indicator`` and ``type`` (``HASH_PDQ`` ...) or its ``--format jsonl`` objects.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from safeguard.errors import InvalidInput
from safeguard.jsonlines import parse_object
from safeguard.media.signals import SIGNAL_TYPES, normalize_hash

FORMATS = ("auto", "lines", "csv", "jsonl", "te-file", "te-dataset", "te-simple", "te-query")

# Names other tools give our signal types: threatexchange SignalType.get_name() and
# ThreatExchange indicator types.
SIGNAL_ALIASES: dict[str, str] = {
    "pdq": "pdq", "hash_pdq": "pdq",
    "md5": "md5", "video_md5": "md5", "hash_md5": "md5", "hash_video_md5": "md5",
    "sha256": "sha256", "video_sha256": "sha256", "hash_sha256": "sha256",
    "hash_video_sha256": "sha256",
    "vpdq": "vpdq", "hash_vpdq": "vpdq",
}
# What threatexchange calls ours, for export in its formats.
TE_NAMES = {"pdq": "pdq", "md5": "video_md5", "sha256": "video_sha256", "vpdq": "vpdq"}

MAX_TAG_LENGTH = 64
MAX_TAGS = 32
_TAG_SPLIT = re.compile(r"[\s,;]+")
_TE_SIMPLE_NAME = re.compile(r"(?:^|[\\/])simple\.([A-Za-z0-9_]+)\.te$")
_HEX = re.compile(r"^[0-9a-fA-F]{32,64}$")
MAX_PROBLEMS_SHOWN = 200
_NEWLINE = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class ParsedEntry:
    line: int
    signal_type: str
    value: str
    tags: tuple[str, ...] = ()
    source: str = ""
    source_id: str = ""
    quality: int | None = None
    variant: str = ""


class ImportRejected(InvalidInput):
    """The file has bad lines; nothing was stored. `problems` lists (line, reason) for all."""

    def __init__(self, problems: list[tuple[int, str]], what: str = "file") -> None:
        self.problems = problems
        shown = "; ".join(f"line {line}: {why}" if line else why
                          for line, why in problems[:MAX_PROBLEMS_SHOWN])
        more = len(problems) - MAX_PROBLEMS_SHOWN
        tail = f"; and {more} more (every line is listed in `problems`)" if more > 0 else ""
        lines = sorted({line for line, _ in problems if line})
        numbers = (" Bad lines: " + ", ".join(map(str, lines)) + ".") if lines else ""
        super().__init__(f"{what} rejected, nothing was stored: {len(problems)} problem(s): "
                         f"{shown}{tail}.{numbers}")


@dataclass
class _Collector:
    default_signal_type: str
    entries: list[ParsedEntry] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)

    def bad(self, line: int, why: str) -> None:
        self.problems.append((line, why))

    def add(self, line: int, signal_type: str | None, value: Any, *, tags: Any = (),
            source: Any = "", source_id: Any = "", quality: Any = None, variant: Any = "") -> None:
        problems: list[str] = []
        stype = resolve_signal_type(signal_type or self.default_signal_type, problems)
        if not isinstance(value, str) or not value.strip():
            problems.append("no hash")
        elif stype is not None:
            try:
                value = normalize_hash(stype, value)
            except ValueError as exc:
                problems.append(str(exc))
        parsed_tags = parse_tags(tags, problems)
        parsed_quality = _parse_quality(quality, problems)
        texts = {}
        for name, raw, limit in (("source", source, 128), ("source_id", source_id, 256),
                                 ("variant", variant, 32)):
            text = "" if raw is None else str(raw).strip()
            if len(text) > limit:
                problems.append(f"{name} longer than {limit} characters")
            texts[name] = text
        if problems:
            self.bad(line, "; ".join(problems))
            return
        assert stype is not None and isinstance(value, str)
        self.entries.append(ParsedEntry(line, stype, value, parsed_tags, texts["source"],
                                        texts["source_id"], parsed_quality, texts["variant"]))


def resolve_signal_type(name: Any, problems: list[str] | None = None) -> str | None:
    key = str(name or "").strip().lower()
    resolved = SIGNAL_ALIASES.get(key)
    if resolved is None:
        message = (f"unknown signal type {name!r} (use one of {', '.join(SIGNAL_TYPES)} or "
                   "threatexchange's names such as video_md5, HASH_PDQ)")
        if problems is None:
            raise InvalidInput(message)
        problems.append(message)
    return resolved


def parse_tags(raw: Any, problems: list[str]) -> tuple[str, ...]:
    if raw is None or raw == "":
        return ()
    if isinstance(raw, str):
        items: Iterable[Any] = _TAG_SPLIT.split(raw)
    elif isinstance(raw, list | tuple | set | frozenset):
        items = raw
    else:
        problems.append("tags must be a list of strings or a space-separated string")
        return ()
    tags: dict[str, None] = {}
    for item in items:
        if not isinstance(item, str):
            problems.append(f"tag {item!r} is not a string")
            continue
        tag = item.strip()
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH or not tag.isprintable():
            problems.append(f"tag {tag[:20]!r} is longer than {MAX_TAG_LENGTH} characters or "
                            "has control characters")
            continue
        tags[tag] = None
    if len(tags) > MAX_TAGS:
        problems.append(f"more than {MAX_TAGS} tags")
    return tuple(tags)


def _parse_quality(raw: Any, problems: list[str]) -> int | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        problems.append("quality must be a whole number 0-100")
        return None
    try:
        quality = int(raw)
    except (TypeError, ValueError):
        problems.append(f"quality {raw!r} is not a whole number 0-100")
        return None
    if not 0 <= quality <= 100:
        problems.append(f"quality {quality} is not between 0 and 100")
        return None
    return quality


# --------------------------------------------------------------------------- decoding

def decode_text(data: bytes) -> tuple[str, list[tuple[int, str]]]:
    """The text (UTF-8, a BOM allowed) and a problem for every line with bytes that are not
    UTF-8 or are NUL, so an operator sees all of them at once."""
    text = data.decode("utf-8-sig", errors="surrogateescape")
    problems: list[tuple[int, str]] = []
    for number, line in enumerate(_physical_lines(text), start=1):
        bad = [ord(c) - 0xDC00 for c in line if "\udc80" <= c <= "\udcff"]
        if bad:
            problems.append((number, f"not UTF-8 text (byte 0x{bad[0]:02x}); save the file "
                                     "as UTF-8"))
        elif "\x00" in line:
            problems.append((number, "contains NUL bytes: is this a text file?"))
    return text, problems


def detect_format(text: str, filename: str | None = None) -> str:
    name = (filename or "").lower()
    if filename and _TE_SIMPLE_NAME.search(filename):
        return "te-simple"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    first = next((ln.strip() for ln in _physical_lines(text) if ln.strip()
                  and not ln.lstrip().startswith("#")), "")
    if first.startswith("{"):
        return "jsonl"
    if "," in first:
        header = [h.strip().lower() for h in next(csv.reader([first]))]
        if "signal_str" in header:
            return "te-dataset"
        if "indicator" in header and "type" in header:
            return "te-query"
        if _HEX.match(header[0]) and len(header) in (4, 5):
            return "te-simple"
        return "csv"
    parts = first.split()
    if len(parts) == 2 and parts[0].lower() in SIGNAL_ALIASES:
        return "te-file"
    return "lines"


def parse(data: bytes, fmt: str = "auto", *, filename: str | None = None,
          default_signal_type: str = "pdq") -> list[ParsedEntry]:
    """All entries of a file, or ImportRejected listing every bad line (and nothing else)."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    what = filename or "file"
    default = resolve_signal_type(default_signal_type)
    assert default is not None
    text, encoding_problems = decode_text(data)
    if fmt == "auto":
        fmt = detect_format(text, filename)
    collector = _Collector(default)
    if fmt == "te-simple" and filename and (m := _TE_SIMPLE_NAME.search(filename)):
        collector.default_signal_type = resolve_signal_type(m.group(1)) or default
    _PARSERS[fmt](text, collector)
    if encoding_problems or collector.problems:
        seen = {line for line, _ in encoding_problems}
        problems = encoding_problems + [p for p in collector.problems if p[0] not in seen]
        raise ImportRejected(sorted(problems, key=lambda p: p[0]), what)
    return collector.entries


# --------------------------------------------------------------------------- parsers

def _physical_lines(text: str) -> list[str]:
    # Only CR/LF end a line (str.splitlines also splits on \v, \f, U+2028 ...), so line
    # numbers are the ones an editor shows.
    return _NEWLINE.split(text)


def _content_lines(text: str) -> Iterator[tuple[int, str]]:
    for number, raw in enumerate(_physical_lines(text), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            yield number, line


def _parse_lines(text: str, out: _Collector) -> None:
    for number, line in _content_lines(text):
        if len(line.split()) > 1:
            out.bad(number, "expected one hash on the line")
            continue
        out.add(number, None, line)


def _parse_te_file(text: str, out: _Collector) -> None:
    for number, line in _content_lines(text):
        signal_type, _, signal = line.partition(" ")
        if not signal.strip():
            out.bad(number, "expected '<signal type> <hash>'")
            continue
        out.add(number, signal_type, signal.strip(), source="threatexchange")


def _csv_rows(text: str, out: _Collector) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for row in reader:
            if not row or all(not c.strip() for c in row) or row[0].lstrip().startswith("#"):
                continue
            yield reader.line_num, row
    except csv.Error as exc:
        out.bad(reader.line_num, f"malformed CSV ({exc})")


def _csv_with_header(text: str, out: _Collector, required: tuple[str, ...],
                     aliases: dict[str, str]) -> Iterator[tuple[int, dict[str, str]]]:
    rows = _csv_rows(text, out)
    first = next(rows, None)
    if first is None:
        return
    header_line, header = first
    names = [aliases.get(h.strip().lower(), h.strip().lower()) for h in header]
    missing = [r for r in required if r not in names]
    if missing:
        out.bad(header_line, f"the header must name the column(s) {', '.join(missing)} "
                             f"(found: {', '.join(header)})")
        return
    for number, row in rows:
        if len(row) != len(names):
            out.bad(number, f"{len(row)} fields but the header has {len(names)}")
            continue
        yield number, dict(zip(names, row, strict=True))


_CSV_ALIASES = {"hash": "value", "signal": "value", "signal_str": "value", "indicator": "value",
                "type": "signal_type", "labels": "tags", "id": "source_id"}


def _parse_csv(text: str, out: _Collector) -> None:
    for number, row in _csv_with_header(text, out, ("value",), _CSV_ALIASES):
        out.add(number, row.get("signal_type") or None, row["value"], tags=row.get("tags"),
                source=row.get("source", ""), source_id=row.get("source_id", ""),
                quality=row.get("quality"), variant=row.get("variant", ""))


def _parse_te_dataset(text: str, out: _Collector) -> None:
    for number, row in _csv_with_header(text, out, ("signal_type", "signal_str"), {}):
        out.add(number, row["signal_type"], row["signal_str"], tags=row.get("tags"),
                source="threatexchange", source_id=row.get("collab", ""))


def _parse_te_query(text: str, out: _Collector) -> None:
    for number, row in _csv_with_header(text, out, ("indicator", "type"), {}):
        out.add(number, row["type"], row["indicator"], tags=row.get("tags"),
                source="threatexchange", source_id=row.get("id", ""))


def _parse_te_simple(text: str, out: _Collector) -> None:
    for number, row in _csv_rows(text, out):
        if len(row) == 4:  # CliIndicatorSerialization
            indicator, descriptor_id, _added_on, labels = row
            source_id = descriptor_id
        elif len(row) == 5:  # HMASerialization: indicator_id second
            indicator, source_id, _descriptor_id, _added_on, labels = row
        else:
            out.bad(number, f"expected 4 or 5 fields (indicator,[indicator_id,]"
                            f"descriptor_id,added_on,labels), got {len(row)}")
            continue
        out.add(number, None, indicator, tags=labels.split(" ") if labels else (),
                source="threatexchange", source_id=source_id)


def _parse_jsonl(text: str, out: _Collector) -> None:
    for number, line in _content_lines(text):
        try:
            obj = parse_object(line)
        except InvalidInput as exc:
            out.bad(number, str(exc))
            continue
        if "indicator" in obj and "type" in obj:  # threatexchange query --format jsonl
            out.add(number, obj["type"], obj["indicator"], tags=obj.get("tags"),
                    source="threatexchange", source_id=obj.get("id", ""))
            continue
        value = obj.get("value", obj.get("hash", obj.get("signal_str")))
        out.add(number, obj.get("signal_type"), value, tags=obj.get("tags"),
                source=obj.get("source", ""), source_id=obj.get("source_id", ""),
                quality=obj.get("quality"), variant=obj.get("variant", ""))


_PARSERS = {
    "lines": _parse_lines, "csv": _parse_csv, "jsonl": _parse_jsonl, "te-file": _parse_te_file,
    "te-dataset": _parse_te_dataset, "te-simple": _parse_te_simple, "te-query": _parse_te_query,
}
