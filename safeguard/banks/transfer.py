"""Import a hash-list file into a bank, export a bank. Import is all-or-nothing."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeguard.audit.service import Actor, record
from safeguard.banks import formats
from safeguard.banks.models import BankEntry
from safeguard.banks.service import AddResult, add_entries, get_bank
from safeguard.errors import InvalidInput

EXPORT_FORMATS = ("csv", "jsonl", "te-file", "lines")
CSV_COLUMNS = ("signal_type", "value", "quality", "variant", "source", "source_id", "tags",
               "added_by", "added_at")


def import_file(session: Session, actor: Actor, ref: str | int, data: bytes, *,
                fmt: str = "auto", filename: str | None = None,
                default_signal_type: str = "pdq", source: str | None = None) -> AddResult:
    """Parse the whole file (ImportRejected lists every bad line), then store it in one
    transaction; `source` fills in rows that name none."""
    bank = get_bank(session, ref)
    entries = formats.parse(data, fmt, filename=filename,
                            default_signal_type=default_signal_type)
    if source:
        entries = [e if e.source else formats.ParsedEntry(
            e.line, e.signal_type, e.value, e.tags, source, e.source_id, e.quality, e.variant)
            for e in entries]
    return add_entries(session, actor, bank.id, entries, action="bank.import",
                       filename=filename or "", format=fmt, bytes=len(data))


def iter_export(session: Session, actor: Actor, ref: str | int, fmt: str = "csv",
                signal_type: str | None = None) -> Iterator[str]:
    """The bank as text chunks (one per row). Exporting is a sensitive read, so it is audited."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"unknown export format {fmt!r}; choose one of "
                           f"{', '.join(EXPORT_FORMATS)}")
    bank = get_bank(session, ref)
    query = select(BankEntry).where(BankEntry.bank_id == bank.id)
    if signal_type:
        query = query.where(BankEntry.signal_type == formats.resolve_signal_type(signal_type))
    record(session, actor, "bank.export", "bank", bank.id, bank=bank.name, format=fmt,
           signal_type=signal_type or "")
    rows = session.scalars(query.order_by(BankEntry.id).execution_options(yield_per=2000))
    if fmt == "csv":
        yield _csv_line(CSV_COLUMNS)
    for e in rows:
        if fmt == "csv":
            yield _csv_line((e.signal_type, e.value, "" if e.quality is None else e.quality,
                             e.variant, e.source, e.source_id, " ".join(e.tags), e.added_by,
                             e.added_at.isoformat()))
        elif fmt == "jsonl":
            yield json.dumps({
                "signal_type": e.signal_type, "value": e.value, "quality": e.quality,
                "variant": e.variant, "source": e.source, "source_id": e.source_id,
                "tags": e.tags, "also_from": e.also_from, "added_by": e.added_by,
                "added_at": e.added_at.isoformat(), "entry_id": e.id,
            }, ensure_ascii=False) + "\n"
        elif fmt == "te-file":
            yield f"{formats.TE_NAMES[e.signal_type]} {e.value}\n"
        else:
            yield e.value + "\n"


def export_bank(session: Session, actor: Actor, ref: str | int, out: TextIO,
                fmt: str = "csv", signal_type: str | None = None) -> int:
    """Write the bank to `out`; returns the number of entries written."""
    count = -1 if fmt == "csv" else 0
    for chunk in iter_export(session, actor, ref, fmt, signal_type):
        out.write(chunk)
        count += 1
    return max(count, 0)


class _LineWriter:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text = text
        return len(text)


def _csv_line(values: tuple[object, ...]) -> str:
    sink = _LineWriter()
    csv.writer(sink, lineterminator="\n").writerow(values)
    return sink.text
