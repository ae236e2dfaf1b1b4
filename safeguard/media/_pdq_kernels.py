"""Numba kernels that reproduce the PDQ reference C++ (facebook/ThreatExchange pdq/cpp)
operation by operation, in float32 and in the same order, so the result is bit-identical to
``pdqhash.compute``. Loops stay scalar on purpose: reordering a float sum changes low bits.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def luma_from_rgb(rgb: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    # pdqhash's binding computes luma in float64 with numpy (r*0.299 + g*0.587 + b*0.114,
    # left to right) and then casts to float32; doing the same keeps the hash identical to
    # the field's. ``rgb`` is C-contiguous HxWxC (C >= 3, extra channels ignored). One flat
    # loop per channel count: with a constant pixel stride LLVM vectorises the interleaved
    # loads (4x faster than 3-D indexing); the arithmetic and its order are unchanged.
    h, w, c = rgb.shape
    flat = rgb.reshape(-1)
    out = np.empty(h * w, np.float32)
    if c == 3:
        for k in range(h * w):
            out[k] = np.float32(
                flat[3 * k] * 0.299 + flat[3 * k + 1] * 0.587 + flat[3 * k + 2] * 0.114)
    elif c == 4:
        for k in range(h * w):
            out[k] = np.float32(
                flat[4 * k] * 0.299 + flat[4 * k + 1] * 0.587 + flat[4 * k + 2] * 0.114)
    else:
        for k in range(h * w):
            out[k] = np.float32(
                flat[c * k] * 0.299 + flat[c * k + 1] * 0.587 + flat[c * k + 2] * 0.114)
    return out.reshape(h, w)


@numba.njit(cache=True, nogil=True)
def _box_along_rows(src: np.ndarray, dst: np.ndarray, window: int) -> None:  # pragma: no cover
    h, w = src.shape
    half = (window + 2) // 2
    for i in range(h):
        total = np.float32(0.0)
        count = 0
        right = 0
        left = 0
        out = 0
        for _ in range(half - 1):
            total += src[i, right]
            count += 1
            right += 1
        for _ in range(window - half + 1):
            total += src[i, right]
            count += 1
            dst[i, out] = total / np.float32(count)
            right += 1
            out += 1
        for _ in range(w - window):
            total += src[i, right]
            total -= src[i, left]
            dst[i, out] = total / np.float32(count)
            left += 1
            right += 1
            out += 1
        for _ in range(half - 1):
            total -= src[i, left]
            count -= 1
            dst[i, out] = total / np.float32(count)
            left += 1
            out += 1


@numba.njit(cache=True, nogil=True)
def _box_along_cols(src: np.ndarray, dst: np.ndarray, window: int) -> None:  # pragma: no cover
    # Same arithmetic per column as the reference, but all columns advance together so the
    # inner loop is contiguous and vectorises; each column's own sum order is unchanged.
    h, w = src.shape
    half = (window + 2) // 2
    total = np.zeros(w, np.float32)
    count = 0
    right = 0
    left = 0
    out = 0
    for _ in range(half - 1):
        for j in range(w):
            total[j] += src[right, j]
        count += 1
        right += 1
    for _ in range(window - half + 1):
        count += 1
        c = np.float32(count)
        for j in range(w):
            total[j] += src[right, j]
            dst[out, j] = total[j] / c
        right += 1
        out += 1
    for _ in range(h - window):
        c = np.float32(count)
        for j in range(w):
            total[j] += src[right, j]
            total[j] -= src[left, j]
            dst[out, j] = total[j] / c
        left += 1
        right += 1
        out += 1
    for _ in range(half - 1):
        count -= 1
        c = np.float32(count)
        for j in range(w):
            total[j] -= src[left, j]
            dst[out, j] = total[j] / c
        left += 1
        out += 1


@numba.njit(cache=True, nogil=True)
def _dct64_to_16(a: np.ndarray, d: np.ndarray) -> np.ndarray:  # pragma: no cover
    t = np.empty((16, 64), np.float32)
    for i in range(16):
        for j in range(64):
            s = np.float32(0.0)
            for k in range(64):
                s += d[i, k] * a[k, j]
            t[i, j] = s
    b = np.empty((16, 16), np.float32)
    for i in range(16):
        for j in range(16):
            s = np.float32(0.0)
            for k in range(64):
                s += t[i, k] * d[j, k]
            b[i, j] = s
    return b


@numba.njit(cache=True, nogil=True)
def _quality(a: np.ndarray) -> int:  # pragma: no cover
    gradient_sum = 0
    hundred = np.float32(100.0)
    scale = np.float32(255.0)
    for i in range(63):
        for j in range(64):
            gradient_sum += abs(int(((a[i, j] - a[i + 1, j]) * hundred) / scale))
    for i in range(64):
        for j in range(63):
            gradient_sum += abs(int(((a[i, j] - a[i, j + 1]) * hundred) / scale))
    return min(gradient_sum // 90, 100)


@numba.njit(cache=True, nogil=True)
def dct16_and_quality(
    luma: np.ndarray, d: np.ndarray,
) -> tuple[np.ndarray, int]:  # pragma: no cover
    """Tent-filter (two box passes each way), decimate to 64x64, quality, 16x16 DCT.
    ``luma`` is overwritten, as in the reference."""
    h, w = luma.shape
    a = np.empty((64, 64), np.float32)
    if h == 64 and w == 64:
        # The reference skips filtering when the input is already 64x64 (video frames).
        a[:, :] = luma
    else:
        along_rows = (w + 127) // 128
        along_cols = (h + 127) // 128
        scratch = np.empty_like(luma)
        for _ in range(2):
            _box_along_rows(luma, scratch, along_rows)
            _box_along_cols(scratch, luma, along_cols)
        for oi in range(64):
            ii = int(((oi + 0.5) * h) / 64)
            for oj in range(64):
                jj = int(((oj + 0.5) * w) / 64)
                a[oi, oj] = luma[ii, jj]
    return _dct64_to_16(a, d), _quality(a)


def dct_matrix() -> np.ndarray:
    """The reference's 16x64 DCT-II rows 1..16, built with the same float/double mix."""
    scale = float(np.float32(math.sqrt(2.0 / 64.0)))
    d = np.empty((16, 64), np.float32)
    for i in range(16):
        for j in range(64):
            d[i, j] = scale * math.cos((math.pi / 2.0 / 64.0) * (i + 1) * (2 * j + 1))
    return d


