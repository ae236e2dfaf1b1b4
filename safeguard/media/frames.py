"""Find the picture inside a query: uniform borders / letterbox bars, and the pasted
picture inside a screenshot-like frame (status bars, captions, buttons).

Both return boxes (top, bottom, left, right) in pixel coordinates of the input, so the
caller crops the full-resolution luminance and hashes the crop.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

Box = tuple[int, int, int, int]  # top, bottom, left, right (bottom/right exclusive)

BORDER_TOLERANCE = 10.0  # luma/colour spread still counted as "flat" (JPEG noise)
MIN_TRIM_SHARE = 0.005  # ignore trims smaller than 0.5 % of a side: PDQ does not notice them
DETECT_SIDE = 400  # frame search runs on a copy at most this many pixels on its long side
EDGE_STEP = 18  # colour step that counts as a picture boundary at detection scale
MIN_SIDE_SUPPORT = 0.45  # share of a candidate side that must lie on a boundary
MIN_AREA, MAX_AREA = 0.15, 0.97  # picture's share of the frame
FLAT_STEP = 3.0  # neighbour step below which a pixel counts as flat chrome
INNER_BAND = 3  # detection-scale pixels just inside each side
MIN_FRAME_FLAT = 0.4  # share of background-coloured flat pixels around a framed picture


def _flat_prefix(values: np.ndarray, spread: np.ndarray) -> int:
    """How many leading lines are flat and the same colour as the first one."""
    same = (np.abs(values - values[0]).max(axis=1) <= BORDER_TOLERANCE) & (
        spread <= BORDER_TOLERANCE
    )
    not_same = np.flatnonzero(~same)
    return int(not_same[0]) if not_same.size else len(same)


def trim_borders(small: np.ndarray, factor: int) -> Box | None:
    """Box inside uniform borders or letterbox bars (full-size pixels), or None.
    ``small`` and ``factor`` come from ``small_copy``."""
    h, w = small.shape[:2]
    row_mean, row_spread = small.mean(axis=1), small.std(axis=1).max(axis=1)
    col_mean, col_spread = small.mean(axis=0), small.std(axis=0).max(axis=1)
    top = _flat_prefix(row_mean, row_spread)
    if top >= h:
        return None  # a blank picture has no inside
    bottom = h - _flat_prefix(row_mean[::-1], row_spread[::-1])
    left = _flat_prefix(col_mean, col_spread)
    right = w - _flat_prefix(col_mean[::-1], col_spread[::-1])
    if bottom - top < h * 0.1 or right - left < w * 0.1:
        return None
    trimmed = max(top, h - bottom) / h, max(left, w - right) / w
    if max(trimmed) < MIN_TRIM_SHARE:
        return None
    return top * factor, bottom * factor, left * factor, right * factor


def small_copy(rgb: np.ndarray) -> tuple[np.ndarray, int]:
    """Box-reduced float copy (long side <= DETECT_SIDE) and the reduction factor."""
    h, w = rgb.shape[:2]
    factor = max(1, -(-max(h, w) // DETECT_SIDE))
    image = Image.fromarray(np.ascontiguousarray(rgb[:, :, :3]))
    if factor > 1:
        image = image.reduce(factor)
    return np.asarray(image, dtype=np.float32), factor


def _boundary_maps(small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # A pasted picture's edge is a straight colour step; widen by one pixel to absorb the
    # blur of downscaling and JPEG.
    horiz = np.zeros(small.shape[:2], bool)
    vert = np.zeros(small.shape[:2], bool)
    horiz[1:] = np.abs(small[1:] - small[:-1]).max(axis=2) > EDGE_STEP
    vert[:, 1:] = np.abs(small[:, 1:] - small[:, :-1]).max(axis=2) > EDGE_STEP
    horiz[1:-1] |= horiz[2:] | horiz[:-2]
    vert[:, 1:-1] |= vert[:, 2:] | vert[:, :-2]
    return horiz, vert


def _line_candidates(edges: np.ndarray, min_share: float, keep: int) -> np.ndarray:
    """Rows of ``edges`` whose boundary pixels cover at least ``min_share`` of the width."""
    share = edges.mean(axis=1)
    order = np.argsort(-share)
    picked: list[int] = []
    for idx in order:
        if share[idx] < min_share or len(picked) >= keep:
            break
        if all(abs(int(idx) - p) > 2 for p in picked):
            picked.append(int(idx))
    return np.array(sorted(picked), dtype=np.int64)


def _support(prefix: np.ndarray, line: np.ndarray, start: np.ndarray, stop: np.ndarray,
             at_edge: np.ndarray) -> np.ndarray:
    """Share of each segment [start, stop) on ``line`` that is boundary; frame edges count
    as fully supported (the picture may touch the screenshot's edge)."""
    length = np.maximum(stop - start, 1)
    safe_line = np.clip(line, 0, prefix.shape[0] - 1)
    covered = prefix[safe_line, stop] - prefix[safe_line, start]
    return np.where(at_edge, 1.0, covered / length)


def _summed(mask: np.ndarray) -> np.ndarray:
    integral = np.zeros((mask.shape[0] + 1, mask.shape[1] + 1), np.float32)
    integral[1:, 1:] = mask.cumsum(0).cumsum(1)
    return integral


def _chrome_integrals(small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Summed-area tables of flat pixels and of "chrome": flat pixels of the frame's
    background colour (the commonest flat colour). A photo's smooth parts are flat too,
    but rarely exactly that colour."""
    step = np.zeros(small.shape[:2], np.float32)
    step[1:, :] = np.abs(small[1:] - small[:-1]).max(axis=2)
    step[:, 1:] = np.maximum(step[:, 1:], np.abs(small[:, 1:] - small[:, :-1]).max(axis=2))
    flat = step <= FLAT_STEP
    chrome = np.zeros_like(flat)
    if flat.any():
        levels = (small[flat] // 16).astype(np.int32)
        codes, counts = np.unique(levels[:, 0] * 256 + levels[:, 1] * 16 + levels[:, 2],
                                  return_counts=True)
        code = int(codes[np.argmax(counts)])
        centre = (np.array([code // 256, (code // 16) % 16, code % 16]) + 0.5) * 16
        chrome = flat & (np.abs(small - centre).max(axis=2) <= 12)
    return _summed(flat), _summed(chrome)


def find_framed_pictures(small: np.ndarray, factor: int, limit: int = 2) -> list[Box]:
    """Up to ``limit`` boxes (full-size pixels) of pictures pasted inside a larger frame,
    best first. ``small`` and ``factor`` come from ``small_copy``."""
    h, w = small.shape[:2]
    if h < 16 or w < 16:
        return []
    horiz, vert = _boundary_maps(small)
    rows = _line_candidates(horiz, 0.2, 12)
    cols = _line_candidates(vert.T, 0.2, 12)
    tops = np.concatenate(([0], rows))
    bottoms = np.concatenate((rows, [h]))
    lefts = np.concatenate(([0], cols))
    rights = np.concatenate((cols, [w]))
    t, b, lft, r = np.meshgrid(tops, bottoms, lefts, rights, indexing="ij")
    t, b, lft, r = t.ravel(), b.ravel(), lft.ravel(), r.ravel()
    area = (b - t) * (r - lft) / float(h * w)
    ok = (b - t > h * 0.2) & (r - lft > w * 0.2) & (area >= MIN_AREA) & (area <= MAX_AREA)
    t, b, lft, r, area = t[ok], b[ok], lft[ok], r[ok], area[ok]
    if t.size == 0:
        return []
    hp = np.zeros((h, w + 1), np.float32)
    hp[:, 1:] = np.cumsum(horiz, axis=1)
    vp = np.zeros((w, h + 1), np.float32)
    vp[:, 1:] = np.cumsum(vert.T, axis=1)
    sides = np.stack([
        _support(hp, t, lft, r, t == 0),
        _support(hp, b, lft, r, b == h),
        _support(vp, lft, t, b, lft == 0),
        _support(vp, r, t, b, r == w),
    ])
    real_sides = (t > 0).astype(int) + (b < h) + (lft > 0) + (r < w)
    weakest = sides.min(axis=0)
    integral = _chrome_integrals(small)[1]
    inside_flat = integral[b, r] - integral[t, r] - integral[b, lft] + integral[t, lft]
    inside_area = (b - t) * (r - lft)
    outside_flat = (integral[h, w] - inside_flat) / np.maximum(h * w - inside_area, 1)
    # The picture should hold most of the frame's detail (recall) and little flat chrome
    # (precision); a box around the whole content area or a patch of the photo scores less.
    busy_inside = inside_area - inside_flat
    busy_total = max(float(h * w - integral[h, w]), 1.0)
    precision = busy_inside / np.maximum(inside_area, 1)
    # A pasted picture's content reaches all four of its sides; a box that also holds a
    # band of the frame's background has a strip of chrome just inside at least one side.
    band = INNER_BAND

    def chrome_share(y0: np.ndarray, y1: np.ndarray, x0: np.ndarray,
                     x1: np.ndarray) -> np.ndarray:
        area = np.maximum((y1 - y0) * (x1 - x0), 1)
        return (integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]) / area

    worst_band = np.max([
        chrome_share(t, t + band, lft, r), chrome_share(b - band, b, lft, r),
        chrome_share(t, b, lft, lft + band), chrome_share(t, b, r - band, r),
    ], axis=0)
    score = (sides.mean(axis=0) * (busy_inside / busy_total) * precision
             * (1.0 - worst_band) ** 2)
    good = (weakest >= MIN_SIDE_SUPPORT) & (real_sides >= 2) & (outside_flat >= MIN_FRAME_FLAT)
    score = np.where(good, score, -1.0)
    boxes: list[Box] = []
    for idx in np.argsort(-score):
        if score[idx] < 0 or len(boxes) >= limit:
            break
        box = (int(t[idx]) * factor, int(b[idx]) * factor,
               int(lft[idx]) * factor, int(r[idx]) * factor)
        if all(_iou(box, other) < 0.9 for other in boxes):
            boxes.append(box)
    return boxes


def _iou(a: Box, b: Box) -> float:
    top, bottom = max(a[0], b[0]), min(a[1], b[1])
    left, right = max(a[2], b[2]), min(a[3], b[3])
    inter = max(0, bottom - top) * max(0, right - left)
    union = (a[1] - a[0]) * (a[3] - a[2]) + (b[1] - b[0]) * (b[3] - b[2]) - inter
    return inter / union if union else 0.0


def _strongest_step(lines: np.ndarray) -> int:
    """Index i (>= 1) where lines[i] differs most from lines[i - 1]."""
    steps = np.abs(np.diff(lines.astype(np.int16), axis=0)).max(axis=-1).mean(axis=1)
    return int(np.argmax(steps)) + 1


def refine_box(rgb: np.ndarray, box: Box, factor: int) -> Box:
    """Snap each inner side of a box found at detection scale to the strongest colour step
    within ``2 * factor`` pixels at full size: PDQ notices a 1 % misplaced side."""
    h, w = rgb.shape[:2]
    top, bottom, left, right = box
    reach = 2 * factor
    x0, x1 = left + reach, max(left + reach + 1, right - reach)
    y0, y1 = top + reach, max(top + reach + 1, bottom - reach)
    if top > 0:
        lo = max(0, top - reach - 1)
        top = lo + _strongest_step(rgb[lo:min(h, top + reach + 1), x0:x1])
    if bottom < h:
        lo = max(0, bottom - reach - 1)
        bottom = lo + _strongest_step(rgb[lo:min(h, bottom + reach + 1), x0:x1])
    if left > 0:
        lo = max(0, left - reach - 1)
        cols = rgb[y0:y1, lo:min(w, left + reach + 1)].swapaxes(0, 1)
        left = lo + _strongest_step(cols)
    if right < w:
        lo = max(0, right - reach - 1)
        cols = rgb[y0:y1, lo:min(w, right + reach + 1)].swapaxes(0, 1)
        right = lo + _strongest_step(cols)
    if bottom - top < 8 or right - left < 8:
        return box
    return top, bottom, left, right
