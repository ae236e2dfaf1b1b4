"""PDQ must equal pdqhash / threatexchange bit for bit on the same pixels."""

from __future__ import annotations

import io

import numpy as np
import pdqhash
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from safeguard.media import hamming_hex, hash_bytes, pdq_dihedral_from_pixels, pdq_from_pixels
from safeguard.media.pdq import DIHEDRAL_NAMES
from tests.media.conftest import encode, scene


def reference_hex(bits: np.ndarray) -> str:
    return f"{int(''.join(str(b) for b in bits), 2):064x}"


def test_bit_identical_to_pdqhash_on_bundled_picture(astronaut: np.ndarray) -> None:
    bits, quality = pdqhash.compute(astronaut)
    assert pdq_from_pixels(astronaut) == (reference_hex(bits), quality)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    arrays(np.uint8, st.tuples(st.integers(1, 90), st.integers(1, 90), st.just(3)),
           elements=st.integers(0, 255)),
    st.booleans(),
)
def test_bit_identical_to_pdqhash_on_random_pixels(rgb: np.ndarray, smooth: bool) -> None:
    if smooth:  # random noise alone never has near-median ties; gradients do
        rgb = np.cumsum(rgb, axis=1, dtype=np.uint8)
    bits, quality = pdqhash.compute(rgb)
    assert pdq_from_pixels(rgb) == (reference_hex(bits), quality)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(5, 140), st.integers(5, 140))
def test_dihedral_identical_to_pdqhash(seed: int, h: int, w: int) -> None:
    rgb = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    expected_bits, quality = pdqhash.compute_dihedral(rgb)
    ours = pdq_dihedral_from_pixels(rgb)
    assert list(ours) == list(DIHEDRAL_NAMES)
    for name, bits in zip(DIHEDRAL_NAMES, expected_bits, strict=True):
        assert ours[name] == (reference_hex(bits), quality)


MOVES = {
    "rotate90": lambda a: np.rot90(a, 1),
    "rotate180": lambda a: np.rot90(a, 2),
    "rotate270": lambda a: np.rot90(a, 3),
    "flipx": lambda a: a[::-1],
    "flipy": lambda a: a[:, ::-1],
    "flipplus1": lambda a: a.transpose(1, 0, 2),
    "flipminus1": lambda a: np.rot90(a, 2).transpose(1, 0, 2),
}


@pytest.mark.parametrize("name", sorted(MOVES))
def test_dihedral_variant_matches_physically_moved_picture(name: str) -> None:
    rgb = scene(3)
    moved = np.ascontiguousarray(MOVES[name](rgb))
    variant = pdq_dihedral_from_pixels(rgb)[name][0]
    # Not exact: PDQ's decimation grid is not symmetric under flips. These sinusoid scenes
    # are a hard case (up to ~30 bits); a wrong sign pattern would give ~128.
    assert hamming_hex(variant, pdq_from_pixels(moved)[0]) <= 31
    assert hamming_hex(variant, pdq_from_pixels(rgb)[0]) > 31  # it really is a different hash


def test_hex_matches_threatexchange_pdq_signal(astronaut: np.ndarray) -> None:
    pdq_hasher = pytest.importorskip("threatexchange.signal_type.pdq.pdq_hasher")
    from threatexchange.signal_type.pdq.signal import PdqSignal

    data = encode(astronaut, "PNG")
    value, quality = pdq_hasher.pdq_from_bytes(data)
    result = hash_bytes(data, label="astronaut.png", signal_types=("pdq",), fast=False)[0]
    assert (result.value, result.quality) == (value, quality)
    assert PdqSignal.hash_from_bytes(data) == result.value
    assert PdqSignal.validate_signal_str(result.value) == result.value


@pytest.mark.parametrize("size", [(1024, 768), (800, 533), (640, 640)])
def test_fast_jpeg_hash_equals_full_decode(size: tuple[int, int]) -> None:
    # Same luma, filter evaluated only where PDQ samples (more in test_fast_hash.py).
    data = encode(scene(7, size), quality=90)
    fast = hash_bytes(data, label="x", signal_types=("pdq",), fast=True)[0]
    full = hash_bytes(data, label="x", signal_types=("pdq",), fast=False)[0]
    assert (fast.value, fast.quality) == (full.value, full.quality)


def test_tiny_picture_gives_reference_zero_hash() -> None:
    assert pdq_from_pixels(np.zeros((4, 100, 3), np.uint8)) == ("0" * 64, 0)


def test_rejects_wrong_pixel_layout() -> None:
    with pytest.raises(ValueError, match="HxWx3"):
        pdq_from_pixels(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        pdq_from_pixels(np.zeros((10, 10, 3), np.float32))


def test_grey_and_rgba_pictures_hash_like_threatexchange() -> None:
    pdq_hasher = pytest.importorskip("threatexchange.signal_type.pdq.pdq_hasher")
    rgb = scene(11)
    for mode in ("L", "RGBA"):
        buf = io.BytesIO()
        Image.fromarray(rgb).convert(mode).save(buf, "PNG")
        data = buf.getvalue()
        result = hash_bytes(data, label="x", signal_types=("pdq",), fast=False)[0]
        assert (result.value, result.quality) == pdq_hasher.pdq_from_bytes(data)
