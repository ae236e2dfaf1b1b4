"""Match hashes and files against the banks.

PDQ goes through the in-memory index (searched once at the widest enabled threshold, then
each bank's own threshold applies); MD5/SHA-256 (and vPDQ, compared whole) are exact SQL
lookups. A hit in an enabled *negative* bank suppresses the positive hits of the same query
(or file). Every match is logged; unsuppressed positive ones queue the bank's webhooks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeguard.audit.service import Actor
from safeguard.banks.models import Bank, BankEntry, BankKind
from safeguard.config import Settings, get_settings
from safeguard.db.base import utcnow
from safeguard.errors import InvalidInput
from safeguard.matching import matchlog, triage_action, webhooks
from safeguard.matching.index import hex_to_array
from safeguard.matching.index_manager import IndexManager
from safeguard.media.result import HashResult
from safeguard.media.signals import SIGNAL_TYPES, normalize_hash

_SQL_CHUNK = 500


@dataclass(frozen=True)
class HashQuery:
    signal_type: str
    value: str
    quality: int | None = None
    variant: str = "original"


@dataclass(frozen=True)
class Suppression:
    bank_id: int
    bank_name: str
    entry_id: int
    distance: int
    reason: str


@dataclass
class Match:
    bank_id: int
    bank_name: str
    bank_kind: str
    entry_id: int
    signal_type: str
    value: str
    distance: int
    entry_variant: str
    query_variant: str
    source: str
    source_id: str
    tags: list[str]
    also_from: list[dict[str, Any]]
    added_by: str
    added_at: datetime
    query: HashQuery
    suppressed: bool = False
    suppressed_by: Suppression | None = None

    @property
    def provenance(self) -> dict[str, Any]:
        return {"source": self.source, "source_id": self.source_id, "tags": self.tags,
                "added_by": self.added_by, "added_at": self.added_at.isoformat(),
                "also_from": self.also_from}


@dataclass
class QueryResult:
    """The outcome for one hash, or for one file (all its hashes and variants)."""

    queries: list[HashQuery]
    matches: list[Match] = field(default_factory=list)
    low_quality: bool = False
    label: str = ""
    notes: list[str] = field(default_factory=list)  # e.g. why a video got no vPDQ

    @property
    def matched(self) -> bool:
        return any(m.bank_kind == BankKind.POSITIVE and not m.suppressed for m in self.matches)


# --------------------------------------------------------------------------- entry points

def match_hashes(session: Session, index_mgr: IndexManager,
                 hashes: Sequence[tuple[str, str] | HashQuery], actor: Actor, *,
                 source: str = "api", settings: Settings | None = None,
                 label: str = "") -> list[QueryResult]:
    """One result per given hash, in order. Bad hashes reject the whole batch (every bad one
    is named); more than `max_batch_hashes` is refused."""
    settings = settings or get_settings()
    if len(hashes) > settings.max_batch_hashes:
        raise InvalidInput(f"too many hashes in one request: {len(hashes)} (the limit is "
                           f"{settings.max_batch_hashes}; split the batch)")
    queries = _normalise(hashes)
    return match_groups(session, index_mgr, [[q] for q in queries], actor, source=source,
                        settings=settings, labels=[label] * len(queries))


def match_file(session: Session, index_mgr: IndexManager, data: bytes, actor: Actor, *,
               label: str, source: str = "file", settings: Settings | None = None,
               variants: bool = True) -> QueryResult:
    """Hash `data` in memory (never written anywhere) with query-side variants and match.
    MediaError subclasses name the file when it cannot be decoded."""
    settings = settings or get_settings()
    results = hash_file_bytes(data, label=label, max_pixels=settings.max_image_pixels,
                              max_bytes=settings.max_upload_bytes, variants=variants)
    from safeguard.media.hashers import missing_hash_note

    result = match_hash_results(session, index_mgr, results, actor, label=label, source=source,
                                settings=settings)
    note = missing_hash_note(data, [r.signal_type for r in results])
    if note:
        result.notes.append(note)
    return result


def match_hash_results(session: Session, index_mgr: IndexManager,
                       results: Sequence[HashResult], actor: Actor, *, label: str,
                       source: str, settings: Settings | None = None) -> QueryResult:
    """Match the hashes of one file (as a hasher produced them) as one group."""
    queries = [HashQuery(r.signal_type, r.value, r.quality, r.variant) for r in results]
    return match_groups(session, index_mgr, [queries], actor, source=source,
                        settings=settings, labels=[label])[0]


def hash_file_bytes(data: bytes, *, label: str, max_pixels: int, max_bytes: int,
                    variants: bool = True) -> list[HashResult]:
    """Exact hashes of any file, plus PDQ (with query variants) for an image or vPDQ for a
    video when the vpdq package is installed."""
    from safeguard.media.decode import decode_image
    from safeguard.media.errors import UnsupportedMedia
    from safeguard.media.hashers import hash_bytes, pdq_from_pixels, query_variants

    results = hash_bytes(data, label=label, signal_types=("md5", "sha256"), max_bytes=max_bytes)
    try:
        rgb = decode_image(data, label=label, max_pixels=max_pixels, max_bytes=max_bytes)
    except UnsupportedMedia:
        try:
            return results + [r for r in hash_bytes(data, label=label, signal_types=("pdq",),
                                                    max_bytes=max_bytes, max_pixels=max_pixels)
                              if r.signal_type != "pdq"]
        except UnsupportedMedia:
            return results  # not media: exact hashes still match
    if variants:
        return results + query_variants(rgb)
    value, quality = pdq_from_pixels(rgb)
    return results + [HashResult("pdq", value, quality)]


# --------------------------------------------------------------------------- core

def _normalise(hashes: Sequence[tuple[str, str] | HashQuery]) -> list[HashQuery]:
    problems: list[str] = []
    out: list[HashQuery] = []
    for number, item in enumerate(hashes, start=1):
        query = item if isinstance(item, HashQuery) else HashQuery(*item)
        if query.signal_type not in SIGNAL_TYPES:
            problems.append(f"hash {number}: unknown signal type {query.signal_type!r} "
                            f"(use one of {', '.join(SIGNAL_TYPES)})")
            continue
        try:
            value = normalize_hash(query.signal_type, query.value)
        except ValueError as exc:
            problems.append(f"hash {number}: {exc}")
            continue
        if query.quality is not None and not 0 <= query.quality <= 100:
            problems.append(f"hash {number}: quality {query.quality} is not between 0 and 100")
            continue
        out.append(HashQuery(query.signal_type, value, query.quality, query.variant))
    if problems:
        raise InvalidInput("; ".join(problems))
    return out


def match_groups(session: Session, index_mgr: IndexManager,
                 groups: Sequence[Sequence[HashQuery]], actor: Actor, *, source: str,
                 settings: Settings | None = None,
                 labels: Sequence[str] | None = None) -> list[QueryResult]:
    """Match already-normalised queries; a group is one hash or one file. Logs and queues."""
    if source not in matchlog.SOURCES:
        raise InvalidInput(f"source must be one of {', '.join(matchlog.SOURCES)}")
    settings = settings or get_settings()
    labels = labels or [""] * len(groups)
    banks = {b.id: b for b in session.scalars(select(Bank).where(Bank.enabled.is_(True)))}
    flat = [(g, q) for g, group in enumerate(groups) for q in group]
    hits = _pdq_hits(session, index_mgr, banks, flat) + _exact_hits(session, banks, flat)
    results = [QueryResult(list(group), label=labels[g]) for g, group in enumerate(groups)]
    best: dict[tuple[int, int], Match] = {}
    for g, _query, match in hits:
        # Several variants of one file can hit the same entry: keep the closest.
        key = (g, match.entry_id)
        if key not in best or match.distance < best[key].distance:
            best[key] = match
    for (g, _), match in best.items():
        results[g].matches.append(match)
    for result in results:
        result.low_quality = any(q.signal_type == "pdq" and q.quality is not None
                                 and q.quality < settings.min_pdq_quality
                                 for q in result.queries)
        result.matches.sort(key=lambda m: (m.bank_kind != BankKind.POSITIVE, m.distance,
                                           m.bank_name, m.entry_id))
        _suppress(result)
    _log_and_queue(session, actor, source, results)
    triage_action.open_items(session, actor, results,
                             {b.id for b in banks.values() if b.triage_on_match})
    return results


def _pdq_hits(session: Session, index_mgr: IndexManager, banks: dict[int, Bank],
              flat: list[tuple[int, HashQuery]]) -> list[tuple[int, HashQuery, Match]]:
    pdq_banks = [b for b in banks.values() if "pdq" in (b.signal_types or SIGNAL_TYPES)]
    pdq = [(g, q) for g, q in flat if q.signal_type == "pdq"]
    if not pdq or not pdq_banks:
        return []
    radius = max(b.pdq_threshold for b in pdq_banks)
    found = index_mgr.search(hex_to_array([q.value for _, q in pdq]), radius)
    entry_ids = sorted({entry_id for row in found for entry_id, _ in row})
    entries = _entries_by_id(session, entry_ids)
    hits = []
    for (g, query), row in zip(pdq, found, strict=True):
        for entry_id, distance in row:
            entry = entries.get(entry_id)
            bank = banks.get(entry.bank_id) if entry is not None else None
            # Entries gone from the database (removed, or never committed) are skipped.
            if entry is None or bank is None or distance > bank.pdq_threshold:
                continue
            if "pdq" not in (bank.signal_types or SIGNAL_TYPES):
                continue
            hits.append((g, query, _match(bank, entry, distance, query)))
    return hits


def _exact_hits(session: Session, banks: dict[int, Bank],
                flat: list[tuple[int, HashQuery]]) -> list[tuple[int, HashQuery, Match]]:
    hits = []
    for signal_type in ("md5", "sha256", "vpdq"):
        wanted = [(g, q) for g, q in flat if q.signal_type == signal_type]
        bank_ids = [b.id for b in banks.values()
                    if signal_type in (b.signal_types or SIGNAL_TYPES)]
        if not wanted or not bank_ids:
            continue
        values = sorted({q.value for _, q in wanted})
        by_value: dict[str, list[BankEntry]] = {}
        for start in range(0, len(values), _SQL_CHUNK):
            for entry in session.scalars(
                select(BankEntry).where(BankEntry.bank_id.in_(bank_ids),
                                        BankEntry.signal_type == signal_type,
                                        BankEntry.value.in_(values[start:start + _SQL_CHUNK]))):
                by_value.setdefault(entry.value, []).append(entry)
        for g, query in wanted:
            for entry in by_value.get(query.value, []):
                hits.append((g, query, _match(banks[entry.bank_id], entry, 0, query)))
    return hits


def _entries_by_id(session: Session, ids: list[int]) -> dict[int, BankEntry]:
    out: dict[int, BankEntry] = {}
    for start in range(0, len(ids), _SQL_CHUNK):
        for entry in session.scalars(select(BankEntry)
                                     .where(BankEntry.id.in_(ids[start:start + _SQL_CHUNK]))):
            out[entry.id] = entry
    return out


def _match(bank: Bank, entry: BankEntry, distance: int, query: HashQuery) -> Match:
    return Match(bank.id, bank.name, bank.kind, entry.id, entry.signal_type, entry.value,
                 distance, entry.variant, query.variant, entry.source, entry.source_id,
                 list(entry.tags), list(entry.also_from), entry.added_by, entry.added_at,
                 query)


def _suppress(result: QueryResult) -> None:
    negatives = [m for m in result.matches if m.bank_kind == BankKind.NEGATIVE]
    if not negatives:
        return
    best = min(negatives, key=lambda m: m.distance)
    why = (f"also matches known false positive entry {best.entry_id} in negative bank "
           f"{best.bank_name!r} at distance {best.distance}")
    for match in result.matches:
        if match.bank_kind == BankKind.POSITIVE:
            match.suppressed = True
            match.suppressed_by = Suppression(best.bank_id, best.bank_name, best.entry_id,
                                              best.distance, why)


def _log_and_queue(session: Session, actor: Actor, source: str,
                   results: list[QueryResult]) -> None:
    now = utcnow()
    rows = []
    for result in results:
        for match in result.matches:
            query = match.query
            rows.append({
                "at": now, "actor": str(actor), "source": source, "label": result.label[:512],
                "query_signal_type": query.signal_type, "query_value": query.value,
                "query_variant": query.variant, "query_quality": query.quality,
                "entry_id": match.entry_id, "entry_variant": match.entry_variant,
                "bank_id": match.bank_id, "bank_name": match.bank_name,
                "bank_kind": match.bank_kind, "distance": match.distance,
                "suppressed": match.suppressed,
                "suppressed_reason": match.suppressed_by.reason if match.suppressed_by else "",
                "low_quality": result.low_quality,
            })
    matchlog.write(session, rows)
    webhooks.enqueue_matches(session, results, source=source, actor=str(actor), at=now)

