"""Robustness benchmark: how often an edited copy of a benign picture still matches.

    python benchmarks/bench_robustness.py [--quick] [-n 120] [--plot /tmp/robustness.png]

Columns: plain PDQ of the query (full decode, and ``hash_bytes(fast=True)``) against
a bank holding only the plain PDQ of each original (what external hash lists hold);
``query_variants`` of the query against that same plain bank; and ``query_variants``
against ``bank_variants`` of the original (banks built from pictures the operator holds).
False matches count any query variant within the threshold of a bank variant of an
unrelated original. Benign images only (see _images.py); nothing is written to disk.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps
from rich.console import Console
from rich.progress import Progress, TimeElapsedColumn
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _images import CorpusImage, corpus, encode, generated_scene  # noqa: E402

from safeguard.media import (  # noqa: E402
    HashResult,
    bank_variants,
    decode_image,
    hamming_hex,
    hash_bytes,
    pdq_from_pixels,
    query_variants,
)

THRESHOLD = 31

# ---------------------------------------------------------------------------------------
# Edits a re-shared picture typically goes through
Edit = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def _img(rgb: np.ndarray) -> Image.Image:
    return Image.fromarray(rgb)


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(c) for c in rng.integers(0, 256, 3))  # type: ignore[return-value]


def jpeg(quality: int) -> Edit:
    def edit(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        buf = io.BytesIO()
        _img(rgb).save(buf, "JPEG", quality=quality)
        return np.asarray(Image.open(buf).convert("RGB"))
    return edit


def resize(scale: float) -> Edit:
    def edit(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        h, w = rgb.shape[:2]
        size = (max(8, int(w * scale)), max(8, int(h * scale)))
        return np.asarray(_img(rgb).resize(size, Image.Resampling.BILINEAR))
    return edit


def _crop(rgb: np.ndarray, left: float, top: float, right: float, bottom: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    return rgb[int(round(h * top)):h - int(round(h * bottom)),
               int(round(w * left)):w - int(round(w * right))]


def crop(percent: float) -> Edit:
    return lambda rgb, rng: _crop(rgb, *(percent / 100,) * 4)


def crop_random(max_percent: float) -> Edit:
    """Each side cut independently by 0..max_percent (asymmetric)."""
    return lambda rgb, rng: _crop(rgb, *rng.uniform(0, max_percent / 100, 4))


def crop_one_side(percent: float) -> Edit:
    def edit(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        sides = [0.0, 0.0, 0.0, 0.0]
        sides[int(rng.integers(0, 4))] = percent / 100
        return _crop(rgb, *sides)
    return edit


def rotate(degrees: float) -> Edit:
    def edit(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        sign = 1 if rng.random() < 0.5 else -1
        return np.asarray(_img(rgb).rotate(sign * degrees, resample=Image.Resampling.BICUBIC))
    return edit


def flip(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.ascontiguousarray(rgb[:, ::-1])


def turn90(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.ascontiguousarray(np.rot90(rgb, 1 if rng.random() < 0.5 else -1))


def border(percent: float) -> Edit:
    def edit(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        h, w = rgb.shape[:2]
        fill = _colour(rng) if rng.random() < 0.5 else (0, 0, 0) if rng.random() < 0.5 else (
            255, 255, 255)
        return np.asarray(ImageOps.expand(
            _img(rgb), (int(w * percent / 100), int(h * percent / 100)), fill=fill))
    return edit


def letterbox(percent: float) -> Edit:
    """Black bars above and below (or left and right), as when fitting another aspect."""
    def edit(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        h, w = rgb.shape[:2]
        pad = (0, int(h * percent / 100)) if rng.random() < 0.5 else (int(w * percent / 100), 0)
        return np.asarray(ImageOps.expand(_img(rgb), pad, fill=(0, 0, 0)))
    return edit


def _words(rng: np.random.Generator, n: int) -> str:
    return " ".join(
        "".join(chr(int(c)) for c in rng.integers(97, 123, int(rng.integers(2, 9))))
        for _ in range(n)
    )


def screenshot(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The picture pasted in a synthetic app screen: bars, captions, buttons."""
    return screenshot_with_box(rgb, rng)[0]


