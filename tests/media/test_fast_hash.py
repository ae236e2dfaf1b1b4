"""``hash_bytes(fast=True)`` hashes the very luma of the decoded RGB that the full path hashes,
so its hash equals full decode's (saturated colours and caption text included, where the
former JPEG Y-plane shortcut drifted). Benign generated pictures only."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFont

from safeguard.media import _pdq_kernels as kernels
from safeguard.media import decode_image, hamming_hex, hash_bytes, pdq_from_pixels
from safeguard.media.pdq import dct_from_luma, pdq_sampled_from_pixels
from tests.media.conftest import encode, scene

SATURATED = [(255, 0, 0), (0, 0, 255), (255, 255, 0), (0, 255, 0), (255, 0, 255),
             (0, 255, 255), (255, 255, 255), (0, 0, 0)]


def _pdq_pair(data: bytes) -> tuple[tuple[str, int | None], tuple[str, int | None]]:
    fast = hash_bytes(data, label="x", signal_types=("pdq",), fast=True)[0]
    full = hash_bytes(data, label="x", signal_types=("pdq",), fast=False)[0]
    return (fast.value, fast.quality), (full.value, full.quality)


def saturated_captioned(seed: int, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """A scene with blocks of pure primaries and captions in saturated colours with a black
    stroke (as meme captions are drawn): JPEG's chroma rounding pushes such pixels outside
    0..255, which the RGB decode clips and the Y plane did not."""
    rng = np.random.default_rng(seed)
    image = Image.fromarray(scene(seed, size))
    draw = ImageDraw.Draw(image)
    w, h = size
    for _ in range(4):
        x, y = int(rng.integers(0, w - 60)), int(rng.integers(0, h - 60))
        colour = SATURATED[int(rng.integers(0, len(SATURATED)))]
        draw.rectangle((x, y, x + int(rng.integers(20, 120)), y + int(rng.integers(20, 120))),
                       fill=colour)
    font = ImageFont.load_default(size=max(12, h // 12))
    for line in range(2):
        colour = SATURATED[int(rng.integers(0, 6))]
        draw.text((int(w * 0.05), int(h * (0.1 + 0.6 * line))), "SAMPLE CAPTION TEXT",
                  fill=colour, font=font, stroke_width=2, stroke_fill=(0, 0, 0))
    return np.asarray(image)


def test_luma_equals_pdqhash_formula_on_every_colour() -> None:
    # pdqhash (hence threatexchange) computes r*0.299 + g*0.587 + b*0.114 in float64 with
    # numpy, left to right, then casts to float32; the vectorised kernel must match it on
    # all 2**24 colours, for packed RGB and for 4-byte pixels alike.
    every = np.arange(1 << 24, dtype=np.uint32)
    for chunk in np.split(every, 16):
        rgb = np.stack([chunk >> 16, (chunk >> 8) & 255, chunk & 255], -1).astype(np.uint8)
        rgb = rgb.reshape(256, -1, 3)
        expected = (rgb[:, :, 0] * 0.299 + rgb[:, :, 1] * 0.587
                    + rgb[:, :, 2] * 0.114).astype(np.float32)
        assert np.array_equal(kernels.luma_from_rgb(rgb).view(np.uint32),
                              expected.view(np.uint32))
        rgbx = np.concatenate([rgb, rgb[:, :, :1]], axis=2)
        assert np.array_equal(kernels.luma_from_rgb(rgbx), expected)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("size", [(1024, 768), (640, 480), (333, 517)])
def test_fast_equals_full_on_saturated_colours_and_captions(
    seed: int, size: tuple[int, int],
) -> None:
    rgb = saturated_captioned(seed, size)
    for subsampling in (0, 2):  # 4:4:4 and 4:2:0 chroma
        fast, full = _pdq_pair(encode(rgb, quality=90, subsampling=subsampling))
        assert fast == full
    fast, full = _pdq_pair(encode(rgb, "PNG"))  # every format takes the same path
    assert fast == full


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 100_000), st.integers(64, 700), st.integers(64, 700),
       st.sampled_from([50, 75, 90, 95]))
def test_fast_matches_full_on_generated_jpegs(seed: int, w: int, h: int, quality: int) -> None:
    rgb = saturated_captioned(seed, (w, h))
    data = encode(rgb, quality=quality)
    (fast, fast_q), (full, full_q) = _pdq_pair(data)
    assert abs((fast_q or 0) - (full_q or 0)) <= 1
    if fast != full:
        # Same luma on both paths; only the filter's float sum order differs, so a bit can
        # flip only for a DCT coefficient within rounding of the median.
        dct, _ = dct_from_luma(kernels.luma_from_rgb(decode_image(data, label="x")))
        ties = int((np.abs(dct - np.median(dct)) <= 1e-4 * np.abs(dct).max()).sum())
        assert hamming_hex(fast, full) <= max(2, ties)


def test_fast_path_applies_exif_orientation() -> None:
    rgb = saturated_captioned(3)
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise
    data = encode(rgb, quality=95, exif=exif.tobytes())
    fast, full = _pdq_pair(data)
    assert fast == full
    upright = np.rot90(rgb, -1)
    assert hamming_hex(fast[0], pdq_from_pixels(np.ascontiguousarray(upright))[0]) <= 16


def test_sampled_from_pixels_checks_layout_and_zeroes_tiny_pictures() -> None:
    assert pdq_sampled_from_pixels(np.zeros((4, 100, 3), np.uint8)) == ("0" * 64, 0)
    with pytest.raises(ValueError, match="HxWx3"):
        pdq_sampled_from_pixels(np.zeros((10, 10), np.uint8))
    rgba = np.dstack([saturated_captioned(1), np.full((480, 640), 9, np.uint8)])
    assert pdq_sampled_from_pixels(rgba) == pdq_sampled_from_pixels(rgba[:, :, :3].copy())
