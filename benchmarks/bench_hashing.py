"""Hashing-speed benchmark: Safeguard's PDQ against threatexchange's, same corpus, same run.

    python benchmarks/bench_hashing.py [--quick] [-n 120] [--rounds 3]

Corpus: benign 1024x768 JPEGs (q90) made in memory from bundled and generated pictures
(_images.py). Everything runs in this one process on one core. Each method hashes the whole
corpus once per round; the best round counts (the machine is shared, so the best round is
the least disturbed). The table also checks that the full-decode hashes equal
threatexchange's and how far the fast hashes (same luma of the decoded RGB, filter computed
only where PDQ samples) move from them.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image
from rich.console import Console
from rich.progress import Progress, TimeElapsedColumn
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _images import corpus, iter_jpegs  # noqa: E402

from safeguard.media import (  # noqa: E402
    bank_variants,
    decode_image,
    hamming_hex,
    hash_bytes,
    query_variants,
)
from safeguard.media.variants import bank_variant_names  # noqa: E402


def _threatexchange() -> Callable[[bytes], object]:
    from threatexchange.signal_type.pdq.signal import PdqSignal

    return PdqSignal.hash_from_bytes


def _pillow_decode(data: bytes) -> object:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").load()


METHODS: dict[str, Callable[[bytes], object]] = {
    "threatexchange PdqSignal.hash_from_bytes (anchor)": _threatexchange(),
    "Pillow full decode only (no hash)": _pillow_decode,
    "safeguard pdq, full decode (bit-identical)":
        lambda d: hash_bytes(d, label="bench", signal_types=("pdq",), fast=False),
    "safeguard pdq, fast (RGB luma, sampled filter)":
        lambda d: hash_bytes(d, label="bench", signal_types=("pdq",), fast=True),
    "safeguard pdq+md5+sha256, fast":
        lambda d: hash_bytes(d, label="bench", fast=True),
    "safeguard query_variants (decode + 8 dihedral + up to 3 crops)":
        lambda d: query_variants(decode_image(d, label="bench")),
    f"safeguard bank_variants (decode + {len(bank_variant_names())} hashes)":
        lambda d: bank_variants(decode_image(d, label="bench")),
}
ANCHOR = next(iter(METHODS))


def _agreement(jpegs: list[bytes]) -> tuple[float, list[int]]:
    # PdqSignal.hash_from_bytes returns "" below quality 50, so compare with the hasher
    # underneath it, which always returns the hash and its quality.
    from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_bytes

    same, drift = 0, []
    for data in jpegs:
        expected = pdq_from_bytes(data)
        result = hash_bytes(data, label="x", signal_types=("pdq",), fast=False)[0]
        full = result.value
        same += (full, result.quality) == expected
        fast = hash_bytes(data, label="x", signal_types=("pdq",), fast=True)[0].value
        drift.append(hamming_hex(full, fast))
    return same / len(jpegs), drift


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="30 pictures, 1 round")
    parser.add_argument("-n", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    n, rounds = (30, 1) if args.quick else (args.n, args.rounds)
    console = Console(width=120)
    jpegs = [data for _, data in iter_jpegs(corpus(n))]
    for method in METHODS.values():  # warm-up: numba loads its compiled kernels
        method(jpegs[0])
    best = dict.fromkeys(METHODS, float("inf"))
    with Progress(*Progress.get_default_columns(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("timing", total=rounds * len(METHODS))
        for _ in range(rounds):
            for name, method in METHODS.items():
                start = time.perf_counter()
                for data in jpegs:
                    method(data)
                best[name] = min(best[name], time.perf_counter() - start)
                bar.advance(task)
    table = Table(title=f"Hashing speed, {n} benign 1024x768 JPEGs, one core, best of {rounds}")
    for col in ("method", "images/s", "ms/image", "× anchor"):
        table.add_column(col, justify="left" if col == "method" else "right")
    anchor_rate = n / best[ANCHOR]
    for name, seconds in best.items():
        rate = n / seconds
        table.add_row(name, f"{rate:,.0f}", f"{1000 / rate:.2f}", f"{rate / anchor_rate:.2f}")
    console.print(table)
    identical, drift = _agreement(jpegs)
    console.print(f"full-decode PDQ equal to threatexchange's: {identical:.0%} of {n}")
    console.print(
        f"fast vs full-decode PDQ distance: median {np.median(drift):.0f}, "
        f"p99 {np.percentile(drift, 99):.1f}, max {max(drift)} bits; "
        f"identical on {sum(d == 0 for d in drift)} of {n}"
    )


if __name__ == "__main__":
    main()
