"""Save/load without pickle: round trip, damaged files, and no memory growth on reloads."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pytest

from safeguard.matching._index_reference import random_hashes
from safeguard.matching.index import IndexFileError, PDQIndex


def _filled_index(rows: int, seed: int = 0) -> tuple[PDQIndex, np.ndarray]:
    hashes = random_hashes(np.random.default_rng(seed), rows)
    index = PDQIndex(delta_capacity=500)
    index.add(np.arange(rows, dtype=np.int64) * 3, hashes)
    return index, hashes


def test_round_trip_keeps_live_entries_only(tmp_path: Path) -> None:
    index, hashes = _filled_index(20_000)
    extra = random_hashes(np.random.default_rng(1), 300)
    index.add(np.arange(300, dtype=np.int64) + 10**12, extra)  # still in the delta
    index.remove(np.array([0, 3, 6], dtype=np.int64))
    path = tmp_path / "bank.pdqidx"
    index.save(path)
    loaded = PDQIndex.load(path)
    assert len(loaded) == len(index) == 20_000 + 300 - 3
    queries = np.concatenate([hashes[:50], extra[:50]])
    assert loaded.search(queries) == index.search(queries)
    assert 0 not in loaded and 9 in loaded and 10**12 in loaded


def test_empty_index_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdqidx"
    PDQIndex().save(path)
    loaded = PDQIndex.load(path)
    assert len(loaded) == 0
    assert loaded.search(random_hashes(np.random.default_rng(0), 2)) == [[], []]


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "bank.pdqidx"
    _filled_index(1000)[0].save(path)
    _filled_index(2000, seed=1)[0].save(path)  # overwrites in place
    assert len(PDQIndex.load(path)) == 2000
    assert [p.name for p in tmp_path.iterdir()] == ["bank.pdqidx"]


def test_file_is_not_a_pickle(tmp_path: Path) -> None:
    path = tmp_path / "bank.pdqidx"
    _filled_index(100)[0].save(path)
    assert path.read_bytes()[:8] == b"SGPDQIX1"


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: data[: len(data) // 2], "truncated"),
        (lambda data: data[:-3], "truncated"),
        (lambda data: data[:5], "bad magic"),
        (lambda data: b"", "bad magic"),
        (lambda data: b"PK\x03\x04" + data[4:], "bad magic"),
        (lambda data: data[:200] + bytes([data[200] ^ 0xFF]) + data[201:], "checksum"),
        (lambda data: data[:-8] + b"XXXXXXXX", "end marker"),
        (lambda data: data[:17] + b"!" + data[18:], "header"),
    ],
)
def test_damaged_file_raises_a_clear_error(tmp_path: Path, damage, message: str) -> None:
    path = tmp_path / "bank.pdqidx"
    _filled_index(500)[0].save(path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(IndexFileError, match=message):
        PDQIndex.load(path)


def test_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        PDQIndex.load(tmp_path / "nope.pdqidx")


def _rss_bytes() -> int:
    statm = Path("/proc/self/statm")
    if not statm.exists():
        pytest.skip("needs /proc (Linux) to read the resident set size")
    import os

    return int(statm.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_reloading_does_not_grow_process_memory(tmp_path: Path) -> None:
    """HMA's matchers grow on every reload; 20 load/drop cycles here must stay flat."""
    import tracemalloc

    index, hashes = _filled_index(200_000)
    index.compact()
    path = tmp_path / "bank.pdqidx"
    index.save(path)
    size = index.memory_bytes()
    del index
    for _ in range(3):  # warm up caches, numba, the allocator
        PDQIndex.load(path).search(hashes[:10])
    gc.collect()
    tracemalloc.start()
    baseline_rss = _rss_bytes()
    for _ in range(20):
        loaded = PDQIndex.load(path)
        assert loaded.search(hashes[:1]) == [[(0, 0)]]
        del loaded
        gc.collect()
    traced, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    growth = _rss_bytes() - baseline_rss
    assert growth < size / 4, (
        f"RSS grew by {growth / 1e6:.1f} MB over 20 reloads of {size / 1e6:.1f} MB"
    )
    assert traced < 1_000_000, f"{traced} bytes of Python allocations survived the reloads"
