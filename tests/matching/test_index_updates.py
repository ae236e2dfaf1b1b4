"""Additions, removals and replacements without rebuilds, including while searches run."""

from __future__ import annotations

import threading

import numpy as np

from safeguard.matching._index_reference import brute_force, flip_bits, random_hashes
from safeguard.matching.index import PDQIndex


def _ids(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def test_add_is_visible_at_once_and_len_contains_follow() -> None:
    rng = np.random.default_rng(0)
    hashes = random_hashes(rng, 3)
    index = PDQIndex()
    assert len(index) == 0 and 1 not in index
    assert index.search(hashes) == [[], [], []]
    index.add(_ids(1, 2, 3), hashes)
    assert len(index) == 3 and 2 in index and 4 not in index
    assert index.search(hashes) == [[(1, 0)], [(2, 0)], [(3, 0)]]


def test_re_adding_an_id_replaces_its_hash() -> None:
    rng = np.random.default_rng(1)
    old, new = random_hashes(rng, 2)
    index = PDQIndex()
    index.add(_ids(9), old[None])
    index.add(_ids(9), new[None])
    assert len(index) == 1
    assert index.search(np.stack([old, new])) == [[], [(9, 0)]]


def test_repeated_id_in_one_call_keeps_the_last_hash() -> None:
    rng = np.random.default_rng(2)
    first, last = random_hashes(rng, 2)
    index = PDQIndex()
    index.add(_ids(5, 5), np.stack([first, last]))
    assert len(index) == 1
    assert index.search(np.stack([first, last])) == [[], [(5, 0)]]


def test_remove_hides_ids_and_ignores_unknown_ones() -> None:
    rng = np.random.default_rng(3)
    hashes = random_hashes(rng, 3)
    index = PDQIndex()
    index.add(_ids(1, 2, 3), hashes)
    index.remove(_ids(2, 404))
    assert len(index) == 2 and 2 not in index
    assert index.search(hashes) == [[(1, 0)], [], [(3, 0)]]
    index.remove(_ids(2))
    assert len(index) == 2


def test_replace_and_remove_reach_every_layer() -> None:
    """Bulk segment, frozen deltas, merged segments and the delta all honour updates."""
    rng = np.random.default_rng(4)
    bank = random_hashes(rng, 40_000)
    index = PDQIndex(delta_capacity=256)
    index.add(np.arange(30_000, dtype=np.int64), bank[:30_000])  # one bulk segment
    for start in range(30_000, 40_000, 100):  # deltas that freeze and merge in the background
        index.add(np.arange(start, start + 100, dtype=np.int64), bank[start : start + 100])
    removed = np.arange(0, 40_000, 7, dtype=np.int64)
    index.remove(removed)
    replaced = np.arange(3, 40_000, 11, dtype=np.int64)
    fresh = random_hashes(rng, len(replaced))
    index.add(replaced, fresh)
    expected_bank = bank.copy()
    expected_bank[replaced] = fresh
    alive = np.ones(40_000, dtype=bool)
    alive[removed] = False
    alive[replaced] = True
    queries = flip_bits(expected_bank[rng.integers(0, 40_000, 300)], rng.integers(0, 33, 300), rng)
    queries = np.concatenate([queries, bank[replaced[:50]]])
    expected = [
        [(row, d) for row, d in result if alive[row]]
        for result in brute_force(expected_bank, queries, 31)
    ]
    assert index.search(queries) == expected
    assert len(index) == int(alive.sum())
    index.compact()
    assert index.search(queries) == expected
    assert len(index) == int(alive.sum())
    assert len(index._snapshot.segments) == 1


def test_search_while_adding_sees_each_new_hash_once_add_returns() -> None:
    rng = np.random.default_rng(5)
    base = random_hashes(rng, 20_000)
    additions = random_hashes(rng, 3000)
    index = PDQIndex(delta_capacity=128)
    index.add(np.arange(len(base), dtype=np.int64), base)
    stop = threading.Event()
    failures: list[str] = []

    def searcher() -> None:
        probe_rng = np.random.default_rng(6)
        while not stop.is_set():
            rows = probe_rng.integers(0, len(base), size=64)
            for row, result in zip(rows.tolist(), index.search(base[rows]), strict=True):
                if (row, 0) not in result:
                    failures.append(f"base row {row} missing: {result}")

    threads = [threading.Thread(target=searcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for offset in range(0, len(additions), 10):
            chunk = additions[offset : offset + 10]
            ids = np.arange(100_000 + offset, 100_000 + offset + len(chunk), dtype=np.int64)
            index.add(ids, chunk)
            results = index.search(chunk)
            assert all((int(i), 0) in r for i, r in zip(ids, results, strict=True))
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert failures == []
    assert len(index) == len(base) + len(additions)
    index.compact()
    results = index.search(additions)
    assert all((100_000 + i, 0) in r for i, r in enumerate(results))


def test_batch_search_in_threads_equals_single_queries() -> None:
    rng = np.random.default_rng(8)
    bank = random_hashes(rng, 20_000)
    index = PDQIndex(threads=4)
    index.add(np.arange(len(bank), dtype=np.int64), bank)
    queries = flip_bits(bank[:500], rng.integers(0, 40, 500), rng)
    batched = index.search(queries)
    assert batched == [index.search(q[None])[0] for q in queries]
    assert batched == brute_force(bank, queries, 31)


def test_memory_bytes_grows_with_content() -> None:
    rng = np.random.default_rng(9)
    index = PDQIndex()
    empty = index.memory_bytes()
    index.add(np.arange(50_000, dtype=np.int64), random_hashes(rng, 50_000))
    assert index.memory_bytes() > empty + 50_000 * 40


def test_removing_everything_then_compacting_leaves_an_empty_index() -> None:
    rng = np.random.default_rng(10)
    hashes = random_hashes(rng, 5000)
    index = PDQIndex(delta_capacity=100)
    for start in range(0, 5000, 50):  # many frozen deltas, merged in the background
        index.add(np.arange(start, start + 50, dtype=np.int64), hashes[start : start + 50])
    index.remove(np.arange(5000, dtype=np.int64))
    index.compact()
    assert len(index) == 0
    assert index._snapshot.segments == ()
    assert index.search(hashes[:3]) == [[], [], []]
    index.add(np.array([1], dtype=np.int64), hashes[:1])
    assert index.search(hashes[:1]) == [[(1, 0)]]


def test_compact_while_background_merges_and_writes_run() -> None:
    rng = np.random.default_rng(11)
    hashes = random_hashes(rng, 20_000)
    index = PDQIndex(delta_capacity=64)
    done = threading.Event()

    def writer() -> None:
        for start in range(0, 20_000, 40):
            index.add(np.arange(start, start + 40, dtype=np.int64), hashes[start : start + 40])
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    while not done.is_set():
        index.compact()
    thread.join()
    index.compact()
    assert len(index) == 20_000
    assert len(index._snapshot.segments) == 1
    assert index.search(hashes[::97]) == [[(row, 0)] for row in range(0, 20_000, 97)]