def _chrome_background(rng: np.random.Generator) -> tuple[tuple[int, int, int], bool]:
    """A screen background: light or dark grey, or a tinted app colour."""
    kind = rng.random()
    if kind < 0.35:
        return (int(rng.integers(228, 256)),) * 3, False
    if kind < 0.6:
        return (int(rng.integers(0, 45)),) * 3, True
    dark = rng.random() < 0.4
    lo, hi = (10, 70) if dark else (200, 250)
    return tuple(int(c) for c in rng.integers(lo, hi, 3)), dark  # type: ignore[return-value]


def screenshot_with_box(
    rgb: np.ndarray, rng: np.random.Generator,
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Frames vary on purpose (the finder must not be tuned to one app): phone or desktop
    canvas, grey, dark or tinted background, top bar 3-15 % high (sometimes the same colour
    as the page), bottom bar or none, user name with an avatar, captions of 1-3 lines in
    several sizes above and/or below, action icons, a side list, rounded picture corners,
    a thin outline, and a small second thumbnail."""
    phone = rng.random() < 0.5
    cw, ch = (int(rng.choice([720, 750, 1080])), int(rng.choice([1280, 1334, 1600]))) \
        if phone else (int(rng.choice([1280, 1366, 1440])), int(rng.choice([720, 800, 900])))
    bg, dark = _chrome_background(rng)
    fg = (230, 230, 230) if dark else (30, 30, 30)
    canvas = Image.new("RGB", (cw, ch), bg)
    draw = ImageDraw.Draw(canvas)
    bar = int(ch * rng.uniform(0.03, 0.15))
    bar_colour = bg if rng.random() < 0.25 else _colour(rng)
    draw.rectangle((0, 0, cw, bar), fill=bar_colour)
    draw.text((20, bar // 4), _words(rng, int(rng.integers(1, 4))), fill=fg if bar_colour == bg
              else (255, 255, 255), font=ImageFont.load_default(size=max(12, bar // 2)))
    bottom_bar = int(ch * rng.uniform(0.04, 0.1)) if rng.random() < 0.7 else 0
    if bottom_bar:
        draw.rectangle((0, ch - bottom_bar, cw, ch), fill=_colour(rng))
        for k in range(int(rng.integers(3, 6))):
            x = int(cw * (k + 0.5) / 5)
            r = bottom_bar // 3
            draw.ellipse((x - r, ch - bottom_bar // 2 - r, x + r, ch - bottom_bar // 2 + r),
                         fill=fg)
    side = 0 if phone else int(cw * rng.uniform(0.12, 0.3))
    margin = 0 if phone and rng.random() < 0.5 else int(cw * rng.uniform(0.02, 0.12))
    left = side + margin
    size = int(rng.integers(14, 30))
    font = ImageFont.load_default(size=size)
    header = int(rng.integers(0, 2)) * (size + 24)  # user name row with an avatar
    above = int(rng.integers(0, 3)) * (size + 6)
    below = int(rng.integers(1, 4)) * (size + 6)
    top = bar + int(rng.uniform(0.01, 0.05) * ch) + header + above
    avail_w = cw - left - margin
    avail_h = ch - top - below - bottom_bar - 60
    h, w = rgb.shape[:2]
    scale = min(avail_w / w, avail_h / h)
    pw, ph = int(w * scale), int(h * scale)
    if not phone and rng.random() < 0.5:
        left += (avail_w - pw) // 2  # centred in the content column
    if header:
        y = top - above - header + 6
        draw.ellipse((left, y, left + size + 12, y + size + 12), fill=_colour(rng))
        draw.text((left + size + 24, y + 4), _words(rng, 2), fill=fg, font=font)
    for line in range(above // (size + 6)):
        draw.text((left, top - above + line * (size + 6)), _words(rng, 5), fill=fg, font=font)
    picture = _img(rgb).resize((pw, ph), Image.Resampling.LANCZOS)
    if rng.random() < 0.3:  # rounded corners, as many apps draw them
        mask = Image.new("L", (pw, ph), 0)
        ImageDraw.Draw(mask).rounded_rectangle((0, 0, pw - 1, ph - 1),
                                               radius=int(rng.integers(8, 24)), fill=255)
        canvas.paste(picture, (left, top), mask)
    else:
        canvas.paste(picture, (left, top))
        if rng.random() < 0.25:  # a thin outline around the picture
            draw.rectangle((left - 1, top - 1, left + pw, top + ph), outline=fg)
    y = top + ph + 8
    if rng.random() < 0.5:  # like / comment / share icons
        for k in range(3):
            draw.ellipse((left + k * 40, y, left + k * 40 + 24, y + 24), outline=fg, width=2)
        y += 32
    for line in range(below // (size + 6)):
        draw.text((left, y + line * (size + 6)), _words(rng, 6), fill=fg, font=font)
    if side:
        for k in range(int(rng.integers(4, 12))):
            draw.text((15, bar + 30 + 40 * k), _words(rng, 2), fill=fg,
                      font=ImageFont.load_default(size=18))
        if rng.random() < 0.5:  # a small thumbnail of something else in the side list
            thumb = Image.fromarray(generated_scene(int(rng.integers(0, 1 << 30)), (160, 120)))
            canvas.paste(thumb, (15, ch - bottom_bar - 140))
    return np.asarray(canvas), (top, top + ph, left, left + pw)


def caption(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    image = _img(rgb).copy()
    w, h = image.size
    draw = ImageDraw.Draw(image)
    size = max(12, h // 14)
    y = int(h * rng.uniform(0.05, 0.8))
    draw.text((int(w * 0.05), y), _words(rng, 4), fill=_colour(rng),
              font=ImageFont.load_default(size=size), stroke_width=2, stroke_fill=(0, 0, 0))
    return np.asarray(image)


def watermark(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    base = _img(rgb).convert("RGBA")
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    w, h = base.size
    font = ImageFont.load_default(size=max(12, h // 8))
    draw.text((w * 0.1, h * 0.4), _words(rng, 2).upper(), fill=(255, 255, 255, 110), font=font)
    layer = layer.rotate(float(rng.uniform(-30, 30)))
    return np.asarray(Image.alpha_composite(base, layer).convert("RGB"))


def colour(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    image = _img(rgb)
    image = ImageEnhance.Brightness(image).enhance(float(rng.uniform(0.75, 1.25)))
    image = ImageEnhance.Contrast(image).enhance(float(rng.uniform(0.75, 1.25)))
    image = ImageEnhance.Color(image).enhance(float(rng.uniform(0.0, 1.5)))
    return np.asarray(image)


# Edits grouped by the bank the target is measured against.
EXTERNAL_TARGETS = ("border", "letterbox", "screenshot", "flip", "turn90")
IMAGE_BANK_TARGETS = ("crop", "rotate")

EDITS: dict[str, Edit] = {
    "jpeg q50": jpeg(50),
    "resize 50%": resize(0.5),
    "crop 1%": crop(1), "crop 2%": crop(2), "crop 5%": crop(5), "crop 10%": crop(10),
    "crop random 0-5% a side": crop_random(5),
    "crop random 0-10% a side": crop_random(10),
    "crop one side 10%": crop_one_side(10),
    "rotate 1°": rotate(1), "rotate 2°": rotate(2), "rotate 5°": rotate(5),
    "flip horizontal": flip,
    "turn90 ±90°": turn90,
    "border 2%": border(2), "border 5%": border(5), "border 10%": border(10),
    "letterbox 10%": letterbox(10), "letterbox 20%": letterbox(20),
    "screenshot frame": screenshot,
    "caption text": caption,
    "watermark": watermark,
    "colour change": colour,
}


# ---------------------------------------------------------------------------------------
# Measurement


def _bits(hexes: list[str]) -> np.ndarray:
    """Hex hashes as (n, 4) uint64 words for fast all-pairs Hamming distances."""
    raw = np.frombuffer(b"".join(bytes.fromhex(h) for h in hexes), dtype=">u8")
    return raw.astype(np.uint64).reshape(-1, 4)


def _min_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each row of ``a``, the smallest Hamming distance to any row of ``b``."""
    out = np.full(len(a), 256, np.int64)
    for start in range(0, len(a), 512):
        chunk = a[start:start + 512, None, :] ^ b[None, :, :]
        out[start:start + 512] = np.bitwise_count(chunk).sum(axis=2).min(axis=1)
    return out


@dataclass
class Query:
    original: int
    edit: str
    plain_full: str
    plain_fast: str
    variants: list[str]


def _pdq(results: list[HashResult]) -> str:
    return next(r.value for r in results if r.signal_type == "pdq")


def run(n: int, seed: int, plot: str | None) -> None:
    console = Console(width=150)
    images = [im for im in corpus(n, seed=seed) if pdq_from_pixels(im.rgb)[1] >= 50]
    console.print(f"{len(images)} benign originals of quality >= 50 (of {n} generated)")
    rng = np.random.default_rng(seed)
    plain_bank: list[str] = []
    image_bank: list[tuple[int, str]] = []
    cost = {"plain PDQ": 0.0, "query_variants": 0.0, "bank_variants": 0.0}
    queries: list[Query] = []
    with Progress(*Progress.get_default_columns(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("editing and hashing", total=len(images))
        for idx, item in enumerate(images):
            t0 = time.perf_counter()
            plain_bank.append(pdq_from_pixels(item.rgb)[0])
            t1 = time.perf_counter()
            image_bank += [(idx, r.value) for r in bank_variants(item.rgb)]
            t2 = time.perf_counter()
            cost["plain PDQ"] += t1 - t0
            cost["bank_variants"] += t2 - t1
            for name, edit in EDITS.items():
                data = encode(edit(item.rgb, rng), "JPEG", quality=90)
                label = f"{item.name}/{name}"
                full = _pdq(hash_bytes(data, label=label, signal_types=("pdq",), fast=False))
                fast = _pdq(hash_bytes(data, label=label, signal_types=("pdq",), fast=True))
                t3 = time.perf_counter()
                variants = [r.value for r in query_variants(decode_image(data, label=label))]
                cost["query_variants"] += time.perf_counter() - t3
                queries.append(Query(idx, name, full, fast, variants))
            bar.advance(task)
    _report(console, images, queries, plain_bank, image_bank, cost, plot)


def _report(console: Console, images: list[CorpusImage], queries: list[Query],
            plain_bank: list[str], image_bank: list[tuple[int, str]],
            cost: dict[str, float], plot: str | None) -> None:
    groups = [im.group for im in images]
    plain = _bits(plain_bank)
    bank_owner = np.array([i for i, _ in image_bank])
    bank_group = np.array(groups)[bank_owner]
    bank_bits = _bits([h for _, h in image_bank])
    rows: dict[str, list[list[bool]]] = {name: [[], [], [], []] for name in EDITS}
    false_matches = 0
    closest_unrelated = 256
    for q in queries:
        own = plain[q.original:q.original + 1]
        mine = bank_bits[bank_owner == q.original]
        others = bank_group != groups[q.original]
        qv = _bits(q.variants)
        cells = rows[q.edit]
        cells[0].append(bool(_min_distance(_bits([q.plain_full]), own)[0] <= THRESHOLD))
        cells[1].append(bool(_min_distance(_bits([q.plain_fast]), own)[0] <= THRESHOLD))
        cells[2].append(bool(_min_distance(qv, own).min() <= THRESHOLD))
        cells[3].append(bool(_min_distance(qv, mine).min() <= THRESHOLD))
        unrelated = _min_distance(qv, bank_bits[others]).min()
        closest_unrelated = min(closest_unrelated, int(unrelated))
        false_matches += int(unrelated <= THRESHOLD)
    table = Table(title=f"PDQ match recall at Hamming <= {THRESHOLD} ({len(images)} originals)")
    for col in ("edit", "plain, full decode", "plain, fast", "query_variants",
                "query + bank_variants", "target"):
        table.add_column(col, justify="left" if col == "edit" else "right")
    recalls: dict[str, list[float]] = {}
    for name, cells in rows.items():
        recalls[name] = [float(np.mean(c)) for c in cells]
        target = ("≥0.90 (external bank)" if name.split()[0] in EXTERNAL_TARGETS
                  else "≥0.90 (image bank)" if name.split()[0] in IMAGE_BANK_TARGETS else "")
        table.add_row(name, *(f"{r:.2f}" for r in recalls[name]), target)
    console.print(table)
    _fast_report(console, queries, rows)
    pairs = [(i, j) for i in range(len(images)) for j in range(i + 1, len(images))
             if groups[i] != groups[j]]
    plain_d = [int(np.bitwise_count(plain[i] ^ plain[j]).sum()) for i, j in pairs]
    summary = Table(title="False matches and cost")
    summary.add_column("measure")
    summary.add_column("value", justify="right")
    summary.add_row("unrelated original pairs", f"{len(pairs):,}")
    summary.add_row("closest unrelated pair, plain PDQ", f"{min(plain_d)} bits")
    summary.add_row("false matches, plain PDQ pairs", str(sum(d <= THRESHOLD for d in plain_d)))
    summary.add_row("closest unrelated, any query variant vs any bank variant",
                    f"{closest_unrelated} bits")
    summary.add_row("queries with a false match (variants vs image bank)", str(false_matches))
    per = len(images)
    for name, seconds in cost.items():
        per_image = seconds / (per * (len(EDITS) if name == "query_variants" else 1)) * 1000
        summary.add_row(f"{name} time a 1024x768 picture", f"{per_image:.1f} ms")
    summary.add_row("bank_variants hashes per picture", str(len(image_bank) // per))
    console.print(summary)
    if plot:
        written = _plot(recalls, plot)
        console.print(f"plot written to {plot}" if written else
                      "no plot: matplotlib is not installed (pip install -e '.[bench]')")


def _fast_report(console: Console, queries: list[Query],
                 rows: dict[str, list[list[bool]]]) -> None:
    """How far ``fast=True`` moves the plain query hash from the full decode's, and
    whether that ever changes a match: the fast path must not lose recall."""
    drift = [hamming_hex(q.plain_full, q.plain_fast) for q in queries]
    lost = sum(f and not s for c in rows.values() for f, s in zip(c[0], c[1], strict=True))
    gained = sum(s and not f for c in rows.values() for f, s in zip(c[0], c[1], strict=True))
    lower = [name for name, c in rows.items() if np.mean(c[1]) < np.mean(c[0])]
    console.print(
        f"fast vs full plain PDQ over {len(queries):,} queries: median "
        f"{np.median(drift):.0f}, p99 {np.percentile(drift, 99):.1f}, max {max(drift)} bits; "
        f"identical {sum(d == 0 for d in drift):,}; matches lost {lost}, gained {gained}; "
        f"edits with lower fast recall: {', '.join(lower) or 'none'}"
    )


def _plot(recalls: dict[str, list[float]], path: str) -> bool:
    """False when matplotlib is missing (it comes with the bench extra)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    names = list(recalls)
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(names) + 1.5))
    labels = ("plain PDQ", "query_variants", "query + bank_variants")
    for k, (col, label) in enumerate(zip((0, 2, 3), labels, strict=True)):
        ax.barh(y + (k - 1) * 0.27, [recalls[n][col] for n in names], height=0.27, label=label)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.axvline(0.9, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel(f"recall at Hamming <= {THRESHOLD} (dashed: the 0.9 target)")
    ax.set_xlim(0, 1.02)
    # above the axes, so no bar is hidden behind it
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="30 originals instead of 120")
    parser.add_argument("-n", type=int, default=120, help="number of originals")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", help="write a recall bar chart (PNG) to this path")
    args = parser.parse_args()
    run(30 if args.quick else args.n, args.seed, args.plot)


if __name__ == "__main__":
    main()