@numba.njit(cache=True, nogil=True)
def tent_samples(
    luma: np.ndarray, row_start: np.ndarray, row_weights: np.ndarray,
    col_start: np.ndarray, col_weights: np.ndarray,
) -> np.ndarray:  # pragma: no cover
    """The 64x64 values the reference's decimation reads from its tent-filtered picture,
    computed directly: the two box passes each way are one linear operator, and only 64
    of its rows and 64 of its columns are ever sampled. Each sample weighs a band of
    ``row_weights.shape[1]`` rows starting at ``row_start`` (same for columns), so the
    cost is a few passes over 64 bands instead of four passes over every pixel. Equal to
    the reference up to float rounding (not bit-for-bit: the sum order differs)."""
    width = luma.shape[1]
    band_rows = row_weights.shape[1]
    band_cols = col_weights.shape[1]
    row = np.empty(width, np.float32)
    a = np.empty((64, 64), np.float32)
    for oi in range(64):
        row[:] = 0.0
        for k in range(band_rows):
            weight = row_weights[oi, k]
            src = luma[row_start[oi] + k]
            for j in range(width):
                row[j] += weight * src[j]
        for oj in range(64):
            total = np.float32(0.0)
            base = col_start[oj]
            for k in range(band_cols):
                total += col_weights[oj, k] * row[base + k]
            a[oi, oj] = total
    return a


@numba.njit(cache=True, nogil=True)
def dct16_and_quality_sampled(
    luma: np.ndarray, d: np.ndarray, row_start: np.ndarray, row_weights: np.ndarray,
    col_start: np.ndarray, col_weights: np.ndarray,
) -> tuple[np.ndarray, int]:  # pragma: no cover
    a = tent_samples(luma, row_start, row_weights, col_start, col_weights)
    return _dct64_to_16(a, d), _quality(a)


def _box_span(out: int, n: int, window: int) -> tuple[int, int]:
    # Pixels [lo, hi] the reference's running box averages for output ``out``.
    half = (window + 2) // 2
    return max(0, out - (window - half)), min(n - 1, out + half - 1)


def tent_weights(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Start index and weights of the band each of the reference's 64 samples along a side
    of ``n`` pixels reads after two box passes (with the reference's edge handling:
    windows shrink at the ends and divide by the pixels they hold)."""
    window = (n + 127) // 128
    rows = []
    for o in range(64):
        pick = int(((o + 0.5) * n) / 64)
        row: dict[int, float] = {}
        lo, hi = _box_span(pick, n, window)
        for m in range(lo, hi + 1):  # second pass reads first-pass outputs lo..hi
            mlo, mhi = _box_span(m, n, window)
            share = 1.0 / ((hi - lo + 1) * (mhi - mlo + 1))
            for k in range(mlo, mhi + 1):
                row[k] = row.get(k, 0.0) + share
        rows.append(row)
    band = min(n, max(max(r) - min(r) + 1 for r in rows))
    start = np.array([min(min(r), n - band) for r in rows], np.int64)
    weights = np.zeros((64, band), np.float32)
    for o, r in enumerate(rows):
        for k, value in r.items():
            weights[o, k - start[o]] = value
    return start, weights
