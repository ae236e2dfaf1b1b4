"""PDQIndex must return exactly what a brute-force scan returns, for every radius <= 31."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeguard.matching._index_reference import (
    brute_force,
    clustered_hashes,
    flip_bits,
    random_hashes,
)
from safeguard.matching._index_segment import Segment
from safeguard.matching.index import PDQIndex

BANK_ROWS = 20_000  # above the brute-force threshold, so multi-index hashing is exercised
# Substring widths covering the table-radius splits: r=1 with r=0 tables, all r=1, r=2 with r=1.
WIDTHS = [10, 12, 16, 19]


def _bank(seed: int) -> np.ndarray:
    return random_hashes(np.random.default_rng(seed), BANK_ROWS)


def _as_rows(results: list[list[tuple[int, int]]]) -> list[list[tuple[int, int]]]:
    return results  # ids are row numbers in these tests


@pytest.fixture(scope="module")
def random_index() -> tuple[PDQIndex, np.ndarray]:
    bank = _bank(1)
    index = PDQIndex()
    index.add(np.arange(BANK_ROWS, dtype=np.int64), bank)
    return index, bank


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 2**32 - 1),
    distances=st.lists(st.integers(0, 45), min_size=1, max_size=8),
    radius=st.integers(0, 31),
)
def test_matches_brute_force_on_random_bank(
    random_index: tuple[PDQIndex, np.ndarray], seed: int, distances: list[int], radius: int
) -> None:
    index, bank = random_index
    rng = np.random.default_rng(seed)
    bases = bank[rng.integers(0, BANK_ROWS, size=len(distances))]
    queries = np.concatenate([flip_bits(bases, np.array(distances), rng), random_hashes(rng, 2)])
    assert index.search(queries, radius) == brute_force(bank, queries, radius)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), width=st.sampled_from(WIDTHS))
def test_planted_neighbours_at_exact_distances(seed: int, width: int) -> None:
    """Neighbours at 0..31 bits are all found at radius 31; those at 32..40 never are."""
    rng = np.random.default_rng(seed)
    query = random_hashes(rng, 1)
    planted = flip_bits(np.repeat(query, 41, axis=0), np.arange(41), rng)
    bank = np.concatenate([random_hashes(rng, 5000), planted])
    words = bank.view(np.uint64)
    segment = Segment.build(np.arange(len(bank), dtype=np.int64), words, width=width)
    query_index, rows, distances = segment.search(query.view(np.uint64), 31)
    found = dict(zip(rows.tolist(), distances.tolist(), strict=True))
    expected = {5000 + d: d for d in range(32)}
    assert {row: found[row] for row in found if row >= 5000} == expected
    assert len(rows) == len(set(rows.tolist())), "a row was reported twice"


@pytest.mark.parametrize("width", WIDTHS)
def test_every_width_matches_brute_force(width: int) -> None:
    rng = np.random.default_rng(width)
    bank = random_hashes(rng, 8000)
    segment = Segment.build(np.arange(len(bank), dtype=np.int64), bank.view(np.uint64), width=width)
    distances = rng.integers(0, 40, size=200)
    queries = flip_bits(bank[rng.integers(0, len(bank), size=200)], distances, rng)
    for radius in (0, 1, 7, 16, 25, 31):
        query_index, rows, found = segment.search(queries.view(np.uint64), radius)
        expected = brute_force(bank, queries, radius)
        got: list[list[tuple[int, int]]] = [[] for _ in range(len(queries))]
        for q, row, d in zip(query_index.tolist(), rows.tolist(), found.tolist(), strict=True):
            got[q].append((row, d))
        assert [sorted(g, key=lambda p: (p[1], p[0])) for g in got] == expected


def test_clustered_bank_near_centres_and_random() -> None:
    """Near-duplicate clusters crowd the buckets; results must still be exact."""
    rng = np.random.default_rng(7)
    bank, centres = clustered_hashes(rng, 30_000, centres=300)
    index = PDQIndex()
    index.add(np.arange(len(bank), dtype=np.int64), bank)
    near = flip_bits(centres[:40], rng.integers(0, 20, size=40), rng)
    queries = np.concatenate([near, centres[40:60], random_hashes(rng, 20)])
    results = index.search(queries, 31)
    assert results == brute_force(bank, queries, 31)
    assert sum(len(r) for r in results) > 1000  # the clusters were really hit


def test_results_are_sorted_by_distance_then_id() -> None:
    rng = np.random.default_rng(3)
    query = random_hashes(rng, 1)
    hashes = flip_bits(np.repeat(query, 30, axis=0), rng.integers(0, 31, size=30), rng)
    index = PDQIndex()
    index.add(rng.permutation(1000)[:30].astype(np.int64), hashes)
    (result,) = index.search(query)
    assert result == sorted(result, key=lambda pair: (pair[1], pair[0]))
    assert len(result) == 30
