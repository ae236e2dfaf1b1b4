"""Synthetic PDQ banks and a brute-force reference search, shared by tests and benchmarks.

Synthetic hashes are random bytes, not hashes of any image: the index only sees bits.
"""

from __future__ import annotations

import numpy as np

from safeguard.matching import _index_kernels as kernels

HASH_BYTES = 32


def random_hashes(rng: np.random.Generator, count: int) -> np.ndarray:
    return rng.integers(0, 256, size=(count, HASH_BYTES), dtype=np.uint8)


def flip_bits(hashes: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Copies of `hashes` (n, 32) with exactly counts[i] distinct bits flipped in row i."""
    out = hashes.copy()
    bits = np.unpackbits(out, axis=1)
    for row, count in enumerate(np.asarray(counts).tolist()):
        positions = rng.choice(8 * HASH_BYTES, size=int(count), replace=False)
        bits[row, positions] ^= 1
    return np.packbits(bits, axis=1)


def clustered_hashes(
    rng: np.random.Generator, count: int, centres: int, max_spread: int = 40
) -> tuple[np.ndarray, np.ndarray]:
    """(`count` hashes, their `centres` centres): each member 0..max_spread bits from its centre.

    A member flips up to its spread of random positions (repeats allowed, which keeps 10 M
    members fast to make), so its distance to the centre is at most the spread.

    Real banks look like this: many near-duplicates of the same image (re-encodes, resizes),
    which pile up in the same buckets and are the hard case for multi-index hashing.
    """
    centre_hashes = random_hashes(rng, centres)
    owner = rng.integers(0, centres, size=count)
    spread = rng.integers(0, max_spread + 1, size=count)
    members = np.empty((count, HASH_BYTES), dtype=np.uint8)
    # Flip bits by XOR with random masks of the wanted weight, in chunks to bound memory.
    chunk = 1 << 16
    for start in range(0, count, chunk):
        stop = min(count, start + chunk)
        positions = rng.integers(0, 8 * HASH_BYTES, size=(stop - start, max_spread))
        wanted = np.arange(max_spread)[None, :] < spread[start:stop, None]
        rows = np.broadcast_to(np.arange(stop - start)[:, None], wanted.shape)
        mask_bits = np.zeros((stop - start, 8 * HASH_BYTES), dtype=bool)
        mask_bits[rows[wanted], positions[wanted]] = True
        members[start:stop] = centre_hashes[owner[start:stop]] ^ np.packbits(mask_bits, axis=1)
    return members, centre_hashes


def brute_force(bank: np.ndarray, queries: np.ndarray, radius: int) -> list[list[tuple[int, int]]]:
    """(row, distance) within `radius` per query, nearest first, ties by row."""
    bank_words = np.ascontiguousarray(bank).view(np.uint64)
    query_words = np.ascontiguousarray(queries).view(np.uint64)
    results = []
    for query in query_words:
        distances = kernels.distances_to_all(query, bank_words)
        rows = np.flatnonzero(distances <= radius)
        order = np.lexsort((rows, distances[rows]))
        results.append([(int(rows[i]), int(distances[rows[i]])) for i in order])
    return results
