"""Numba kernels behind `PDQIndex`: popcount, linear scan, multi-index hashing build and search.

Hashes are handled as 4 x uint64 words (the 32 bytes of a PDQ hash viewed as little-endian words);
Hamming distance does not depend on how bits are grouped, so queries just use the same view.

All kernels are `nogil` so a batch can be split across Python threads, and `cache=True` so a
service start does not pay the compile time again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

# Hits are returned as flat arrays (query index, row, distance); this is the first buffer size.
_INITIAL_HIT_CAPACITY = 1024


@intrinsic
def _ctpop64_intrinsic(typingctx: Any, value: Any) -> Any:
    """LLVM's ctpop: one `popcnt` instruction on x86-64 (numba has no popcount of its own)."""
    signature = types.uint64(types.uint64)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        function = builder.module.declare_intrinsic("llvm.ctpop", [args[0].type])
        return builder.call(function, args)

    return signature, codegen


@intrinsic
def _prefetch_intrinsic(typingctx: Any, array: Any, index: Any) -> Any:
    """LLVM's prefetch of array[index] (first element of that row for 2-D arrays) into cache."""
    signature = types.void(array, index)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        array_type = sig.args[0]
        array_value = context.make_array(array_type)(context, builder, args[0])
        position = context.cast(builder, args[1], sig.args[1], types.intp)
        zero = context.get_constant(types.intp, 0)
        pointer = cgutils.get_item_pointer(
            context,
            builder,
            array_type,
            array_value,
            [position] + [zero] * (array_type.ndim - 1),
            wraparound=False,
            boundscheck=False,
        )
        pointer = builder.bitcast(pointer, ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        function_type = ir.FunctionType(ir.VoidType(), [pointer.type, i32, i32, i32])
        function = cgutils.get_or_insert_function(builder.module, function_type, "llvm.prefetch.p0")
        # read, keep in all cache levels, data cache
        builder.call(
            function, [pointer, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)]
        )
        return context.get_dummy_value()

    return signature, codegen


# Typed for mypy, which cannot see through numba's @intrinsic decorator.
_ctpop64 = cast(Callable[[Any], int], _ctpop64_intrinsic)
_prefetch = cast(Callable[[np.ndarray, int], None], _prefetch_intrinsic)


@njit(cache=True, nogil=True, inline="always")
def _distance(a: np.ndarray, b: np.ndarray) -> int:
    return int(
        _ctpop64(a[0] ^ b[0])
        + _ctpop64(a[1] ^ b[1])
        + _ctpop64(a[2] ^ b[2])
        + _ctpop64(a[3] ^ b[3])
    )


