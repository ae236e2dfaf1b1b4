"""Bank and entry operations. The CLI and the HTTP routes both call these; each write is audited
in the caller's transaction and appended to the change feed."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from safeguard.audit.service import Actor, record
from safeguard.banks import feed
from safeguard.banks.bulk import bulk_insert
from safeguard.banks.formats import ParsedEntry, parse_tags, resolve_signal_type
from safeguard.banks.models import Bank, BankEntry, BankKind, ChangeOp
from safeguard.config import Settings, get_settings
from safeguard.db.base import MAX_ID, utcnow
from safeguard.errors import ConflictError, InvalidInput, NotFoundError
from safeguard.media.signals import SIGNAL_TYPES, normalize_hash

BANK_NAME = re.compile(r"^\w[\w .:-]{0,127}$")
_LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class BankSummary:
    bank: Bank
    entry_count: int


@dataclass
class AddResult:
    """What an add or import did. `entry_ids` are in input order (merged rows included)."""

    added: int = 0
    merged: int = 0
    entry_ids: list[int] = field(default_factory=list)


# --------------------------------------------------------------------------- banks

def _check_threshold(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 31:
        raise InvalidInput(f"pdq_threshold must be a whole number from 0 to 31, got {value!r}")
    return value


def _check_signal_types(values: Iterable[str]) -> list[str]:
    problems: list[str] = []
    resolved = [resolve_signal_type(v, problems) for v in values]
    if problems:
        raise InvalidInput("; ".join(problems))
    return sorted({r for r in resolved if r})


def _check_kind(kind: str) -> str:
    try:
        return BankKind(kind).value
    except ValueError:
        raise InvalidInput(f"bank kind must be 'positive' or 'negative', got {kind!r}") from None


def create_bank(session: Session, actor: Actor, name: str, *, description: str = "",
                kind: str = BankKind.POSITIVE, pdq_threshold: int | None = None,
                signal_types: Iterable[str] | None = None, enabled: bool = True,
                triage_on_match: bool = False, settings: Settings | None = None) -> Bank:
    name = name.strip()
    if not BANK_NAME.match(name):
        raise InvalidInput("bank name must be 1-128 letters, digits, spaces or _ . : - and "
                           f"start with a letter or digit, got {name!r}")
    threshold = _check_threshold(
        (settings or get_settings()).default_pdq_threshold if pdq_threshold is None
        else pdq_threshold)
    if session.scalar(select(Bank.id).where(Bank.name == name)) is not None:
        raise ConflictError(f"a bank named {name!r} already exists")
    bank = Bank(name=name, description=description, kind=_check_kind(kind),
                pdq_threshold=threshold, enabled=enabled, created_by=str(actor),
                triage_on_match=triage_on_match,
                signal_types=_check_signal_types(signal_types or SIGNAL_TYPES))
    session.add(bank)
    session.flush()
    record(session, actor, "bank.create", "bank", bank.id, name=name, kind=bank.kind,
           pdq_threshold=threshold, enabled=enabled, signal_types=bank.signal_types,
           triage_on_match=triage_on_match)
    return bank


def get_bank(session: Session, ref: str | int) -> Bank:
    """A bank by id or by name."""
    as_id = ref if isinstance(ref, int) else int(ref) if ref.isascii() and ref.isdigit() else 0
    if 1 <= as_id <= MAX_ID:
        bank = session.get(Bank, as_id)
        if bank is not None:
            return bank
    bank = session.scalars(select(Bank).where(Bank.name == str(ref))).first()
    if bank is None:
        raise NotFoundError(f"no bank named {ref!r}")
    return bank


def list_banks(session: Session) -> list[BankSummary]:
    query = select(BankEntry.bank_id, func.count(BankEntry.id)).group_by(BankEntry.bank_id)
    counts = {bank_id: int(count) for bank_id, count in session.execute(query)}
    return [BankSummary(b, counts.get(b.id, 0))
            for b in session.scalars(select(Bank).order_by(Bank.name))]


def count_entries(session: Session, bank: Bank) -> int:
    return int(session.scalar(select(func.count(BankEntry.id))
                              .where(BankEntry.bank_id == bank.id)) or 0)


def update_bank(session: Session, actor: Actor, ref: str | int, *,
                description: str | None = None, enabled: bool | None = None,
                pdq_threshold: int | None = None, kind: str | None = None,
                signal_types: Iterable[str] | None = None,
                triage_on_match: bool | None = None) -> Bank:
    bank = get_bank(session, ref)
    changes: dict[str, Any] = {}
    if triage_on_match is not None and triage_on_match != bank.triage_on_match:
        changes["triage_on_match"] = triage_on_match
    if description is not None and description != bank.description:
        changes["description"] = description
    if enabled is not None and enabled != bank.enabled:
        changes["enabled"] = enabled
    if pdq_threshold is not None and pdq_threshold != bank.pdq_threshold:
        changes["pdq_threshold"] = _check_threshold(pdq_threshold)
    if kind is not None and kind != bank.kind:
        changes["kind"] = _check_kind(kind)
    if signal_types is not None:
        types = _check_signal_types(signal_types)
        if types != bank.signal_types:
            changes["signal_types"] = types
    for key, value in changes.items():
        setattr(bank, key, value)
    if changes:
        session.flush()
        record(session, actor, "bank.update", "bank", bank.id, name=bank.name, **changes)
    return bank


def set_enabled(session: Session, actor: Actor, ref: str | int, enabled: bool) -> Bank:
    return update_bank(session, actor, ref, enabled=enabled)


# --------------------------------------------------------------------------- entries

def add_entries(session: Session, actor: Actor, ref: str | int,
                entries: Sequence[ParsedEntry], *, action: str = "bank.add_entries",
                original_id: int | None = None, **audit_details: Any) -> AddResult:
    """Store entries in one bulk statement; a hash already in the bank (or repeated in
    `entries`) merges its tags and provenance into the existing row. One audit event."""
    bank = get_bank(session, ref)
    _check_allowed_types(bank, entries)
    feed.lock_feed(session)  # before reading, so a concurrent import cannot slip in between
    merged_input = _merge_input(entries)
    existing = _existing(session, bank.id, list(merged_input))
    now, by = utcnow(), str(actor)
    result = AddResult()
    updates: list[dict[str, Any]] = []
    for key, entry in merged_input.items():
        row = existing.get(key)
        if row is None:
            continue
        result.merged += 1
        tags = list(dict.fromkeys([*row["tags"], *entry.tags]))
        also = _merge_provenance(row, entry, by, now)
        if tags != row["tags"] or also != row["also_from"]:
            updates.append({"id": row["id"], "tags": tags, "also_from": also})
    if updates:
        session.execute(update(BankEntry), updates)
    new = [(key, e) for key, e in merged_input.items() if key not in existing]
    ids_by_key = {key: row["id"] for key, row in existing.items()}
    if new:
        first_id = feed.allocate_entry_ids(session, len(new))
        inserted = list(range(first_id, first_id + len(new)))
        params = [{"id": entry_id, "bank_id": bank.id, "signal_type": e.signal_type,
                   "value": e.value, "quality": e.quality, "variant": e.variant,
                   "original_id": original_id, "source": e.source, "source_id": e.source_id,
                   "tags": list(e.tags), "also_from": [], "added_by": by, "added_at": now}
                  for entry_id, (_, e) in zip(inserted, new, strict=True)]
        bulk_insert(session, BankEntry.__table__, params)  # type: ignore[arg-type]
        for (key, _), entry_id in zip(new, inserted, strict=True):
            ids_by_key[key] = entry_id
        feed.record(session, ChangeOp.ADD, [(entry_id, bank.id, e.signal_type, e.value)
                                            for (_, e), entry_id in zip(new, inserted,
                                                                        strict=True)])
        result.added = len(new)
    result.entry_ids = [ids_by_key[(e.signal_type, e.value)] for e in entries]
    record(session, actor, action, "bank", bank.id, bank=bank.name, added=result.added,
           merged=result.merged, rows=len(entries), **audit_details)
    return result


def _check_allowed_types(bank: Bank, entries: Sequence[ParsedEntry]) -> None:
    allowed = set(bank.signal_types or SIGNAL_TYPES)
    bad = [e for e in entries if e.signal_type not in allowed]
    if bad:
        from safeguard.banks.formats import ImportRejected

        raise ImportRejected([(e.line, f"bank {bank.name!r} does not take {e.signal_type} "
                                       f"hashes (it takes {', '.join(sorted(allowed))})")
                              for e in bad], f"entries for bank {bank.name!r}")


def _merge_input(entries: Sequence[ParsedEntry]) -> dict[tuple[str, str], ParsedEntry]:
    merged: dict[tuple[str, str], ParsedEntry] = {}
    for e in entries:
        key = (e.signal_type, e.value)
        prior = merged.get(key)
        if prior is None:
            merged[key] = e
        else:
            tags = tuple(dict.fromkeys([*prior.tags, *e.tags]))
            merged[key] = ParsedEntry(prior.line, prior.signal_type, prior.value, tags,
                                      prior.source or e.source, prior.source_id or e.source_id,
                                      prior.quality if prior.quality is not None else e.quality,
                                      prior.variant or e.variant)
    return merged


def _existing(session: Session, bank_id: int,
              keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    by_type: dict[str, list[str]] = {}
    for signal_type, value in keys:
        by_type.setdefault(signal_type, []).append(value)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for signal_type, values in by_type.items():
        for start in range(0, len(values), _LOOKUP_CHUNK):
            rows = session.execute(
                select(BankEntry.id, BankEntry.value, BankEntry.tags, BankEntry.also_from,
                       BankEntry.source, BankEntry.source_id)
                .where(BankEntry.bank_id == bank_id, BankEntry.signal_type == signal_type,
                       BankEntry.value.in_(values[start:start + _LOOKUP_CHUNK]))
            ).mappings()
            for row in rows:
                found[(signal_type, row["value"])] = dict(row)
    return found


def _merge_provenance(row: dict[str, Any], entry: ParsedEntry, by: str,
                      now: Any) -> list[dict[str, Any]]:
    also = list(row["also_from"] or [])
    if not (entry.source or entry.source_id):
        return also
    known = {(row["source"], row["source_id"])} | {(a["source"], a["source_id"]) for a in also}
    if (entry.source, entry.source_id) not in known:
        also.append({"source": entry.source, "source_id": entry.source_id, "added_by": by,
                     "added_at": now.isoformat()})
    return also


def add_hash(session: Session, actor: Actor, ref: str | int, signal_type: str, value: str, *,
             tags: Iterable[str] | str = (), source: str = "", source_id: str = "",
             quality: int | None = None, variant: str = "",
             original_id: int | None = None) -> BankEntry:
    """Add (or merge) one hash; ValueError-style InvalidInput names what is wrong."""
    problems: list[str] = []
    stype = resolve_signal_type(signal_type, problems)
    normalised = value
    if stype is not None:
        try:
            normalised = normalize_hash(stype, value)
        except ValueError as exc:
            problems.append(str(exc))
    tag_tuple = parse_tags(list(tags) if not isinstance(tags, str) else tags, problems)
    if quality is not None and not 0 <= quality <= 100:
        problems.append(f"quality {quality} is not between 0 and 100")
    if problems:
        raise InvalidInput("; ".join(problems))
    assert stype is not None
    if original_id is not None:
        original = session.get(BankEntry, original_id)
        if original is None or original.bank_id != get_bank(session, ref).id:
            raise NotFoundError(f"no entry {original_id} in bank {ref!r} to link the variant to")
    entry = ParsedEntry(0, stype, normalised, tag_tuple, source.strip(), source_id.strip(),
                        quality, variant.strip())
    result = add_entries(session, actor, ref, [entry], action="bank.add_hash",
                         original_id=original_id, signal_type=stype, value=normalised)
    found = session.get(BankEntry, result.entry_ids[0])
    assert found is not None
    session.refresh(found)
    return found


def get_entry(session: Session, entry_id: int) -> BankEntry:
    entry = session.get(BankEntry, entry_id)
    if entry is None:
        raise NotFoundError(f"no bank entry {entry_id}")
    return entry


def list_entries(session: Session, ref: str | int, *, offset: int = 0, limit: int = 100,
                 signal_type: str | None = None) -> list[BankEntry]:
    bank = get_bank(session, ref)
    query = select(BankEntry).where(BankEntry.bank_id == bank.id)
    if signal_type:
        query = query.where(BankEntry.signal_type == resolve_signal_type(signal_type))
    return list(session.scalars(query.order_by(BankEntry.id).offset(offset).limit(limit)))


def remove_entries(session: Session, actor: Actor, entry_ids: Sequence[int],
                   ref: str | int | None = None) -> int:
    """Delete entries (variants of a removed original stay, unlinked). Unknown ids are an
    error naming them; nothing is removed then."""
    feed.lock_feed(session)
    ids = sorted(set(entry_ids))
    rows = session.execute(select(BankEntry.id, BankEntry.bank_id, BankEntry.signal_type)
                           .where(BankEntry.id.in_(ids))).all()
    bank = get_bank(session, ref) if ref is not None else None
    found = {r.id for r in rows if bank is None or r.bank_id == bank.id}
    missing = [i for i in ids if i not in found]
    if missing:
        where = f" in bank {bank.name!r}" if bank else ""
        raise NotFoundError(f"no bank entries {', '.join(map(str, missing))}{where}")
    session.execute(update(BankEntry).where(BankEntry.original_id.in_(ids))
                    .values(original_id=None))
    session.execute(delete(BankEntry).where(BankEntry.id.in_(ids)))
    feed.record(session, ChangeOp.REMOVE, [(r.id, r.bank_id, r.signal_type, "") for r in rows])
    for bank_id in sorted({r.bank_id for r in rows}):
        record(session, actor, "bank.remove_entries", "bank", bank_id,
               entry_ids=[r.id for r in rows if r.bank_id == bank_id])
    return len(rows)


def remove_entry(session: Session, actor: Actor, entry_id: int,
                 ref: str | int | None = None) -> None:
    remove_entries(session, actor, [entry_id], ref)


def add_file(session: Session, actor: Actor, ref: str | int, data: bytes, *, label: str,
             tags: Iterable[str] = (), source: str = "", source_id: str = "",
             variants: bool = True, settings: Settings | None = None) -> list[BankEntry]:
    """Hash a file the operator holds (in memory) and bank its hashes. With `variants`, the
    PDQ of small crops and rotations is banked too, each linked to the original entry, so
    lightly edited copies still match plain PDQ queries."""
    from safeguard.media.decode import decode_image
    from safeguard.media.errors import UnsupportedMedia
    from safeguard.media.hashers import bank_variants, hash_bytes

    settings = settings or get_settings()
    bank = get_bank(session, ref)
    wanted = [t for t in ("md5", "sha256", "pdq") if t in (bank.signal_types or SIGNAL_TYPES)]
    problems: list[str] = []
    tag_tuple = parse_tags(list(tags), problems)
    if problems:
        raise InvalidInput("; ".join(problems))
    originals = hash_bytes(data, label=label, signal_types=wanted,
                           max_pixels=settings.max_image_pixels,
                           max_bytes=settings.max_upload_bytes)

    def entry(signal_type: str, value: str, quality: int | None, variant: str) -> ParsedEntry:
        return ParsedEntry(0, signal_type, value, tag_tuple, source, source_id, quality, variant)

    first = add_entries(session, actor, bank.id,
                        [entry(r.signal_type, r.value, r.quality, "original") for r in originals],
                        action="bank.add_file", label=label)
    ids = list(first.entry_ids)
    pdq_id = next((i for r, i in zip(originals, ids, strict=True) if r.signal_type == "pdq"),
                  None)
    if variants and pdq_id is not None:
        try:
            rgb = decode_image(data, label=label, max_pixels=settings.max_image_pixels,
                               max_bytes=settings.max_upload_bytes)
        except UnsupportedMedia:
            rgb = None
        if rgb is not None:
            extra = [entry("pdq", r.value, r.quality, r.variant)
                     for r in bank_variants(rgb) if r.variant != "original"]
            more = add_entries(session, actor, bank.id, extra, action="bank.add_file_variants",
                               original_id=pdq_id, label=label)
            ids += more.entry_ids
    found = _entries_by_ids(session, ids)
    return [found[i] for i in dict.fromkeys(ids)]


def _entries_by_ids(session: Session, ids: list[int]) -> dict[int, BankEntry]:
    return {e.id: e for e in session.scalars(select(BankEntry).where(BankEntry.id.in_(ids)))}
