"""PDQ perceptual hash, bit-identical to ``pdqhash`` / threatexchange's ``PdqSignal``.

Hex layout: bit k = 16*row + col of the 16x16 DCT block is worth 2**k in a 256-bit
big-endian number, which is how the reference (and every field hash list) prints it.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from safeguard.media import _pdq_kernels as kernels

PDQ_BITS = 256
MIN_HASHABLE_SIDE = 5  # the reference returns an all-zero hash, quality 0, below this
_DCT = kernels.dct_matrix()
_ZERO_HASH = "0" * 64

DIHEDRAL_NAMES = (
    "original", "rotate90", "rotate180", "rotate270", "flipx", "flipy", "flipplus1", "flipminus1",
)

# Sign patterns from the reference's dct16OriginalTo* functions: a dihedral move of the
# picture only transposes the DCT block and flips the sign of odd/even frequencies.
_EVEN = (np.arange(16) % 2 == 0)
_ROW_SIGN = np.where(_EVEN, -1.0, 1.0).astype(np.float32)[:, None]  # - for even rows
_COL_SIGN = np.where(_EVEN, -1.0, 1.0).astype(np.float32)[None, :]
_CHECKER = np.where((np.add.outer(np.arange(16), np.arange(16)) % 2) == 1, -1.0, 1.0).astype(
    np.float32
)


def _bits_to_hex(dct16: np.ndarray) -> str:
    flat = dct16.ravel()
    # torben() in the reference returns the lower median (the 128th smallest of 256).
    median = np.partition(flat, 127)[127]
    bits = flat > median
    return np.packbits(bits[::-1]).tobytes().hex()


def _as_rgb(rgb: np.ndarray) -> np.ndarray:
    if rgb.ndim != 3 or rgb.shape[2] < 3:
        raise ValueError(f"expected an HxWx3 RGB array, got shape {rgb.shape}")
    if rgb.dtype != np.uint8:
        raise ValueError(f"expected uint8 pixels, got {rgb.dtype}")
    return np.ascontiguousarray(rgb[:, :, :3])


def dct_from_luma(luma: np.ndarray) -> tuple[np.ndarray, int]:
    """16x16 float DCT block and quality from a 2-D luminance array (copied, not changed)."""
    work = np.array(luma, dtype=np.float32, order="C", copy=True)
    return kernels.dct16_and_quality(work, _DCT)


def pdq_from_luma(luma: np.ndarray) -> tuple[str, int]:
    """PDQ of a 2-D luminance array (0..255), e.g. `decode_rgb_luma`'s output."""
    if luma.ndim != 2:
        raise ValueError(f"expected a 2-D luminance array, got shape {luma.shape}")
    if min(luma.shape) < MIN_HASHABLE_SIDE:
        return _ZERO_HASH, 0
    dct16, quality = dct_from_luma(luma)
    return _bits_to_hex(dct16), int(quality)


@lru_cache(maxsize=256)
def _tent_weights(n: int) -> tuple[np.ndarray, np.ndarray]:
    return kernels.tent_weights(n)


def pdq_sampled_from_luma(luma: np.ndarray) -> tuple[str, int]:
    """PDQ of a 2-D luminance array computed only where the reference samples: several
    times faster than ``pdq_from_luma`` and equal to it up to float rounding (a bit can
    flip only when a coefficient ties the median). ``luma`` may be a crop view; it is not
    copied, which is what makes dozens of crop variants cheap."""
    if luma.ndim != 2:
        raise ValueError(f"expected a 2-D luminance array, got shape {luma.shape}")
    h, w = luma.shape
    if min(h, w) < MIN_HASHABLE_SIDE:
        return _ZERO_HASH, 0
    if (h, w) == (64, 64):  # the reference does not filter a 64x64 input at all
        return pdq_from_luma(luma)
    if luma.dtype != np.float32:
        luma = luma.astype(np.float32)
    row_start, row_weights = _tent_weights(h)
    col_start, col_weights = _tent_weights(w)
    dct16, quality = kernels.dct16_and_quality_sampled(
        luma, _DCT, row_start, row_weights, col_start, col_weights)
    return _bits_to_hex(dct16), int(quality)


def pdq_from_pixels(rgb: np.ndarray) -> tuple[str, int]:
    """PDQ hex (64 chars) and quality (0-100) of an RGB uint8 HxWx3 array."""
    rgb = _as_rgb(rgb)
    if min(rgb.shape[:2]) < MIN_HASHABLE_SIDE:
        return _ZERO_HASH, 0
    return pdq_from_luma(kernels.luma_from_rgb(rgb))


def pdq_sampled_from_pixels(rgb: np.ndarray) -> tuple[str, int]:
    """``pdq_from_pixels`` with the filter computed only where PDQ samples
    (``pdq_sampled_from_luma``) on the very same luma: several times faster, and equal to
    it unless a DCT coefficient ties the median within float rounding (decision 005)."""
    rgb = _as_rgb(rgb)
    if min(rgb.shape[:2]) < MIN_HASHABLE_SIDE:
        return _ZERO_HASH, 0
    return pdq_sampled_from_luma(kernels.luma_from_rgb(rgb))


def dihedral_dcts(dct16: np.ndarray) -> dict[str, np.ndarray]:
    """DCT blocks of the 8 rotations/flips of a picture, derived from its own block."""
    return {
        "original": dct16,
        "rotate90": (dct16 * _COL_SIGN).T,
        "rotate180": dct16 * _CHECKER,
        "rotate270": (dct16 * _ROW_SIGN).T,
        "flipx": dct16 * _ROW_SIGN,
        "flipy": dct16 * _COL_SIGN,
        "flipplus1": dct16.T,
        "flipminus1": (dct16 * _CHECKER).T,
    }


def pdq_dihedral_from_luma(luma: np.ndarray) -> dict[str, tuple[str, int]]:
    if min(luma.shape) < MIN_HASHABLE_SIDE:
        return {name: (_ZERO_HASH, 0) for name in DIHEDRAL_NAMES}
    dct16, quality = dct_from_luma(luma)
    return {name: (_bits_to_hex(block), int(quality))
            for name, block in dihedral_dcts(dct16).items()}


def pdq_dihedral_from_pixels(rgb: np.ndarray) -> dict[str, tuple[str, int]]:
    """PDQ of all 8 dihedral variants (one filter pass, the rest from the DCT block)."""
    rgb = _as_rgb(rgb)
    if min(rgb.shape[:2]) < MIN_HASHABLE_SIDE:
        return {name: (_ZERO_HASH, 0) for name in DIHEDRAL_NAMES}
    return pdq_dihedral_from_luma(kernels.luma_from_rgb(rgb))
