"""Exact Hamming range search over 256-bit PDQ hashes, with live additions and removals.

Design (docs/matching-index.md): immutable segments searched by multi-index hashing, a small
mutable delta searched by a linear scan, tombstones for removals, and size-tiered background
merges. Readers take no lock: they work on an immutable snapshot of the segment list, which
writers replace atomically, so a search never waits for an import or a merge.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from safeguard.matching._index_kernels import brute_search
from safeguard.matching._index_merge import plan_merge
from safeguard.matching._index_segment import HASH_WORDS, Hits, Segment, allocate
from safeguard.matching._index_storage import IndexFileError, read_index, write_index

__all__ = ["IndexFileError", "PDQIndex", "hex_to_array"]

HASH_BYTES = 32
_log = logging.getLogger(__name__)
# The delta is scanned linearly by every search (~1 ns a row), so it stays small.
DEFAULT_DELTA_CAPACITY = 8192
# A batch smaller than this per thread is not worth the hand-off to a worker thread.
_MIN_QUERIES_PER_THREAD = 16

if sys.byteorder != "little":  # hashes are viewed as little-endian uint64 words
    raise ImportError("safeguard.matching.index needs a little-endian machine")


@dataclass(frozen=True)
class _Delta:
    """Append-only buffer; rows at or past the snapshot's `count` are invisible to readers."""

    ids: np.ndarray
    hashes: np.ndarray
    alive: np.ndarray

    @classmethod
    def empty(cls, capacity: int) -> _Delta:
        return cls(
            allocate((capacity,), np.int64),
            allocate((capacity, HASH_WORDS), np.uint64),
            allocate((capacity,), np.uint8),
        )

    @property
    def capacity(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class _Snapshot:
    segments: tuple[Segment, ...]
    delta: _Delta
    count: int  # rows of the delta readers may see


class PDQIndex:
    """Exact Hamming range search over 256-bit PDQ hashes for radius <= 31."""

    MAX_RADIUS = 31

    def __init__(
        self,
        *,
        threads: int | None = None,
        auto_compact: bool = True,
        delta_capacity: int = DEFAULT_DELTA_CAPACITY,
    ) -> None:
        """`threads` split large query batches (default: CPU count); `auto_compact` merges
        segments in a background thread as they accumulate."""
        if delta_capacity < 1:
            raise ValueError("delta_capacity must be at least 1")
        self._threads = max(1, threads if threads is not None else (os.cpu_count() or 1))
        self._auto_compact = auto_compact
        self._write_lock = threading.RLock()
        self._merge_lock = threading.Lock()
        self._merger: threading.Thread | None = None
        self._merge_error: BaseException | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._live = 0
        self._snapshot = _Snapshot((), _Delta.empty(delta_capacity), 0)

    # ----------------------------------------------------------------- writes

    def add(self, ids: np.ndarray, hashes: np.ndarray) -> None:
        """Add or replace (id, hash) pairs; searchable as soon as this returns.

        Within one call a repeated id keeps its last hash.
        """
        ids = _check_ids(ids)
        words = _check_hashes(hashes, "hashes")
        if len(ids) != len(words):
            raise ValueError(f"{len(ids)} ids but {len(words)} hashes")
        if len(ids) == 0:
            return
        ids, words = _keep_last(ids, words)
        with self._write_lock:
            killed = self._kill(ids)
            snapshot = self._snapshot
            if len(ids) >= snapshot.delta.capacity:
                # A bulk import becomes its own segment rather than flooding the delta.
                segment = Segment.build(ids, words)
                self._snapshot = _Snapshot(
                    snapshot.segments + (segment,), snapshot.delta, snapshot.count
                )
            else:
                self._append_to_delta(ids, words)
            self._live += len(ids) - killed
        self._schedule_merge()

    def remove(self, ids: np.ndarray) -> None:
        """Tombstone the given ids; unknown ids are ignored."""
        ids = _check_ids(ids)
        if len(ids) == 0:
            return
        with self._write_lock:
            self._live -= self._kill(np.unique(ids))
        self._schedule_merge()

    def _kill(self, ids: np.ndarray) -> int:
        """Mark the live rows of `ids` dead everywhere; caller holds the write lock."""
        snapshot = self._snapshot
        killed = 0
        for segment in snapshot.segments:
            found, rows = segment.locate(ids)
            if found.any():
                segment.alive[rows[found]] = 0
                killed += int(found.sum())
        if snapshot.count:
            delta_ids = snapshot.delta.ids[: snapshot.count]
            hit = np.isin(delta_ids, ids) & (snapshot.delta.alive[: snapshot.count] != 0)
            if hit.any():
                snapshot.delta.alive[: snapshot.count][hit] = 0
                killed += int(hit.sum())
        return killed

    def _append_to_delta(self, ids: np.ndarray, words: np.ndarray) -> None:
        snapshot = self._snapshot
        if snapshot.count + len(ids) > snapshot.delta.capacity:
            snapshot = self._freeze_delta()
        delta, start, stop = snapshot.delta, snapshot.count, snapshot.count + len(ids)
        # Written past `count` first, published by the snapshot swap below.
        delta.ids[start:stop] = ids
        delta.hashes[start:stop] = words
        delta.alive[start:stop] = 1
        self._snapshot = _Snapshot(snapshot.segments, delta, stop)

    def _freeze_delta(self) -> _Snapshot:
        """Turn the live delta rows into a segment and start an empty delta (write lock held)."""
        snapshot = self._snapshot
        segments = snapshot.segments
        live = np.flatnonzero(snapshot.delta.alive[: snapshot.count])
        if len(live):
            frozen = Segment.build(snapshot.delta.ids[live], snapshot.delta.hashes[live])
            segments = segments + (frozen,)
        self._snapshot = _Snapshot(segments, _Delta.empty(snapshot.delta.capacity), 0)
        return self._snapshot

    # ----------------------------------------------------------------- merges

    def _schedule_merge(self) -> None:
        if not self._auto_compact or plan_merge(self._snapshot.segments) is None:
            return
        with self._write_lock:
            if self._merger is not None and self._merger.is_alive():
                return
            merger = threading.Thread(
                target=self._merge_in_background, name="pdq-index-merge", daemon=True
            )
            merger.start()
            self._merger = merger  # only a started thread is visible to compact()

    def _merge_in_background(self) -> None:
        try:
            while True:
                # Plan under the merge lock: a compact() may have merged the segments meanwhile.
                with self._merge_lock:
                    plan = plan_merge(self._snapshot.segments)
                    if plan is None:
                        return
                    self._merge(plan)
        except BaseException as error:  # a daemon thread cannot raise: log, and compact() raises
            if sys.is_finalizing():
                return  # the interpreter is exiting; an unfinished merge loses nothing
            _log.exception("background merge of the PDQ index failed")
            self._merge_error = error

    def _merge(self, sources: Sequence[Segment]) -> None:
        """Replace `sources` by one segment of their live rows; searches go on meanwhile."""
        with self._write_lock:
            kept = [np.flatnonzero(segment.alive) for segment in sources]
        ids = np.concatenate(
            [segment.ids[rows] for segment, rows in zip(sources, kept, strict=True)]
        )
        words = np.concatenate(
            [segment.hashes[rows] for segment, rows in zip(sources, kept, strict=True)]
        )
        merged = Segment.build(ids, words)
        del ids, words
        with self._write_lock:
            # Rows removed while we were building are removed from the merged segment too.
            removed = np.concatenate(
                [
                    segment.ids[rows[segment.alive[rows] == 0]]
                    for segment, rows in zip(sources, kept, strict=True)
                ]
            )
            found, rows = merged.locate(removed)
            merged.alive[rows[found]] = 0
            snapshot = self._snapshot
            remaining = tuple(s for s in snapshot.segments if all(s is not x for x in sources))
            if len(remaining) + len(sources) != len(snapshot.segments):
                raise RuntimeError("merge sources vanished: merges must hold the merge lock")
            added = (merged,) if len(merged) else ()
            self._snapshot = _Snapshot(remaining + added, snapshot.delta, snapshot.count)

    def compact(self) -> None:
        """Merge everything (delta included) into one segment; searches go on meanwhile."""
        merger = self._merger
        if merger is not None:
            merger.join()
        if self._merge_error is not None:
            error, self._merge_error = self._merge_error, None
            raise RuntimeError("a background merge failed") from error
        with self._merge_lock:
            with self._write_lock:
                segments = self._freeze_delta().segments
            dead = any(segment.live_count < len(segment) for segment in segments)
            if len(segments) > 1 or dead:
                self._merge(segments)

    # ----------------------------------------------------------------- reads

    def search(self, queries: np.ndarray, radius: int = 31) -> list[list[tuple[int, int]]]:
        """For each query, the (id, distance) pairs within `radius`, nearest first (ties by id)."""
        if isinstance(radius, bool) or not isinstance(radius, int | np.integer):
            raise ValueError(f"radius must be an integer, got {type(radius).__name__}")
        if not 0 <= radius <= self.MAX_RADIUS:
            raise ValueError(f"radius must be between 0 and {self.MAX_RADIUS}, got {radius}")
        words = _check_hashes(queries, "queries")
        snapshot = self._snapshot
        count = len(words)
        chunks = min(self._threads, count // _MIN_QUERIES_PER_THREAD)
        if chunks <= 1:
            query_index, ids, distances = _search_snapshot(snapshot, words, int(radius))
        else:
            bounds = np.linspace(0, count, chunks + 1).astype(np.int64)
            pool = self._thread_pool()
            futures = [
                pool.submit(_search_snapshot, snapshot, words[start:stop], int(radius))
                for start, stop in zip(bounds[:-1], bounds[1:], strict=True)
            ]
            parts = [future.result() for future in futures]
            query_index = np.concatenate(
                [part[0] + start for part, start in zip(parts, bounds[:-1], strict=True)]
            )
            ids = np.concatenate([part[1] for part in parts])
            distances = np.concatenate([part[2] for part in parts])
        return _group_by_query(count, query_index, ids, distances)

    def _thread_pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            with self._write_lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self._threads, "pdq-index-search")
        return self._pool

    def __len__(self) -> int:
        return self._live

    def __contains__(self, id: object) -> bool:
        if isinstance(id, bool) or not isinstance(id, int | np.integer):
            return False
        if not np.iinfo(np.int64).min <= int(id) <= np.iinfo(np.int64).max:
            return False
        needle = np.array([id], dtype=np.int64)
        snapshot = self._snapshot
        if any(segment.locate(needle)[0][0] for segment in snapshot.segments):
            return True
        delta = snapshot.delta
        return bool(
            np.any((delta.ids[: snapshot.count] == id) & (delta.alive[: snapshot.count] != 0))
        )

    def memory_bytes(self) -> int:
        """Bytes held by the index's arrays (tables, hashes, ids, tombstones, delta)."""
        snapshot = self._snapshot
        delta = snapshot.delta
        return sum(segment.nbytes() for segment in snapshot.segments) + (
            delta.ids.nbytes + delta.hashes.nbytes + delta.alive.nbytes
        )

    # ----------------------------------------------------------------- persistence

    def save(self, path: Path) -> None:
        """Write the live (id, hash) pairs atomically (temporary file + os.replace)."""
        with self._write_lock:
            snapshot = self._snapshot
            parts = [
                (segment.ids, segment.hashes, segment.alive.copy()) for segment in snapshot.segments
            ]
            delta = snapshot.delta
            parts.append(
                (
                    delta.ids[: snapshot.count].copy(),
                    delta.hashes[: snapshot.count].copy(),
                    delta.alive[: snapshot.count].copy(),
                )
            )
            live = self._live
        write_index(Path(path), parts, live)

    @classmethod
    def load(cls, path: Path) -> PDQIndex:
        """Read a file written by `save`; IndexFileError (a ValueError) if it is damaged."""
        ids, words = read_index(Path(path))
        index = cls()
        if len(ids):
            try:
                segment = Segment.build(ids, words)
            except ValueError as error:
                raise IndexFileError(f"{path}: {error} (file is corrupt)") from error
            del ids, words
            index._snapshot = _Snapshot((segment,), index._snapshot.delta, 0)
            index._live = len(segment)
        return index


def _search_snapshot(snapshot: _Snapshot, words: np.ndarray, radius: int) -> Hits:
    """(query index, id, distance) over all segments and the visible part of the delta,
    sorted by query, distance, id.

    No id appears twice: a replacement tombstones the old row before the snapshot holding the
    new row is published, and a merge swaps its sources out in the same snapshot.
    """
    parts: list[Hits] = []
    for segment in snapshot.segments:
        query_index, rows, distances = segment.search(words, radius)
        if len(rows):
            parts.append((query_index, segment.ids[rows], distances))
    if snapshot.count:
        delta = snapshot.delta
        query_index, rows, distances = brute_search(
            words, delta.hashes, delta.alive, snapshot.count, radius
        )
        if len(rows):
            parts.append((query_index, delta.ids[rows], distances))
    if not parts:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    query_index = np.concatenate([part[0] for part in parts]).astype(np.int64)
    ids = np.concatenate([part[1] for part in parts])
    distances = np.concatenate([part[2] for part in parts])
    # Distances are <= 31, so (query, distance) packs into one sort key.
    order = np.lexsort((ids, query_index * 64 + distances))
    return query_index[order], ids[order], distances[order]


def _group_by_query(
    count: int, query_index: np.ndarray, ids: np.ndarray, distances: np.ndarray
) -> list[list[tuple[int, int]]]:
    """Split hits sorted by query into one list per query."""
    if len(ids) == 0:
        return [[] for _ in range(count)]
    bounds = np.searchsorted(query_index, np.arange(count + 1))
    id_list, distance_list = ids.tolist(), distances.tolist()
    return [
        list(zip(id_list[start:stop], distance_list[start:stop], strict=True))
        for start, stop in zip(bounds[:-1], bounds[1:], strict=True)
    ]


def _keep_last(ids: np.ndarray, words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    unique, last_from_end = np.unique(ids[::-1], return_index=True)
    if len(unique) == len(ids):
        return ids, words
    keep = np.sort(len(ids) - 1 - last_from_end)
    return ids[keep], words[keep]


def _check_ids(ids: np.ndarray) -> np.ndarray:
    if not isinstance(ids, np.ndarray):
        raise ValueError(f"ids must be a numpy array of int64, got {type(ids).__name__}")
    if ids.ndim != 1:
        raise ValueError(f"ids must be one-dimensional, got shape {ids.shape}")
    if ids.dtype.kind not in "iu":
        raise ValueError(f"ids must be integers (int64), got dtype {ids.dtype}")
    if ids.dtype.kind == "u" and len(ids) and ids.max() > np.iinfo(np.int64).max:
        raise ValueError("ids must fit in int64")
    return np.ascontiguousarray(ids, dtype=np.int64)


def _check_hashes(hashes: np.ndarray, name: str) -> np.ndarray:
    """Validate (n, 32) uint8 hashes and view them as (n, 4) uint64 words."""
    if not isinstance(hashes, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(hashes).__name__}")
    if hashes.dtype != np.uint8:
        raise ValueError(f"{name} must have dtype uint8 (use hex_to_array), got {hashes.dtype}")
    if hashes.ndim != 2 or hashes.shape[1] != HASH_BYTES:
        raise ValueError(f"{name} must have shape (n, {HASH_BYTES}), got {hashes.shape}")
    return np.ascontiguousarray(hashes).view(np.uint64)


_HEX_VALUES = np.full(256, 255, dtype=np.uint8)
for _digit, _character in enumerate("0123456789abcdef"):
    _HEX_VALUES[ord(_character)] = _digit
    _HEX_VALUES[ord(_character.upper())] = _digit


def hex_to_array(hexes: Sequence[str]) -> np.ndarray:
    """64-hex-digit PDQ strings to (n, 32) uint8, bytes.fromhex order; ValueError names the row."""
    if isinstance(hexes, str | bytes):
        raise ValueError("hex_to_array expects a sequence of hex strings, not one string")
    for row, value in enumerate(hexes):
        if not isinstance(value, str) or len(value) != 2 * HASH_BYTES:
            shown = value if isinstance(value, str) else type(value).__name__
            raise ValueError(f"row {row}: expected 64 hex digits, got {shown!r}")
    if len(hexes) == 0:
        return np.empty((0, HASH_BYTES), dtype=np.uint8)
    try:
        text = "".join(hexes).encode("ascii")
    except UnicodeEncodeError as error:
        row = error.start // (2 * HASH_BYTES)
        raise ValueError(f"row {row}: not a hex string: {hexes[row]!r}") from None
    digits = _HEX_VALUES[np.frombuffer(text, dtype=np.uint8).reshape(-1, 2 * HASH_BYTES)]
    bad = np.flatnonzero((digits == 255).any(axis=1))
    if len(bad):
        raise ValueError(f"row {bad[0]}: not a hex string: {hexes[bad[0]]!r}")
    return (digits[:, 0::2] << 4) | digits[:, 1::2]
