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
OUTSIDE_FLAT_STEP = 6.0  # looser "flat" for the pixels just outside a picture's side
KEEP_LINES = 14  # candidate lines per side type
EDGE_BUSY_WEIGHT = 2.0  # a side on the screen edge: support = 2 x non-chrome share inside
RECALL_WEIGHT = 0.3  # exponent of the recall term in the box score
CHROME_COLOURS = 4  # commonest flat colours considered as the frame's background
INNER_BAND = 3  # detection-scale pixels just inside each side
MIN_FRAME_FLAT = 0.4  # share of flat pixels outside a framed picture (chrome is mostly flat)


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


def _directional_evidence(small: np.ndarray) -> dict[str, np.ndarray]:
    """Where a pasted picture's side could run, one map per side. A top side at row y is a
    colour step between rows y-2 and y (two rows, because downscaling smears an edge that
    falls between reduced pixels) with flat pixels just outside it (row y-2): chrome
    around a picture is flat, while a photo's own edges (and a line of text) rarely have
    flat pixels along their whole length. Same for the other three sides."""
    h, w = small.shape[:2]
    # "Flat" along the side's own direction only: across it, the step into the picture
    # would leak into the outside row.
    along_x = np.zeros((h, w), np.float32)
    along_x[:, 1:] = np.abs(small[:, 1:] - small[:, :-1]).max(axis=2)
    along_x[:, :-1] = np.maximum(along_x[:, :-1], along_x[:, 1:])
    along_y = np.zeros((h, w), np.float32)
    along_y[1:] = np.abs(small[1:] - small[:-1]).max(axis=2)
    along_y[:-1] = np.maximum(along_y[:-1], along_y[1:])
    flat_x = along_x <= OUTSIDE_FLAT_STEP
    flat_y = along_y <= OUTSIDE_FLAT_STEP
    top = np.zeros((h, w), bool)
    bottom = np.zeros((h, w), bool)
    left = np.zeros((h, w), bool)
    right = np.zeros((h, w), bool)
    rows = np.abs(small[2:] - small[:-2]).max(axis=2) > EDGE_STEP  # step across rows i, i+2
    cols = np.abs(small[:, 2:] - small[:, :-2]).max(axis=2) > EDGE_STEP
    top[2:] = rows & flat_x[:-2]  # picture starts at row i+2, outside row i is flat
    bottom[:-2] = rows & flat_x[2:]  # picture ends at row i+1 (index fixed below)
    left[:, 2:] = cols & flat_y[:, :-2]
    right[:, :-2] = cols & flat_y[:, 2:]
    # A bottom side at row y means rows < y are inside; the flat outside row is y+1 and the
    # step runs between y-1 and y+1. Shift the map so its index is the exclusive bound.
    bottom = np.roll(bottom, 1, axis=0)
    bottom[0] = False
    right = np.roll(right, 1, axis=1)
    right[:, 0] = False
    return {"top": top, "bottom": bottom, "left": left, "right": right}


def _line_candidates(edges: np.ndarray, min_share: float, keep: int) -> np.ndarray:
    """Rows of ``edges`` whose boundary pixels cover at least ``min_share`` of the width."""
    share = edges.mean(axis=1)
    order = np.argsort(-share)
    picked: list[int] = []
    for idx in order:
        if share[idx] < min_share or len(picked) >= keep:
            break
        if all(abs(int(idx) - p) > 1 for p in picked):
            picked.append(int(idx))
    return np.array(sorted(picked), dtype=np.int64)


def _support(prefix: np.ndarray, line: np.ndarray, start: np.ndarray,
             stop: np.ndarray) -> np.ndarray:
    """Share of each segment [start, stop) on ``line`` that is boundary."""
    length = np.maximum(stop - start, 1)
    safe_line = np.clip(line, 0, prefix.shape[0] - 1)
    return (prefix[safe_line, stop] - prefix[safe_line, start]) / length


def _summed(mask: np.ndarray) -> np.ndarray:
    integral = np.zeros((mask.shape[0] + 1, mask.shape[1] + 1), np.float32)
    integral[1:, 1:] = mask.cumsum(0).cumsum(1)
    return integral


