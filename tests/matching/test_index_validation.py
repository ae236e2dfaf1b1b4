"""Bad input gets a ValueError that names the problem."""

from __future__ import annotations

import numpy as np
import pytest

from safeguard.matching.index import PDQIndex, hex_to_array

HEX = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def test_hex_to_array_matches_bytes_fromhex() -> None:
    other = "0" * 63 + "F"
    array = hex_to_array([HEX, other])
    assert array.dtype == np.uint8 and array.shape == (2, 32)
    assert array[0].tobytes() == bytes.fromhex(HEX)
    assert array[1].tobytes() == bytes.fromhex(other)
    assert hex_to_array([]).shape == (0, 32)


@pytest.mark.parametrize(
    ("bad", "row"),
    [
        (HEX[:-1], 1),
        (HEX + "0", 1),
        ("g" + HEX[1:], 1),
        (" " + HEX[1:], 1),
        ("é" + HEX[1:], 1),
        (None, 1),
    ],
)
def test_hex_to_array_names_the_bad_row(bad: object, row: int) -> None:
    with pytest.raises(ValueError, match=f"row {row}"):
        hex_to_array([HEX, bad, HEX])  # type: ignore[list-item]


def test_hex_to_array_rejects_a_bare_string() -> None:
    with pytest.raises(ValueError, match="sequence"):
        hex_to_array(HEX)


@pytest.mark.parametrize(
    ("ids", "hashes", "message"),
    [
        (np.array([1.5]), np.zeros((1, 32), np.uint8), "integers"),
        (np.array([[1]]), np.zeros((1, 32), np.uint8), "one-dimensional"),
        ([1], np.zeros((1, 32), np.uint8), "numpy array"),
        (np.array([1]), np.zeros((1, 32), np.int64), "uint8"),
        (np.array([1]), np.zeros((1, 31), np.uint8), r"shape \(n, 32\)"),
        (np.array([1]), np.zeros(32, np.uint8), r"shape \(n, 32\)"),
        (np.array([1, 2]), np.zeros((1, 32), np.uint8), "2 ids but 1 hashes"),
        (np.array([2**63], dtype=np.uint64), np.zeros((1, 32), np.uint8), "int64"),
    ],
)
def test_add_rejects_bad_shapes_and_dtypes(ids: object, hashes: object, message: str) -> None:
    index = PDQIndex()
    with pytest.raises(ValueError, match=message):
        index.add(ids, hashes)  # type: ignore[arg-type]
    assert len(index) == 0


@pytest.mark.parametrize("radius", [32, -1, 100])
def test_search_rejects_radius_out_of_range(radius: int) -> None:
    with pytest.raises(ValueError, match="radius"):
        PDQIndex().search(np.zeros((1, 32), np.uint8), radius)


def test_search_rejects_non_integer_radius() -> None:
    with pytest.raises(ValueError, match="radius"):
        PDQIndex().search(np.zeros((1, 32), np.uint8), 3.0)  # type: ignore[arg-type]


def test_search_rejects_bad_queries() -> None:
    with pytest.raises(ValueError, match="queries"):
        PDQIndex().search(np.zeros((1, 64), np.uint8))
    with pytest.raises(ValueError, match="queries"):
        PDQIndex().search(["ab" * 32])  # type: ignore[arg-type]


def test_remove_rejects_bad_ids() -> None:
    with pytest.raises(ValueError, match="ids"):
        PDQIndex().remove(np.array(["a"]))


def test_contains_is_false_for_non_integers() -> None:
    index = PDQIndex()
    index.add(np.array([1]), np.zeros((1, 32), np.uint8))
    assert 1 in index and np.int64(1) in index
    assert "1" not in index and 1.0 not in index and True not in index and 2**70 not in index


def test_non_contiguous_hashes_are_accepted() -> None:
    wide = np.zeros((3, 64), np.uint8)
    wide[:, ::2] = 7
    index = PDQIndex()
    index.add(np.arange(3), wide[:, ::2])
    assert index.search(wide[:1, ::2]) == [[(0, 0), (1, 0), (2, 0)]]
