"""Robust variants: sampled PDQ filter, bank-side crops/rotations, query-side frame finder.
Benign generated pictures only."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFont

from safeguard.media import _pdq_kernels as kernels
from safeguard.media import bank_variants, hamming_hex, pdq_from_pixels, query_variants
from safeguard.media.pdq import _DCT, dct_from_luma, pdq_from_luma, pdq_sampled_from_luma
from safeguard.media.variants import (
    BANK_CROPS,
    BANK_ROTATIONS,
    bank_variant_names,
    crop_box,
)
from tests.media.conftest import scene


@settings(max_examples=60, deadline=None)
@given(st.integers(5, 3000))
def test_tent_weights_are_averaging_bands_inside_the_picture(n: int) -> None:
    start, weights = kernels.tent_weights(n)
    assert start.shape == (64,) and weights.shape[0] == 64
    assert (start >= 0).all() and (start + weights.shape[1] <= n).all()
    assert np.allclose(weights.sum(axis=1), 1.0, atol=1e-5)  # a filter that keeps the mean
    assert (weights >= 0).all()


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(5, 400), st.integers(5, 400))
def test_sampled_filter_equals_reference_up_to_rounding(seed: int, h: int, w: int) -> None:
    rng = np.random.default_rng(seed)
    luma = np.cumsum(rng.normal(0, 8, (h, w)), axis=1).astype(np.float32)  # smooth-ish
    luma = (luma - luma.min()) / max(float(np.ptp(luma)), 1.0) * 255
    expected, quality = pdq_from_luma(luma)
    value, sampled_quality = pdq_sampled_from_luma(luma)
    assert abs(sampled_quality - quality) <= 1
    if (h, w) == (64, 64):  # the reference does not filter a 64x64 input; both take its path
        assert value == expected
        return
    # The 16x16 DCT blocks agree up to float rounding ...
    reference, _ = dct_from_luma(luma)
    row_start, row_weights = kernels.tent_weights(h)
    col_start, col_weights = kernels.tent_weights(w)
    sampled, _ = kernels.dct16_and_quality_sampled(
        luma.astype(np.float32), _DCT, row_start, row_weights, col_start, col_weights)
    tolerance = 1e-4 * max(1.0, float(np.abs(reference).max()))
    assert np.allclose(sampled, reference, rtol=0, atol=tolerance)
    # ... so a hash bit can differ only for a coefficient within rounding of the median (a
    # picture a few pixels high has dozens of coefficients tied at ~0 with the median).
    ties = int((np.abs(reference - np.median(reference)) <= 2 * tolerance).sum())
    assert hamming_hex(value, expected) <= max(2, ties)


def test_sampled_filter_reads_crop_views_without_copying_them() -> None:
    luma = kernels.luma_from_rgb(scene(1, (640, 480)))
    view = luma[20:460, 30:610]
    assert not view.flags["C_CONTIGUOUS"]
    assert pdq_sampled_from_luma(view) == pdq_from_luma(np.ascontiguousarray(view))


def test_sampled_filter_rejects_bad_shapes_and_zeroes_tiny_pictures() -> None:
    with pytest.raises(ValueError, match="2-D"):
        pdq_sampled_from_luma(np.zeros((8, 8, 3), np.float32))
    assert pdq_sampled_from_luma(np.zeros((4, 100), np.float32)) == ("0" * 64, 0)


def test_bank_variant_names_are_unique_and_fit_the_bank_column() -> None:
    names = bank_variant_names()
    assert names[0] == "original"
    assert len(names) == len(set(names)) == 1 + len(BANK_CROPS) + len(BANK_ROTATIONS)
    assert all(len(name) <= 32 for name in names)  # BankEntry.variant is String(32)
    assert all(0 <= cut <= 10 for crop in BANK_CROPS for cut in crop)
    assert all(0 < abs(d) <= 5 for d in BANK_ROTATIONS)


def test_bank_variants_original_is_the_exportable_reference_hash() -> None:
    rgb = scene(6, (400, 300))
    variants = bank_variants(rgb)
    assert [v.variant for v in variants] == bank_variant_names()
    assert variants[0].value == pdq_from_pixels(rgb)[0]
    assert all(v.signal_type == "pdq" and len(v.value) == 64 for v in variants)


def test_crop_box_cuts_each_side_by_its_own_percent() -> None:
    assert crop_box((200, 400), 10, 5, 0, 20) == (10, 160, 40, 400)


@pytest.mark.parametrize("cut", [(7, 1, 3, 9), (0, 8, 9, 2), (10, 0, 0, 0)])
def test_asymmetric_crop_matches_a_bank_variant_but_not_the_original(
    cut: tuple[int, int, int, int],
) -> None:
    rgb = scene(12, (640, 480))
    top, bottom, left, right = crop_box(rgb.shape, *cut)
    query = pdq_from_pixels(np.ascontiguousarray(rgb[top:bottom, left:right]))[0]
    variants = bank_variants(rgb)
    assert hamming_hex(query, variants[0].value) > 31  # plain PDQ misses it
    assert min(hamming_hex(query, v.value) for v in variants) <= 31


def test_rotated_copy_matches_a_bank_variant() -> None:
    rgb = scene(13, (640, 480))
    turned = np.asarray(Image.fromarray(rgb).rotate(4, resample=Image.Resampling.BICUBIC))
    query = pdq_from_pixels(turned)[0]
    assert min(hamming_hex(query, v.value) for v in bank_variants(rgb)) <= 31


def _screen(picture: np.ndarray, page: tuple[int, int, int], size: tuple[int, int],
            box: tuple[int, int]) -> np.ndarray:
    """A benign app-like screen: coloured bar, caption lines, the picture, icons."""
    w, h = size
    canvas = Image.new("RGB", size, page)
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, w, 70), fill=(60, 90, 160))
    font = ImageFont.load_default(size=20)
    draw.text((20, 20), "gallery", fill=(255, 255, 255), font=font)
    left, top = box
    draw.text((left, top - 30), "a walk in the park today", fill=(20, 20, 20), font=font)
    canvas.paste(Image.fromarray(picture), (left, top))
    y = top + picture.shape[0] + 10
    for k in range(3):
        draw.ellipse((left + 40 * k, y, left + 40 * k + 24, y + 24), outline=(20, 20, 20))
    draw.rectangle((0, h - 80, w, h), fill=(200, 120, 60))
    return np.asarray(canvas)


@pytest.mark.parametrize("page", [(250, 250, 250), (25, 25, 25), (210, 230, 245)])
def test_picture_inside_a_screenshot_matches_through_a_framed_variant(
    page: tuple[int, int, int],
) -> None:
    rgb = scene(14, (480, 360))
    shot = _screen(rgb, page, (720, 1280), (120, 300))
    original = pdq_from_pixels(rgb)[0]
    assert hamming_hex(pdq_from_pixels(shot)[0], original) > 31
    framed = [v for v in query_variants(shot) if v.variant.startswith("framed")]
    assert framed and min(hamming_hex(v.value, original) for v in framed) <= 31


def test_dark_picture_on_a_light_page_is_found_even_when_black_dominates() -> None:
    # Most flat pixels are the picture's own black: chrome is judged outside each box.
    rgb = np.zeros((700, 720, 3), np.uint8)
    rng = np.random.default_rng(3)
    for _ in range(400):  # a night sky: small stars, black between them
        y, x = int(rng.integers(0, 690)), int(rng.integers(0, 710))
        rgb[y:y + 6, x:x + 6] = rng.integers(120, 256, 3)
    shot = _screen(rgb, (245, 245, 245), (720, 1280), (0, 200))
    original = pdq_from_pixels(rgb)[0]
    best = min(hamming_hex(v.value, original) for v in query_variants(shot))
    assert best <= 31