def _blank_line_colours(small: np.ndarray, flat: np.ndarray) -> list[np.ndarray]:
    """Colours of rows or columns that are one flat colour end to end: the gaps between a
    screen's elements. A picture rarely has such a line; a page always does."""
    colours: dict[int, np.ndarray] = {}
    for axis in (1, 0):
        lines = flat.mean(axis=axis) >= 0.98
        spread = (small.max(axis=axis) - small.min(axis=axis)).max(axis=1)
        means = small.mean(axis=axis)
        for colour in means[lines & (spread <= 24)]:
            code = int(colour[0] // 16) * 256 + int(colour[1] // 16) * 16 + int(colour[2] // 16)
            colours.setdefault(code, colour)
    return list(colours.values())[:8]


def _flat_colour_integrals(
    small: np.ndarray,
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Summed-area tables of flat pixels; of flat pixels of each of the commonest flat
    colours; and of "chrome" for each of them: that colour or a blank-line colour."""
    step = np.zeros(small.shape[:2], np.float32)
    step[1:, :] = np.abs(small[1:] - small[:-1]).max(axis=2)
    step[:, 1:] = np.maximum(step[:, 1:], np.abs(small[:, 1:] - small[:, :-1]).max(axis=2))
    flat = step <= FLAT_STEP
    per_colour: list[np.ndarray] = []
    chrome: list[np.ndarray] = []
    if flat.any():
        blank = np.zeros_like(flat)
        for colour in _blank_line_colours(small, flat):
            blank |= np.abs(small - colour).max(axis=2) <= 12
        blank &= flat
        levels = (small[flat] // 16).astype(np.int32)
        codes, counts = np.unique(levels[:, 0] * 256 + levels[:, 1] * 16 + levels[:, 2],
                                  return_counts=True)
        for code in codes[np.argsort(-counts)][:CHROME_COLOURS]:
            centre = (np.array([code // 256, (code // 16) % 16, code % 16]) + 0.5) * 16
            mine = flat & (np.abs(small - centre).max(axis=2) <= 12)
            per_colour.append(_summed(mine))
            chrome.append(_summed(mine | blank))
    return _summed(flat), per_colour, chrome


def _box_sum(integral: np.ndarray, y0: np.ndarray, y1: np.ndarray, x0: np.ndarray,
             x1: np.ndarray) -> np.ndarray:
    return integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]


def _prefix_along_rows(mask: np.ndarray) -> np.ndarray:
    out = np.zeros((mask.shape[0], mask.shape[1] + 1), np.float32)
    out[:, 1:] = np.cumsum(mask, axis=1)
    return out


def find_framed_pictures(small: np.ndarray, factor: int, limit: int = 2) -> list[Box]:
    """Up to ``limit`` boxes (full-size pixels) of pictures pasted inside a larger frame,
    best first. ``small`` and ``factor`` come from ``small_copy``."""
    h, w = small.shape[:2]
    if h < 16 or w < 16:
        return []
    maps = _directional_evidence(small)
    tops = np.concatenate(([0], _line_candidates(maps["top"], 0.15, KEEP_LINES)))
    bottoms = np.concatenate((_line_candidates(maps["bottom"], 0.15, KEEP_LINES), [h]))
    lefts = np.concatenate(([0], _line_candidates(maps["left"].T, 0.15, KEEP_LINES)))
    rights = np.concatenate((_line_candidates(maps["right"].T, 0.15, KEEP_LINES), [w]))
    t, b, lft, r = np.meshgrid(tops, bottoms, lefts, rights, indexing="ij")
    t, b, lft, r = t.ravel(), b.ravel(), lft.ravel(), r.ravel()
    area = (b - t) * (r - lft) / float(h * w)
    ok = (b - t > h * 0.2) & (r - lft > w * 0.2) & (area >= MIN_AREA) & (area <= MAX_AREA)
    t, b, lft, r = t[ok], b[ok], lft[ok], r[ok]
    flat_integral, colour_integrals, chrome_integrals = _flat_colour_integrals(small)
    if t.size == 0 or not colour_integrals:
        return []
    inside_area = ((b - t) * (r - lft)).astype(np.float32)
    outside_area = np.maximum(h * w - inside_area, 1)
    outside_flat = (flat_integral[h, w] - _box_sum(flat_integral, t, b, lft, r)) / outside_area
    # The frame's background ("chrome") is the commonest flat colour OUTSIDE each box: a
    # dark photo's own black, or a cartoon's flat fills, must not count as chrome.
    stacked = np.stack(chrome_integrals)
    outside = np.stack([ci[h, w] - _box_sum(ci, t, b, lft, r) for ci in colour_integrals])
    chosen = np.argmax(outside, axis=0)

    def chrome(y0: np.ndarray, y1: np.ndarray, x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
        return (stacked[chosen, y1, x1] - stacked[chosen, y0, x1] - stacked[chosen, y1, x0]
                + stacked[chosen, y0, x0])

    def chrome_share(y0: np.ndarray, y1: np.ndarray, x0: np.ndarray,
                     x1: np.ndarray) -> np.ndarray:
        return chrome(y0, y1, x0, x1) / np.maximum((y1 - y0) * (x1 - x0), 1)

    band = INNER_BAND
    bands = np.stack([  # chrome just inside each side: top, bottom, left, right
        chrome_share(t, t + band, lft, r), chrome_share(b - band, b, lft, r),
        chrome_share(t, b, lft, lft + band), chrome_share(t, b, r - band, r),
    ])
    # A side on the screen's own edge has no step to show; it counts as supported unless
    # the strip just inside it is chrome (a box stretched over a status bar or blank page).
    at_edge = np.stack([t == 0, b == h, lft == 0, r == w])
    edge_support = np.clip(EDGE_BUSY_WEIGHT * (1.0 - bands), 0.0, 1.0)
    sides = np.stack([
        _support(_prefix_along_rows(maps["top"]), t, lft, r),
        _support(_prefix_along_rows(maps["bottom"]), b, lft, r),
        _support(_prefix_along_rows(maps["left"].T), lft, t, b),
        _support(_prefix_along_rows(maps["right"].T), r, t, b),
    ])
    sides = np.where(at_edge, edge_support, sides)
    real_sides = (~at_edge).sum(axis=0)
    weakest = sides.min(axis=0)
    worst_band = np.where(at_edge, 0.0, bands).max(axis=0)
    # The picture should hold most of the frame's non-chrome pixels (recall) and little
    # chrome (precision); a box around the whole content area or a patch of the photo
    # scores less.
    inside_chrome = chrome(t, b, lft, r)
    total_chrome = stacked[chosen, h, w]
    recall = (inside_area - inside_chrome) / np.maximum(h * w - total_chrome, 1)
    precision = 1.0 - inside_chrome / np.maximum(inside_area, 1)
    # Recall is damped (cube-ish root): it must not pay for a caption row or the action
    # icons under the picture, which are busy too.
    score = (weakest ** 2 * sides.mean(axis=0) * recall ** RECALL_WEIGHT * precision
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
