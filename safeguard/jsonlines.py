"""Reading JSON lines the same way everywhere: one object a line, blank lines ignored,
bytes that are not UTF-8 decoded with a note instead of an error.

Every reader (conversations, the conversation stream, ads, bank files) meets the same bad
lines and must name them the same way; what it then does with a bad line is its own promise
(refuse the file, skip and report, or emit an error event), so this module only describes
each line and never decides.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safeguard.errors import InvalidInput

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


def decode_text(data: bytes) -> tuple[str, str | None]:
    """Bytes -> text and a note when the encoding had to be guessed (never fails: Latin-1
    decodes any byte)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), None
            except UnicodeDecodeError:
                break
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "not UTF-8: decoded as Windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "not UTF-8 or Windows-1252: decoded as Latin-1"


def parse_object(line: str) -> dict[str, Any]:
    """One JSON object, or InvalidInput saying why not (the message names no line: the
    caller knows it)."""
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"not valid JSON: {exc.msg} at column {exc.colno}") from exc
    except RecursionError as exc:
        raise InvalidInput("not valid JSON: nested too deeply") from exc
    if not isinstance(value, dict):
        raise InvalidInput("expected a JSON object")
    return value


@dataclass(frozen=True, slots=True)
class JsonLine:
    """A non-blank line: its object, or (value None) the error that kept it from being one."""
    number: int
    value: dict[str, Any] | None
    error: str = ""
    note: str | None = None


def iter_json_lines(lines: Iterable[bytes | str], *,
                    max_line_bytes: int | None = None) -> Iterator[JsonLine]:
    """Each non-blank line, numbered from 1 like an editor. A line longer than
    `max_line_bytes` is an error without being decoded, so one huge line costs no parsing."""
    for number, raw in enumerate(lines, 1):
        if max_line_bytes is not None and len(raw) > max_line_bytes:
            unit = "bytes" if isinstance(raw, bytes) else "characters"
            yield JsonLine(number, None, f"line longer than {max_line_bytes:,} {unit}")
            continue
        text, note = decode_text(raw) if isinstance(raw, bytes) else (raw, None)
        if not text.strip():
            continue
        try:
            yield JsonLine(number, parse_object(text), "", note)
        except InvalidInput as exc:
            yield JsonLine(number, None, str(exc), note)


def read_json_lines(path: Path | str, *, max_line_bytes: int | None = None
                    ) -> Iterator[JsonLine]:
    """`iter_json_lines` over a file, streamed; a file that cannot be opened is InvalidInput
    naming it."""
    try:
        handle = Path(path).open("rb")  # noqa: SIM115 - an open error must name the file
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from exc
    with handle:
        yield from iter_json_lines(handle, max_line_bytes=max_line_bytes)
