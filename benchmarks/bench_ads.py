"""Ads: linking quality, obfuscated-phone extraction quality and extract+link throughput
(issue 6). Not a test; nothing here fails on timing.

    .venv/bin/python benchmarks/bench_ads.py [--ads 20000] [--seed 7] [--per-slot 2000]

The corpus is synthetic and non-explicit (safeguard/ads/synthetic.py): neutral services wording,
planted networks that share a template (1 to 4 changed slots plus random word edits) and phones
written in 14 styles, most of them obfuscated. Reported:
- pairwise precision / recall of the networks against the planted ones (all ads), and per number
  of changed slots on a text-only corpus (phones removed, so only the text can link);
- precision / recall of valid phones extracted (E.164) against the planted ones, split into
  obfuscated and plain;
- memory of the LSH index per ad, ours (flat dict of band keys) against datasketch's
  MinHashLSH on the same signatures;
- throughput of extract + link on one core and peak RSS; the 1 M figure is extrapolated
  linearly when the run is smaller, and the output says so.
InfoShield is not installed here, so its figures (recall 1.00 / 0.50 / 0.14 at 1 / 2 / 3 changed
slots, about 8 h for 4 M documents) are quoted from its paper, not measured in this run.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import resource
import time
from collections import Counter
from collections.abc import Sequence

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from safeguard.ads import synthetic
from safeguard.ads.extract import extract
from safeguard.ads.linking import LinkConfig, Linker
from safeguard.ads.records import Ad


def pairwise(truth: Sequence[int], predicted: Sequence[int]) -> tuple[float, float]:
    """Pairwise precision and recall; truth -1 means a singleton (its own cluster)."""
    truth = [t if t >= 0 else -(i + 2) for i, t in enumerate(truth)]

    def pairs(counter: Counter[object]) -> int:
        return sum(n * (n - 1) // 2 for n in counter.values())

    both = pairs(Counter(zip(truth, predicted, strict=True)))
    predicted_pairs, true_pairs = pairs(Counter(predicted)), pairs(Counter(truth))
    precision = both / predicted_pairs if predicted_pairs else 1.0
    recall = both / true_pairs if true_pairs else 1.0
    return precision, recall


def run_pipeline(ads: list[Ad], progress: Progress, label: str
                 ) -> tuple[Linker, float, float]:
    """Returns the linker and the seconds spent extracting and linking."""
    # No template views are drawn here, so texts are not kept (what a 1 M run needs).
    linker = Linker(LinkConfig(keep_texts=False))
    task = progress.add_task(label, total=len(ads))
    extracting = linking = 0.0
    for chunk in range(0, len(ads), 1000):
        batch = ads[chunk:chunk + 1000]
        start = time.perf_counter()
        found = [extract(ad) for ad in batch]
        middle = time.perf_counter()
        linker.add(batch, found)
        linking += time.perf_counter() - middle
        extracting += middle - start
        progress.advance(task, len(batch))
    return linker, extracting, linking


def slot_corpus(per_slot: int, slots: int, seed: int) -> tuple[list[Ad], list[int]]:
    """Networks of 5 ads whose texts differ in exactly `slots` slots (+ random edits), no phones;
    plus as many singletons."""
    rng = random.Random(seed * 100 + slots)
    ads: list[Ad] = []
    truth: list[int] = []
    for network in range(per_slot // 10):
        base = synthetic._new_template(rng)
        for _ in range(5):
            planted = synthetic._make(len(ads), synthetic._vary(base, slots, rng), [], network,
                                      rng, "2125550100", 0.0)
            ads.append(planted.ad)
            truth.append(network)
    while len(ads) < per_slot:
        planted = synthetic._make(len(ads), synthetic._new_template(rng), [], -1, rng,
                                  "2125550100", 0.0)
        ads.append(planted.ad)
        truth.append(-1)
    return ads, truth


def lsh_memory(count: int, seed: int) -> tuple[float, float]:
    """Bytes per ad of the LSH index: datasketch's MinHashLSH (the anchor) against the linker's
    flat band dict, on the same random signatures (10 % planted duplicates so bands collide)."""
    import tracemalloc

    import numpy as np
    from datasketch import MinHash, MinHashLSH

    from safeguard.ads.linking import LinkConfig, Signer

    config = LinkConfig()
    rng = np.random.default_rng(seed)
    signatures = rng.integers(0, 2**32, size=(count, config.num_perm), dtype=np.uint64)
    signatures[1::10] = signatures[0::10][: len(signatures[1::10])]
    template = MinHash(num_perm=config.num_perm, seed=config.seed)
    tracemalloc.start()
    lsh = MinHashLSH(threshold=config.threshold, num_perm=config.num_perm)
    for i in range(count):
        minhash = template.copy()
        minhash.hashvalues[:] = signatures[i]
        lsh.insert(i, minhash, check_duplication=False)
    anchor = tracemalloc.get_traced_memory()[0] / count
    del lsh
    tracemalloc.stop()
    signer = Signer(config)
    small = signatures.astype(np.uint32)
    tracemalloc.start()
    bands: dict[int, int | list[int]] = {}
    for i in range(count):
        for band in signer.bands(small[i]):
            found = bands.get(band)
            if found is None:
                bands[band] = i
            elif isinstance(found, int):
                bands[band] = [found, i]
            else:
                found.append(i)
    ours = tracemalloc.get_traced_memory()[0] / count
    tracemalloc.stop()
    return anchor, ours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ads", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-slot", type=int, default=2_000)
    parser.add_argument("--lsh-ads", type=int, default=20_000,
                        help="signatures for the LSH memory comparison")
    args = parser.parse_args()
    console = Console()
    planted = synthetic.generate(args.ads, seed=args.seed)
    ads = [p.ad for p in planted]

    with Progress(console=console) as progress:
        linker, extracting, linking = run_pipeline(ads, progress,
                                                   f"extract + link {len(ads):,} ads")
        seconds = extracting + linking
        labels = linker.labels()
        predicted = [labels[ad.key] for ad in ads]
        precision, recall = pairwise([p.network for p in planted], predicted)
        slot_rows = []
        for slots in (1, 2, 3, 4):
            slot_ads, truth = slot_corpus(args.per_slot, slots, args.seed)
            slot_linker, _, _ = run_pipeline(slot_ads, progress, f"text only, {slots} slot(s)")
            slot_labels = slot_linker.labels()
            slot_rows.append((slots, *pairwise(truth, [slot_labels[a.key] for a in slot_ads])))
        task = progress.add_task("phone extraction quality", total=len(planted))
        found = []
        for item in planted:
            found.append({e.value for e in extract(item.ad)
                          if e.kind == "phone" and e.status == "valid"})
            progress.advance(task)
    hub = Counter(v for values in found for v in values).most_common(1)[0][0]
    quality: dict[str, list[int]] = {"obfuscated": [0, 0, 0], "plain": [0, 0, 0]}
    for item, values in zip(planted, found, strict=True):
        if not item.phones:
            continue
        cell = quality["obfuscated" if item.obfuscated else "plain"]
        truth, values = set(item.phones), values - {hub}
        cell[0] += len(truth & values)
        cell[1] += len(values - truth)
        cell[2] += len(truth - values)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    table = Table(title=f"Ads linking, {len(ads):,} synthetic ads (seed {args.seed})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("pairwise precision (all evidence)", f"{precision:.4f}")
    table.add_row("pairwise recall (all evidence)", f"{recall:.4f}")
    networks = linker.networks(with_template=False)
    table.add_row("networks found (>= 2 ads)", f"{len(networks):,}")
    table.add_row("planted networks", f"{len({p.network for p in planted if p.network >= 0}):,}")
    table.add_row("hub values capped", ", ".join(sorted(linker.hubs)) or "none")
    for name, (tp, fp, fn) in quality.items():
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        table.add_row(f"{name} phones: precision / recall", f"{p:.4f} / {r:.4f} (n={tp + fn})")
    rate = len(ads) / seconds
    table.add_row("extract + link, one core", f"{rate:,.0f} ads/s ({seconds:.1f} s)")
    table.add_row("1 M ads, one core (linear extrapolation)", f"{1e6 / rate / 60:.1f} min")
    table.add_row("  of which extraction / linking", f"{extracting:.1f} s / {linking:.1f} s")
    two_cores = (extracting / 2 + linking) * 1e6 / len(ads) / 60
    table.add_row("1 M ads, two cores (estimate: extraction in 2 processes, linking serial)",
                  f"{two_cores:.1f} min")
    table.add_row("peak RSS of this process", f"{peak_mb:,.0f} MB")
    console.print(table)

    slot_table = Table(title=f"Text-only linking by changed slots ({args.per_slot:,} ads each)")
    for column in ("changed slots", "precision", "recall", "InfoShield recall (paper)"):
        slot_table.add_column(column, justify="right")
    paper = {1: "1.00", 2: "0.50", 3: "0.14", 4: "-"}
    for slots, p, r in slot_rows:
        slot_table.add_row(str(slots), f"{p:.4f}", f"{r:.4f}", paper[slots])
    console.print(slot_table)
    console.print(f"Config: {dataclasses.asdict(linker.config)}")
    anchor, ours = lsh_memory(args.lsh_ads, args.seed)
    memory = Table(title=f"LSH index memory ({args.lsh_ads:,} signatures, same run)")
    for column in ("index", "bytes per ad", "GB per 1 M ads", "ratio to anchor"):
        memory.add_column(column, justify="right")
    memory.add_row("datasketch MinHashLSH (anchor)", f"{anchor:,.0f}", f"{anchor / 1e3:.2f}",
                   "1.00")
    memory.add_row("flat band dict (ours)", f"{ours:,.0f}", f"{ours / 1e3:.2f}",
                   f"{ours / anchor:.2f}")
    console.print(memory)


if __name__ == "__main__":
    main()