@njit(cache=True, nogil=True)
def distances_to_all(query: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """Exact distances from one query to every row (used by tests and recall checks)."""
    out = np.empty(hashes.shape[0], dtype=np.int32)
    for row in range(hashes.shape[0]):
        out[row] = _distance(query, hashes[row])
    return out


@njit(cache=True, nogil=True)
def _grow(buffer: np.ndarray, needed: int) -> np.ndarray:
    if needed <= buffer.shape[0]:
        return buffer
    bigger = np.empty(max(needed, 2 * buffer.shape[0]), dtype=buffer.dtype)
    bigger[: buffer.shape[0]] = buffer
    return bigger


@njit(cache=True, nogil=True)
def brute_search(
    queries: np.ndarray, hashes: np.ndarray, alive: np.ndarray, count: int, radius: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scan the first `count` rows; small segments and the mutable delta are searched this way."""
    hit_query = np.empty(_INITIAL_HIT_CAPACITY, dtype=np.int32)
    hit_row = np.empty(_INITIAL_HIT_CAPACITY, dtype=np.int64)
    hit_distance = np.empty(_INITIAL_HIT_CAPACITY, dtype=np.int32)
    hits = 0
    for q in range(queries.shape[0]):
        query = queries[q]
        for row in range(count):
            distance = _distance(query, hashes[row])
            if distance <= radius and alive[row]:
                if hits == hit_query.shape[0]:
                    hit_query = _grow(hit_query, hits + 1)
                    hit_row = _grow(hit_row, hits + 1)
                    hit_distance = _grow(hit_distance, hits + 1)
                hit_query[hits] = q
                hit_row[hits] = row
                hit_distance[hits] = distance
                hits += 1
    return hit_query[:hits], hit_row[:hits], hit_distance[:hits]


@njit(cache=True, nogil=True, inline="always")
def _substring(words: np.ndarray, start: int, width: int) -> int:
    """Bits [start, start + width) of the 256-bit value, width <= 32."""
    word = start >> 6
    shift = start & 63
    value = words[word] >> np.uint64(shift)
    if shift + width > 64:
        value |= words[word + 1] << np.uint64(64 - shift)
    return int(value & np.uint64((1 << width) - 1))


@njit(cache=True, nogil=True)
def build_tables(
    hashes: np.ndarray, width: int, first_table: int, offsets: np.ndarray, rows: np.ndarray
) -> None:
    """Counting sort of the rows by each substring into zeroed CSR `offsets` and `rows`.

    `offsets` is (tables, 2**width + 1) and `rows` (tables, n), both uint32, allocated by the
    caller and holding tables first_table, first_table + 1, ... (so threads can split them).
    Direct addressing (no hash map) keeps a probe to one offsets read, and a counting sort
    builds 10 M rows in a couple of passes without the temporary memory of an argsort.
    """
    n = hashes.shape[0]
    buckets = 1 << width
    tables = offsets.shape[0]
    for table in range(tables):
        start = (first_table + table) * width
        counts = offsets[table]
        for row in range(n):
            counts[_substring(hashes[row], start, width) + 1] += 1
        for bucket in range(buckets):
            counts[bucket + 1] += counts[bucket]
        # `counts[key]` is the next free slot of bucket `key`; shift back afterwards.
        for row in range(n):
            key = _substring(hashes[row], start, width)
            rows[table, counts[key]] = row
            counts[key] += 1
        for bucket in range(buckets, 0, -1):
            counts[bucket] = counts[bucket - 1]
        counts[0] = 0


@njit(cache=True, nogil=True)
def flip_masks(width: int, max_weight: int) -> np.ndarray:
    """All masks of `width` bits with at most `max_weight` bits set, ordered by weight."""
    masks = [np.uint32(0)]
    for i in range(width):
        if max_weight >= 1:
            masks.append(np.uint32(1 << i))
    if max_weight >= 2:
        for i in range(width):
            for j in range(i + 1, width):
                masks.append(np.uint32((1 << i) | (1 << j)))
    if max_weight >= 3:
        for i in range(width):
            for j in range(i + 1, width):
                for k in range(j + 1, width):
                    masks.append(np.uint32((1 << i) | (1 << j) | (1 << k)))
    out = np.empty(len(masks), dtype=np.uint32)
    for index in range(len(masks)):
        out[index] = masks[index]
    return out


@njit(cache=True, nogil=True, inline="always")
def _masks_up_to(width: int, weight: int) -> int:
    """How many masks of weight <= `weight` lead the `flip_masks` array."""
    if weight < 0:
        return 0
    total = 1
    if weight >= 1:
        total += width
    if weight >= 2:
        total += width * (width - 1) // 2
    if weight >= 3:
        total += width * (width - 1) * (width - 2) // 6
    return total


@njit(cache=True, nogil=True)
def mih_search(
    queries: np.ndarray,
    hashes: np.ndarray,
    alive: np.ndarray,
    offsets: np.ndarray,
    rows: np.ndarray,
    width: int,
    masks: np.ndarray,
    table_radius: np.ndarray,
    substring_masks: np.ndarray,
    radius: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Multi-index hashing range search (Norouzi et al.), exact for `radius`.

    Pigeonhole: if d(q, h) <= radius, some table t has substring distance <= table_radius[t]
    (the caller spreads the radius the refined way). A candidate is reported only from the first
    table that can find it, so no per-query seen-set is needed to drop duplicates.
    A query touches a few thousand random cache lines (bucket bounds, bucket rows, candidate
    hashes), so the work runs in phases, each prefetching what the next one reads: the memory
    system then serves many misses at once instead of one after another.
    """
    tables = offsets.shape[0]
    hit_query = np.empty(_INITIAL_HIT_CAPACITY, dtype=np.int32)
    hit_row = np.empty(_INITIAL_HIT_CAPACITY, dtype=np.int64)
    hit_distance = np.empty(_INITIAL_HIT_CAPACITY, dtype=np.int32)
    hits = 0
    probe_table = np.empty(tables * masks.shape[0], dtype=np.int64)
    probe_bucket = np.empty(tables * masks.shape[0], dtype=np.int64)
    candidates = np.empty(4096, dtype=np.int64)
    candidate_table = np.empty(4096, dtype=np.int64)
    for q in range(queries.shape[0]):
        query = queries[q]
        # Phase 1: every bucket to probe, in every table.
        probes = 0
        for table in range(tables):
            key = _substring(query, table * width, width)
            for probe in range(_masks_up_to(width, table_radius[table])):
                bucket = key ^ int(masks[probe])
                _prefetch(offsets[table], bucket)
                probe_table[probes] = table
                probe_bucket[probes] = bucket
                probes += 1
        # Phase 2: bucket bounds; prefetch the start of each non-empty bucket's rows.
        total = 0
        for probe in range(probes):
            table, bucket = probe_table[probe], probe_bucket[probe]
            start = int(offsets[table, bucket])
            size = int(offsets[table, bucket + 1]) - start
            if size:
                _prefetch(rows[table], start)
            probe_bucket[probe] = start
            probe_table[probe] = table | (size << 8)  # table < 256: pack the size alongside
            total += size
        if total == 0:
            continue
        # Phase 3: candidate rows; prefetch their hashes.
        candidates = _grow(candidates, total)
        candidate_table = _grow(candidate_table, total)
        filled = 0
        for probe in range(probes):
            table, size, start = (
                probe_table[probe] & 255,
                probe_table[probe] >> 8,
                probe_bucket[probe],
            )
            for position in range(start, start + size):
                row = int(rows[table, position])
                _prefetch(hashes, row)
                candidates[filled] = row
                candidate_table[filled] = table
                filled += 1
        # Phase 4: verify.
        for index in range(filled):
            row = candidates[index]
            distance = _distance(query, hashes[row])
            if distance > radius or not alive[row]:
                continue
            if _found_in_earlier_table(
                query, hashes[row], candidate_table[index], substring_masks, table_radius
            ):
                continue
            if hits == hit_query.shape[0]:
                hit_query = _grow(hit_query, hits + 1)
                hit_row = _grow(hit_row, hits + 1)
                hit_distance = _grow(hit_distance, hits + 1)
            hit_query[hits] = q
            hit_row[hits] = row
            hit_distance[hits] = distance
            hits += 1
    return hit_query[:hits], hit_row[:hits], hit_distance[:hits]


@njit(cache=True, nogil=True, inline="always")
def _found_in_earlier_table(
    query: np.ndarray,
    candidate: np.ndarray,
    table: int,
    substring_masks: np.ndarray,
    table_radius: np.ndarray,
) -> bool:
    for earlier in range(table):
        mask = substring_masks[earlier]
        partial = (
            _ctpop64((query[0] ^ candidate[0]) & mask[0])
            + _ctpop64((query[1] ^ candidate[1]) & mask[1])
            + _ctpop64((query[2] ^ candidate[2]) & mask[2])
            + _ctpop64((query[3] ^ candidate[3]) & mask[3])
        )
        if int(partial) <= table_radius[earlier]:
            return True
    return False
