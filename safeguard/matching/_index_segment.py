"""Immutable segments of a `PDQIndex`: rows sorted by id, plus multi-index-hash tables if large.

A segment never changes after it is built except for its `alive` flags (tombstones), which the
index flips in place under its write lock; a byte store is atomic, so readers need no lock.
"""

from __future__ import annotations

import functools
import math
import mmap
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from safeguard.matching import _index_kernels as kernels

HASH_BITS = 256
HASH_WORDS = 4
# Below this many rows a linear popcount scan (~1 ns a row) beats the fixed cost of probing tables.
BRUTE_FORCE_MAX_ROWS = 16_384
# 2**23 buckets x 4 B x 11 tables = 370 MB of offsets at 10 M rows; 2**24 would need 670 MB.
MAX_SUBSTRING_BITS = 23
MIN_SUBSTRING_BITS = 10
_MIN_AUTO_BITS = 16
MAX_TABLE_RADIUS = 3

_HUGE_PAGE_BYTES = 2 << 20
# Smaller segments build in milliseconds; threads would only add start-up cost.
_THREADED_BUILD_MIN_ROWS = 1 << 18

Hits = tuple[np.ndarray, np.ndarray, np.ndarray]


def allocate(shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
    """Zeroed array in its own anonymous mapping, so dropping a segment unmaps it.

    Arrays from malloc can stay in the heap after they are freed (glibc raises its mmap
    threshold as big blocks come and go), which is how repeated index reloads leak in other
    deployments; an explicit mapping goes back to the kernel as soon as the last view dies.
    """
    nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    if nbytes == 0:
        return np.zeros(shape, dtype=dtype)
    buffer = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    if nbytes >= _HUGE_PAGE_BYTES and hasattr(mmap, "MADV_HUGEPAGE"):
        # Searches touch random cache lines all over the tables; with 4 KiB pages nearly each
        # one is also a TLB miss. Transparent huge pages (2 MiB) remove most of those.
        buffer.madvise(mmap.MADV_HUGEPAGE)
    return np.frombuffer(buffer, dtype=dtype).reshape(shape)


def substring_bits_for(rows: int) -> int:
    """About half a row per bucket.

    Fewer buckets mean more candidates to verify, more buckets more tables probed at radius 2;
    measured on random banks (docs/matching-index.md), log2(rows) + 1 was fastest from 100 k
    to 10 M rows. The floor keeps small segments' probing cheap, the cap bounds the offsets.
    """
    return max(_MIN_AUTO_BITS, min(MAX_SUBSTRING_BITS, round(math.log2(max(rows, 2))) + 1))


@functools.lru_cache(maxsize=1024)
def table_radii(tables: int, radius: int) -> np.ndarray:
    """Norouzi et al.'s split of `radius` over the tables (-1 means: skip the table).

    With r = radius // tables and a = radius - tables * r, a hash within `radius` of the query
    has a substring within r in one of the first a + 1 tables, or within r - 1 in another one:
    otherwise its distance would be at least (a+1)(r+1) + (tables-a-1) r = radius + 1.
    """
    per_table, remainder = divmod(radius, tables)
    radii = np.full(tables, per_table - 1, dtype=np.int64)
    radii[: remainder + 1] = per_table
    radii.flags.writeable = False  # shared through the cache
    return radii


def _substring_masks(tables: int, width: int) -> np.ndarray:
    masks = np.zeros((tables, HASH_WORDS), dtype=np.uint64)
    for table in range(tables):
        for bit in range(table * width, (table + 1) * width):
            masks[table, bit // 64] |= np.uint64(1) << np.uint64(bit % 64)
    return masks


def _build_tables_in_threads(
    hashes: np.ndarray, width: int, offsets: np.ndarray, rows: np.ndarray
) -> None:
    """Tables are independent, so each thread sorts a share of them (the kernel drops the GIL)."""
    tables = offsets.shape[0]
    if len(hashes) < _THREADED_BUILD_MIN_ROWS:
        kernels.build_tables(hashes, width, 0, offsets, rows)
        return
    workers = max(1, min(tables, os.cpu_count() or 1))
    bounds = np.linspace(0, tables, workers + 1).astype(int)
    with ThreadPoolExecutor(workers, "pdq-index-build") as pool:
        futures = [
            pool.submit(
                kernels.build_tables, hashes, width, start, offsets[start:stop], rows[start:stop]
            )
            for start, stop in zip(bounds[:-1], bounds[1:], strict=True)
        ]
        for future in futures:
            future.result()


@dataclass(frozen=True, eq=False)
class Segment:
    ids: np.ndarray  # int64, sorted, unique
    hashes: np.ndarray  # uint64 (n, 4)
    alive: np.ndarray  # uint8 (n,), flipped to 0 by removals
    width: int = 0  # substring bits; 0 means "no tables, scan"
    offsets: np.ndarray | None = None  # uint32 (tables, 2**width + 1)
    rows: np.ndarray | None = None  # uint32 (tables, n)
    flips: np.ndarray | None = None  # uint32 probe masks, by weight
    substring_masks: np.ndarray | None = None  # uint64 (tables, 4)

    @classmethod
    def build(cls, ids: np.ndarray, hashes: np.ndarray, width: int | None = None) -> Segment:
        """`ids` unique int64, `hashes` uint64 (n, 4) in the same order.

        `width` (substring bits) is chosen from the row count unless given (tests force it).
        """
        count = len(ids)
        sorted_ids = allocate((count,), np.int64)
        sorted_hashes = allocate((count, HASH_WORDS), np.uint64)
        if count < 2 or bool(np.all(ids[1:] > ids[:-1])):
            # Bulk imports and saved files arrive sorted: skip the permutation and its memory.
            sorted_ids[:] = ids
            sorted_hashes[:] = hashes
        else:
            order = np.argsort(ids, kind="stable")
            sorted_ids[:] = ids[order]
            np.take(hashes, order, axis=0, out=sorted_hashes)
            del order
        if count > 1 and np.any(sorted_ids[1:] == sorted_ids[:-1]):
            raise ValueError("duplicate ids in one segment")
        alive = allocate((count,), np.uint8)
        alive[:] = 1
        if width is None:
            if count <= BRUTE_FORCE_MAX_ROWS:
                return cls(sorted_ids, sorted_hashes, alive)
            width = substring_bits_for(count)
        if not MIN_SUBSTRING_BITS <= width <= MAX_SUBSTRING_BITS:
            raise ValueError(f"substring width {width} is outside [10, 23]")
        tables = HASH_BITS // width
        offsets = allocate((tables, (1 << width) + 1), np.uint32)
        rows = allocate((tables, count), np.uint32)
        _build_tables_in_threads(sorted_hashes, width, offsets, rows)
        return cls(
            sorted_ids,
            sorted_hashes,
            alive,
            width=width,
            offsets=offsets,
            rows=rows,
            flips=kernels.flip_masks(width, MAX_TABLE_RADIUS),
            substring_masks=_substring_masks(tables, width),
        )

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def live_count(self) -> int:
        return int(np.count_nonzero(self.alive))

    def search(self, queries: np.ndarray, radius: int) -> Hits:
        """(query index, row, distance) of every live row within `radius`, each row once."""
        if self.offsets is None:
            return kernels.brute_search(queries, self.hashes, self.alive, len(self.ids), radius)
        assert self.rows is not None
        assert self.flips is not None
        assert self.substring_masks is not None
        radii = table_radii(self.offsets.shape[0], radius)
        if radii.max() > MAX_TABLE_RADIUS:
            raise ValueError(f"radius {radius} is too large for this segment")
        return kernels.mih_search(
            queries,
            self.hashes,
            self.alive,
            self.offsets,
            self.rows,
            self.width,
            self.flips,
            radii,
            self.substring_masks,
            radius,
        )

    def locate(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mask of `ids` alive here, their rows) — rows are meaningless where the mask is False."""
        if len(self.ids) == 0:
            return np.zeros(len(ids), dtype=bool), np.zeros(len(ids), dtype=np.int64)
        rows = np.searchsorted(self.ids, ids)
        rows = np.minimum(rows, len(self.ids) - 1)
        found = (self.ids[rows] == ids) & (self.alive[rows] != 0)
        return found, rows

    def nbytes(self) -> int:
        arrays = (self.ids, self.hashes, self.alive, self.offsets, self.rows, self.flips)
        return sum(array.nbytes for array in arrays if array is not None)
