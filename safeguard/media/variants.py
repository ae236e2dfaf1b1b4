"""Robust variants: extra PDQ hashes that let a lightly edited copy still match.

Query side (works against any external bank of plain PDQ hashes): the 8 dihedral
variants, the picture with uniform borders trimmed, and pictures found inside a
screenshot-like frame. Bank side (for banks built from images the operator holds): small
centred crops and small rotations, chosen by measurement
(docs/decisions/007-media-robust-variants.md).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from safeguard.media import _pdq_kernels as kernels
from safeguard.media.frames import (
    Box,
    find_framed_pictures,
    refine_box,
    small_copy,
    trim_borders,
)
from safeguard.media.pdq import pdq_dihedral_from_luma, pdq_from_luma
from safeguard.media.result import HashResult

# Greedy set cover over random centred crops (0-10 % a side) and rotations (±5°) on benign
# images: these 12 variants lifted recall from 0.02 / 0.08 to about 0.95 / 0.99.
BANK_CROP_PERCENTS = (2, 3, 4, 6, 7, 9)
BANK_ROTATION_DEGREES = (2, 3, 5, -2, -3, -5)


def _crop(luma: np.ndarray, box: Box) -> np.ndarray:
    top, bottom, left, right = box
    return luma[top:bottom, left:right]


def _pdq_result(luma: np.ndarray, variant: str) -> HashResult:
    value, quality = pdq_from_luma(luma)
    return HashResult("pdq", value, quality, variant)


def query_variants_from_luma(luma: np.ndarray, rgb: np.ndarray) -> list[HashResult]:
    results = [
        HashResult("pdq", value, quality, name)
        for name, (value, quality) in pdq_dihedral_from_luma(luma).items()
    ]
    seen: list[Box] = []
    small, factor = small_copy(rgb)
    trimmed = trim_borders(small, factor)
    if trimmed is not None:
        trimmed = refine_box(rgb, trimmed, factor)
        seen.append(trimmed)
        results.append(_pdq_result(_crop(luma, trimmed), "trimmed"))
    for rank, found in enumerate(find_framed_pictures(small, factor), start=1):
        box = refine_box(rgb, found, factor)
        if any(_close(box, other, luma.shape) for other in seen):
            continue
        seen.append(box)
        results.append(_pdq_result(_crop(luma, box), f"framed{rank}"))
    return results


def query_variants(rgb: np.ndarray) -> list[HashResult]:
    """PDQ of the picture plus the variants a query needs: 8 dihedral (original first),
    border/letterbox-trimmed, and up to two pictures found inside a screenshot frame."""
    return query_variants_from_luma(kernels.luma_from_rgb(np.ascontiguousarray(rgb)), rgb)


def _close(a: Box, b: Box, shape: tuple[int, ...]) -> bool:
    tolerance = 0.005 * max(shape[0], shape[1])
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def _rotate(luma: np.ndarray, degrees: float) -> np.ndarray:
    # Same canvas, black corners: what a "straighten" edit without zoom leaves behind.
    # 8-bit bilinear is several times faster than float bicubic; PDQ blurs the difference away.
    image = Image.fromarray(np.clip(np.rint(luma), 0, 255).astype(np.uint8))
    return np.asarray(image.rotate(degrees, resample=Image.Resampling.BILINEAR))


def bank_variants(rgb: np.ndarray) -> list[HashResult]:
    """PDQ of the original plus centred crops and small rotations, for banks built from
    pictures the operator holds (queries are then matched against all of them)."""
    luma = kernels.luma_from_rgb(np.ascontiguousarray(rgb))
    h, w = luma.shape
    results = [_pdq_result(luma, "original")]
    for percent in BANK_CROP_PERCENTS:
        dy, dx = round(h * percent / 100), round(w * percent / 100)
        results.append(_pdq_result(luma[dy:h - dy, dx:w - dx], f"crop{percent}"))
    for degrees in BANK_ROTATION_DEGREES:
        results.append(_pdq_result(_rotate(luma, degrees), f"rotate{degrees:+d}"))
    return results
