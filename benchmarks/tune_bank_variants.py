"""Choose ``bank_variants`` by measurement: greedy set cover on TRAINING pictures.

    python benchmarks/tune_bank_variants.py [-n 40] [--threshold 28] [--coverage 0.95]

Pictures come from ``_images.training_corpus`` (matplotlib's sample photo, terrain maps,
an MRI slice, 1/f landscapes, generated scenes): none of them, nor any crop of them, is in
the corpus bench_robustness.py reports on, so the reported recall is held out.

Candidates: every crop box with each side cut by 0, 2, 4, 6, 8 or 10 % (1,296 boxes, the
uncut picture among them) and rotations of ±0.5° … ±5° on the same canvas. Queries: the
edits issue 2 targets (centred, asymmetric and one-side crops up to 10 % a side, 1 %
crops, rotations up to 5°), JPEG q90 like the benchmark. A candidate covers a query of
the same picture when their PDQ distance is at most ``--threshold`` (below the matcher's
31, a margin for pictures not seen here). Greedy picks, one at a time, the candidate that
covers most still-uncovered queries, until every family reaches ``--coverage``.
Benign images only; nothing is written to disk.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress, TimeElapsedColumn
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _images import encode, training_corpus  # noqa: E402

from safeguard.media import _pdq_kernels as kernels  # noqa: E402
from safeguard.media import decode_image, pdq_from_pixels  # noqa: E402
from safeguard.media.pdq import pdq_sampled_from_luma  # noqa: E402
from safeguard.media.variants import crop_box, rotate_luma  # noqa: E402

CUTS = (0, 2, 4, 6, 8, 10)  # percent a side
ROTATIONS = tuple(d / 2 for d in range(1, 11)) + tuple(-d / 2 for d in range(1, 11))


@dataclass(frozen=True)
class Candidate:
    kind: str  # "crop" or "rotate"
    value: tuple[float, ...]  # (left, top, right, bottom) percent, or (degrees,)

    @property
    def label(self) -> str:
        if self.kind == "rotate":
            return f"rotate {self.value[0]:+g}°"
        return "crop l{:g} t{:g} r{:g} b{:g}".format(*self.value)


CANDIDATES = [Candidate("crop", tuple(float(c) for c in box))
              for box in itertools.product(CUTS, repeat=4)]
CANDIDATES += [Candidate("rotate", (d,)) for d in ROTATIONS]

Query = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def _cut(rgb: np.ndarray, left: float, top: float, right: float, bottom: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    return rgb[int(round(h * top)):h - int(round(h * bottom)),
               int(round(w * left)):w - int(round(w * right))]


def _rotate_rgb(rgb: np.ndarray, degrees: float) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(rgb).rotate(degrees, resample=Image.Resampling.BICUBIC))


def _one_side(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    sides = [0.0] * 4
    sides[int(rng.integers(0, 4))] = float(rng.uniform(0.05, 0.10))
    return _cut(rgb, *sides)


# Family -> (queries per picture, edit). Shares follow the benchmark's rows.
FAMILIES: dict[str, tuple[int, Query]] = {
    "crop centred 0-10%": (6, lambda rgb, rng: _cut(rgb, *(rng.uniform(0, 0.1),) * 4)),
    "crop 1%": (2, lambda rgb, rng: _cut(rgb, 0.01, 0.01, 0.01, 0.01)),
    "crop random 0-5% a side": (6, lambda rgb, rng: _cut(rgb, *rng.uniform(0, 0.05, 4))),
    "crop random 0-10% a side": (30, lambda rgb, rng: _cut(rgb, *rng.uniform(0, 0.10, 4))),
    "crop one side 5-10%": (4, _one_side),
    "rotate 0.5-5°": (8, lambda rgb, rng: _rotate_rgb(
        rgb, float(rng.uniform(0.5, 5.0) * (1 if rng.random() < 0.5 else -1)))),
}


def candidate_hashes(rgb: np.ndarray) -> np.ndarray:
    """(len(CANDIDATES), 4) uint64 PDQ words of every candidate of one picture."""
    luma = kernels.luma_from_rgb(np.ascontiguousarray(rgb))
    out = []
    for cand in CANDIDATES:
        if cand.kind == "crop":
            top, bottom, left, right = crop_box(luma.shape, *cand.value)
            value = pdq_sampled_from_luma(luma[top:bottom, left:right])[0]
        else:
            value = pdq_sampled_from_luma(rotate_luma(luma, cand.value[0]))[0]
        out.append(value)
    return _words(out)


def _words(hexes: list[str]) -> np.ndarray:
    raw = np.frombuffer(b"".join(bytes.fromhex(h) for h in hexes), dtype=">u8")
    return raw.astype(np.uint64).reshape(-1, 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=40, help="training pictures")
    parser.add_argument("--threshold", type=int, default=28)
    parser.add_argument("--coverage", type=float, default=0.95,
                        help="stop when every family is covered this well")
    parser.add_argument("--max-variants", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    console = Console(width=120)
    rng = np.random.default_rng(args.seed)
    pictures = [p for p in training_corpus(args.n, seed=args.seed)
                if pdq_from_pixels(p.rgb)[1] >= 50]
    console.print(f"{len(pictures)} training pictures of quality >= 50; "
                  f"{len(CANDIDATES)} candidates")
    covers: list[np.ndarray] = []  # per query: bool over candidates
    family_of: list[str] = []
    with Progress(*Progress.get_default_columns(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("hashing candidates and queries", total=len(pictures))
        for picture in pictures:
            cands = candidate_hashes(picture.rgb)
            for family, (count, edit) in FAMILIES.items():
                for _ in range(count):
                    data = encode(np.ascontiguousarray(edit(picture.rgb, rng)), "JPEG",
                                  quality=90)
                    query = _words([pdq_from_pixels(decode_image(data, label="q"))[0]])
                    dist = np.bitwise_count(cands ^ query).sum(axis=1)
                    covers.append(dist <= args.threshold)
                    family_of.append(family)
            bar.advance(task)
    cover = np.array(covers)
    families = np.array(family_of)
    chosen = [CANDIDATES.index(Candidate("crop", (0.0, 0.0, 0.0, 0.0)))]
    covered = cover[:, chosen[0]].copy()
    table = Table(title=f"Greedy cover (distance <= {args.threshold}, {len(cover)} queries)")
    for col in ("#", "variant", "covered", *FAMILIES):
        table.add_column(col, justify="left" if col == "variant" else "right")

    def add_row(k: int, cand: Candidate) -> None:
        shares = [f"{covered[families == f].mean():.2f}" for f in FAMILIES]
        table.add_row(str(k), cand.label, f"{covered.mean():.3f}", *shares)

    add_row(0, CANDIDATES[chosen[0]])
    def done() -> bool:
        return all(covered[families == f].mean() >= args.coverage for f in FAMILIES)

    while not done() and len(chosen) < args.max_variants:
        gain = cover[~covered].sum(axis=0)
        best = int(np.argmax(gain))
        if gain[best] == 0:
            break
        chosen.append(best)
        covered |= cover[:, best]
        add_row(len(chosen) - 1, CANDIDATES[best])
    console.print(table)
    crops = [CANDIDATES[i].value for i in chosen if CANDIDATES[i].kind == "crop"]
    turns = [CANDIDATES[i].value[0] for i in chosen if CANDIDATES[i].kind == "rotate"]
    console.print("BANK_CROPS = " + repr(tuple(tuple(int(v) for v in c) for c in crops
                                               if any(c))))
    console.print("BANK_ROTATIONS = " + repr(tuple(turns)))


if __name__ == "__main__":
    main()
