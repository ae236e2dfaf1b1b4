"""Robust variants: extra PDQ hashes that let a lightly edited copy still match.

Query side (works against any external bank of plain PDQ hashes): the 8 dihedral
variants, the picture with uniform borders trimmed, and pictures found inside a
screenshot-like frame. Bank side (for banks built from images the operator holds): crops
of up to 10 % a side (centred and asymmetric) and rotations up to 5 degrees, chosen by
measurement (docs/decisions/007-media-robust-variants.md).
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
from safeguard.media.pdq import (
    pdq_dihedral_from_luma,
    pdq_from_luma,
    pdq_sampled_from_luma,
)
from safeguard.media.result import HashResult

# Chosen by greedy set cover on 77 training pictures disjoint from the benchmark's
# (`benchmarks/tune_bank_variants.py -n 80 --threshold 26 --coverage 0.98
# --max-variants 400`; decision 007), in the order
# greedy picked them. Crops: percent cut from the (left, top, right, bottom)
# sides. Rotations: degrees, same canvas.
BANK_CROPS: tuple[tuple[int, int, int, int], ...] = (
    (4, 4, 4, 4), (2, 2, 2, 2), (8, 8, 8, 8), (6, 6, 6, 6), (8, 0, 0, 0), (0, 8, 0, 0),
    (2, 2, 2, 4), (0, 0, 8, 0), (2, 2, 4, 2), (4, 4, 2, 2), (0, 0, 0, 8), (6, 2, 4, 4),
    (2, 4, 4, 0), (2, 4, 6, 4), (2, 6, 2, 8), (4, 4, 8, 6), (4, 2, 0, 2), (4, 6, 8, 2),
    (4, 8, 2, 6), (6, 4, 6, 2), (2, 2, 4, 4), (6, 4, 2, 8), (0, 0, 4, 0), (4, 2, 8, 8),
    (6, 8, 4, 2), (6, 4, 2, 6), (8, 2, 8, 8), (8, 2, 2, 8), (8, 6, 8, 4), (2, 6, 8, 8),
    (2, 8, 8, 4), (8, 6, 2, 4), (8, 8, 2, 2), (2, 8, 2, 2), (4, 0, 4, 0), (8, 4, 8, 6),
    (8, 8, 4, 6), (10, 10, 10, 10), (2, 2, 8, 2), (2, 4, 0, 4), (4, 8, 6, 2), (6, 2, 8, 2),
    (0, 4, 2, 2), (2, 4, 4, 8), (2, 8, 6, 6), (4, 2, 2, 6), (6, 2, 0, 0), (8, 6, 4, 8),
    (8, 8, 8, 2), (8, 2, 2, 4), (8, 6, 6, 4), (2, 6, 8, 6), (0, 6, 0, 0), (2, 0, 6, 4),
    (4, 2, 6, 8), (4, 8, 6, 8), (8, 8, 2, 8), (0, 0, 0, 6), (2, 8, 8, 0), (6, 10, 4, 6),
    (8, 0, 4, 8), (8, 4, 6, 8), (0, 2, 6, 8), (2, 6, 2, 4), (2, 6, 4, 6), (2, 6, 8, 2),
    (4, 8, 2, 8), (8, 2, 0, 6), (6, 8, 8, 4), (8, 4, 2, 2), (0, 4, 8, 4), (2, 0, 8, 8),
    (4, 4, 8, 4), (4, 8, 6, 10), (6, 2, 4, 2), (6, 6, 2, 2), (8, 2, 8, 4), (10, 4, 6, 2),
    (0, 0, 2, 4), (2, 2, 0, 8), (4, 2, 2, 0), (4, 8, 8, 6), (6, 0, 2, 4), (6, 2, 6, 10),
    (6, 6, 4, 8), (6, 6, 6, 2), (8, 4, 8, 2), (2, 0, 0, 4), (2, 8, 2, 6), (2, 10, 8, 8),
    (4, 2, 6, 2), (4, 10, 2, 2), (6, 0, 6, 6), (6, 4, 8, 10), (10, 8, 6, 4), (0, 4, 8, 6),
    (0, 6, 4, 2), (6, 2, 2, 8), (6, 8, 0, 6), (6, 8, 8, 0), (8, 2, 6, 6), (8, 6, 0, 2),
    (8, 6, 4, 4), (10, 6, 10, 4), (0, 0, 0, 10), (0, 8, 6, 2), (2, 2, 4, 10), (2, 8, 2, 10),
    (2, 10, 0, 4), (4, 0, 4, 2), (4, 2, 10, 6), (6, 4, 8, 2), (6, 4, 8, 6), (8, 6, 0, 8),
    (8, 8, 6, 8), (10, 0, 2, 8), (10, 2, 6, 8), (0, 8, 4, 8), (2, 4, 6, 8), (2, 4, 10, 0),
    (2, 6, 6, 0), (2, 10, 4, 6), (4, 4, 4, 0), (4, 8, 10, 2), (6, 8, 2, 4), (6, 10, 2, 10),
    (8, 0, 4, 0), (8, 8, 0, 0), (8, 8, 4, 10), (8, 8, 10, 8), (10, 0, 0, 0), (10, 8, 2, 10),
    (10, 8, 10, 2), (0, 6, 8, 4), (0, 10, 2, 0), (2, 0, 6, 0), (2, 4, 10, 10), (4, 2, 4, 8),
    (4, 4, 6, 6), (4, 6, 0, 6), (6, 0, 0, 8), (6, 4, 0, 6), (6, 10, 6, 4), (8, 2, 4, 6),
    (8, 4, 6, 4), (10, 2, 8, 10), (0, 0, 8, 6), (0, 2, 4, 2), (0, 4, 2, 8), (0, 8, 8, 2),
    (2, 2, 4, 0), (2, 2, 10, 4), (2, 8, 10, 6), (2, 10, 10, 2), (4, 0, 0, 2), (4, 0, 8, 2),
    (4, 2, 2, 10), (4, 4, 2, 8), (4, 8, 8, 8), (6, 2, 8, 8), (6, 6, 6, 10), (6, 6, 10, 4),
    (6, 8, 4, 0), (8, 4, 4, 0), (10, 2, 2, 2), (10, 2, 8, 2), (10, 8, 2, 6), (10, 10, 8, 8),
    (0, 0, 2, 8), (0, 0, 10, 0), (0, 4, 0, 2), (0, 6, 8, 8), (0, 8, 8, 8), (0, 10, 0, 8),
    (2, 0, 6, 8), (2, 4, 6, 2), (2, 6, 6, 8), (2, 8, 6, 2), (2, 8, 6, 4), (4, 0, 10, 4),
    (4, 2, 6, 4), (4, 2, 8, 10), (4, 4, 10, 8), (4, 8, 0, 2), (4, 8, 8, 0), (4, 10, 4, 10),
    (4, 10, 6, 8), (6, 0, 0, 0), (6, 4, 8, 0), (6, 6, 8, 6), (6, 8, 2, 6), (8, 2, 4, 4),
    (8, 4, 2, 8), (8, 4, 6, 0), (8, 6, 10, 10), (8, 10, 4, 2), (10, 4, 2, 6), (10, 8, 8, 10),
    (0, 10, 6, 10), (2, 0, 8, 0), (2, 4, 0, 0), (2, 6, 0, 4), (2, 6, 8, 0), (2, 10, 4, 2),
    (4, 0, 2, 8), (4, 2, 2, 2), (4, 2, 8, 0), (4, 4, 2, 6), (4, 8, 4, 4), (4, 8, 8, 4),
    (4, 10, 0, 8), (4, 10, 6, 2), (4, 10, 8, 10), (6, 0, 0, 4), (6, 4, 8, 8), (6, 6, 2, 0),
    (6, 8, 0, 8), (6, 8, 8, 10), (8, 0, 0, 6), (8, 0, 8, 4), (8, 0, 8, 8), (8, 2, 0, 0),
    (8, 2, 2, 10), (8, 2, 8, 0), (8, 4, 4, 6), (8, 6, 0, 4), (8, 6, 2, 10), (8, 10, 2, 4),
    (8, 10, 8, 0), (8, 10, 8, 6), (10, 0, 4, 4), (10, 4, 8, 6), (10, 4, 8, 10), (10, 6, 4, 4),
    (10, 8, 0, 8), (0, 0, 2, 2), (0, 0, 4, 6), (0, 0, 10, 6), (0, 4, 8, 8), (0, 8, 2, 6),
    (0, 8, 4, 0), (0, 10, 8, 8), (2, 4, 2, 10), (2, 4, 8, 0), (2, 6, 6, 6), (2, 10, 2, 6),
    (4, 0, 6, 6), (4, 2, 2, 4), (4, 2, 4, 6), (4, 4, 0, 6), (4, 4, 4, 10), (4, 4, 6, 4),
    (4, 6, 2, 10), (4, 10, 6, 6), (6, 0, 10, 4), (6, 2, 2, 2), (6, 4, 0, 8), (6, 8, 0, 0),
    (6, 8, 6, 2), (6, 8, 6, 8), (6, 10, 4, 4), (8, 0, 6, 0), (8, 4, 0, 10), (8, 4, 10, 2),
    (8, 6, 0, 0), (8, 8, 4, 8), (8, 8, 10, 2), (8, 8, 10, 4), (8, 8, 10, 6), (8, 10, 4, 8),
    (10, 0, 4, 0), (10, 2, 10, 2), (10, 4, 4, 2), (10, 4, 6, 0), (10, 6, 10, 0), (10, 8, 2, 4),
    (10, 8, 6, 2), (10, 8, 8, 6), (10, 10, 2, 0), (0, 0, 2, 0), (0, 0, 2, 10), (0, 0, 4, 2),
    (0, 0, 8, 10), (0, 2, 0, 2), (0, 2, 4, 8), (0, 2, 6, 6), (0, 2, 10, 10), (0, 4, 2, 0),
    (0, 4, 2, 10), (0, 4, 6, 4), (0, 6, 0, 2), (0, 6, 0, 4), (0, 6, 2, 8), (0, 6, 4, 4),
    (0, 6, 8, 10), (0, 8, 4, 10), (0, 8, 8, 10), (0, 10, 0, 0), (0, 10, 6, 0), (0, 10, 6, 4),
    (0, 10, 10, 0), (2, 6, 4, 8), (2, 8, 0, 6), (2, 10, 4, 10), (2, 10, 10, 8), (4, 0, 0, 6),
    (4, 0, 8, 8), (4, 2, 4, 4), (4, 4, 2, 4), (4, 4, 8, 8), (4, 4, 10, 6), (4, 6, 2, 8),
    (4, 8, 6, 4),
)
BANK_ROTATIONS: tuple[float, ...] = (3.0, -2.5, -4.5, 4.5, 1.5, -1.0)


def _crop(luma: np.ndarray, box: Box) -> np.ndarray:
    top, bottom, left, right = box
    return luma[top:bottom, left:right]


def _pdq_result(luma: np.ndarray, variant: str) -> HashResult:
    value, quality = pdq_from_luma(luma)
    return HashResult("pdq", value, quality, variant)


def _sampled_result(luma: np.ndarray, variant: str) -> HashResult:
    # Crops and rotations: the sampled filter reads a view without copying it and is
    # several times faster; it equals the reference up to float rounding.
    value, quality = pdq_sampled_from_luma(luma)
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
        results.append(_sampled_result(_crop(luma, trimmed), "trimmed"))
    for rank, found in enumerate(find_framed_pictures(small, factor), start=1):
        box = refine_box(rgb, found, factor)
        if any(_close(box, other, luma.shape) for other in seen):
            continue
        seen.append(box)
        results.append(_sampled_result(_crop(luma, box), f"framed{rank}"))
    return results


def query_variants(rgb: np.ndarray) -> list[HashResult]:
    """PDQ of the picture plus the variants a query needs: 8 dihedral (original first),
    border/letterbox-trimmed, and up to two pictures found inside a screenshot frame."""
    return query_variants_from_luma(kernels.luma_from_rgb(np.ascontiguousarray(rgb)), rgb)


def _close(a: Box, b: Box, shape: tuple[int, ...]) -> bool:
    tolerance = 0.005 * max(shape[0], shape[1])
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def crop_box(shape: tuple[int, ...], left: float, top: float, right: float,
             bottom: float) -> Box:
    """Pixel box (top, bottom, left, right) of a picture with each side cut by a percent."""
    h, w = shape[0], shape[1]
    return (round(h * top / 100), h - round(h * bottom / 100),
            round(w * left / 100), w - round(w * right / 100))


def rotate_luma(luma: np.ndarray, degrees: float) -> np.ndarray:
    """Same canvas, black corners: what a "straighten" edit without zoom leaves behind.
    8-bit bilinear is several times faster than float bicubic; PDQ blurs the difference."""
    image = Image.fromarray(np.clip(np.rint(luma), 0, 255).astype(np.uint8))
    return np.asarray(image.rotate(degrees, resample=Image.Resampling.BILINEAR))


def bank_variant_names() -> list[str]:
    """Names ``bank_variants`` gives its hashes, in order (stored with each bank entry)."""
    return (["original"] + ["crop{}-{}-{}-{}".format(*cut) for cut in BANK_CROPS]
            + [f"rotate{degrees:+g}" for degrees in BANK_ROTATIONS])


def bank_variants(rgb: np.ndarray) -> list[HashResult]:
    """PDQ of the original plus crops and small rotations, for banks built from pictures
    the operator holds (queries are then matched against all of them). The original is
    the reference PDQ (exportable); variants use the sampled filter, equal up to float
    rounding and several times faster."""
    luma = kernels.luma_from_rgb(np.ascontiguousarray(rgb))
    names = iter(bank_variant_names())
    results = [_pdq_result(luma, next(names))]
    for cut in BANK_CROPS:
        top, bottom, left, right = crop_box(luma.shape, *cut)
        results.append(_sampled_result(luma[top:bottom, left:right], next(names)))
    for degrees in BANK_ROTATIONS:
        results.append(_sampled_result(rotate_luma(luma, degrees), next(names)))
    return results
