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
from safeguard.ads.linking import Linker
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
    linker = Linker()
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ads", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-slot", type=int, default=2_000)
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


if __name__ == "__main__":
    main()
