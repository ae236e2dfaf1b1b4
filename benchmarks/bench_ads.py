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
import contextlib
import dataclasses
import itertools
import json
import multiprocessing
import os
import random
import re
import resource
import threading
import time
from collections import Counter, deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from safeguard.ads import synthetic
from safeguard.ads.extract import extract, linking_keys
from safeguard.ads.indicators import assess
from safeguard.ads.linking import LinkConfig, Linker, Signer
from safeguard.ads.records import Ad, load_jsonl
from safeguard.ads.text import fold

_SHINGLE_WORDS = re.compile(r"[^\W\d_]+")


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


def _shingles(text: str, size: int) -> set[str]:
    words = _SHINGLE_WORDS.findall(fold(text)[0].lower())
    return {" ".join(words[i:i + size]) for i in range(max(1, len(words) - size + 1))}


def _components(count: int, pairs: Sequence[tuple[int, int]]) -> list[int]:
    from safeguard.ads.unionfind import UnionFind

    sets = UnionFind()
    for _ in range(count):
        sets.add()
    for a, b in pairs:
        sets.union(a, b)
    return [sets.find(i) for i in range(count)]


def all_pairs_labels(texts: Sequence[str], threshold: float = 0.5) -> list[int]:
    """Anchor 1: exact Jaccard of the same word pairs over every pair of ads (no LSH, no
    MinHash): what the linker approximates, at quadratic cost."""
    sets = [_shingles(t, 2) for t in texts]
    pairs = []
    for a in range(len(sets)):
        for b in range(a + 1, len(sets)):
            inter = len(sets[a] & sets[b])
            if inter and inter / (len(sets[a]) + len(sets[b]) - inter) >= threshold:
                pairs.append((a, b))
    return _components(len(texts), pairs)


def datasketch_default_labels(texts: Sequence[str]) -> list[int]:
    """Anchor 2: an off-the-shelf setup: datasketch's defaults (MinHash with 128 permutations,
    MinHashLSH at its default threshold 0.9) on InfoShield's features (word 5-grams, digits
    removed), components of the LSH candidate pairs."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH()
    pairs = []
    for index, text in enumerate(texts):
        minhash = MinHash()
        minhash.update_batch([s.encode("utf-8") for s in _shingles(text, 5)])
        pairs += [(other, index) for other in lsh.query(minhash)]
        lsh.insert(index, minhash, check_duplication=False)
    return _components(len(texts), pairs)


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
    parser.add_argument("--scale", type=int, default=0,
                        help="instead: extract + link this many ads streamed from a file, the "
                             "per-ad work in --workers processes (e.g. 1000000)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--corpus", type=Path, default=Path("var/bench_ads_corpus.jsonl"),
                        help="where the scale run writes its corpus (deleted afterwards)")
    args = parser.parse_args()
    console = Console()
    if args.scale:
        args.corpus.parent.mkdir(parents=True, exist_ok=True)
        try:
            scale_run(args.scale, args.seed, args.workers, args.corpus, console)
        finally:
            args.corpus.unlink(missing_ok=True)
        return
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
            texts = [a.full_text for a in slot_ads]
            slot_rows.append((slots, *pairwise(truth, [slot_labels[a.key] for a in slot_ads]),
                              *pairwise(truth, all_pairs_labels(texts)),
                              *pairwise(truth, datasketch_default_labels(texts))))
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
    for column in ("changed slots", "ours P / R", "anchor 1: exact all-pairs P / R",
                   "anchor 2: datasketch defaults, word 5-grams P / R",
                   "recall ratio ours / anchor 1", "InfoShield recall (paper)"):
        slot_table.add_column(column, justify="right")
    paper = {1: "1.00", 2: "0.50", 3: "0.14", 4: "-"}
    for slots, p, r, ep, er, dp, dr in slot_rows:
        slot_table.add_row(str(slots), f"{p:.4f} / {r:.4f}", f"{ep:.4f} / {er:.4f}",
                           f"{dp:.4f} / {dr:.4f}", f"{r / er:.3f}" if er else "-",
                           paper[slots])
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


# ----------------------------------------------------------------- scale run (--scale N)

_WORKER_SIGNER: Signer | None = None
_BLOCK = 100_000


def _write_block(seed: int, block: int, size: int, path: str) -> np.ndarray:
    """One block of the scale corpus (its own seed, so blocks are written in parallel; planted
    networks stay within a block, ids continue across blocks). Returns the planted network of
    each ad (-1 for a singleton), numbered apart from other blocks'."""
    truth = np.empty(size, dtype=np.int64)
    with open(path, "w", encoding="utf-8") as handle:
        for index, planted in enumerate(synthetic.iter_generate(size, seed=seed * 1000 + block)):
            ad = planted.ad
            truth[index] = planted.network + block * 10_000_000 if planted.network >= 0 else -1
            handle.write(json.dumps({"site": ad.site, "id": f"ad{block * _BLOCK + index:07d}",
                                     "text": ad.text, "location": ad.location,
                                     "region": ad.region}, ensure_ascii=False) + "\n")
    return truth


def _prepare_chunk(lines: list[bytes]) -> tuple[list[tuple[str, list[str], bytes | None]],
                                                int, float]:
    """Worker side of the scale run: parse, clean, extract, score and sign one chunk of JSON
    lines. Returns per ad (key, linking keys, signature bytes), the bad-line count and the
    worker's CPU seconds for the chunk."""
    global _WORKER_SIGNER
    started = time.process_time()
    if _WORKER_SIGNER is None:
        _WORKER_SIGNER = Signer(LinkConfig(keep_texts=False))
    loaded = load_jsonl(lines)
    out = []
    for ad in loaded.ads:
        found = extract(ad)
        assess(ad, found)
        signature = _WORKER_SIGNER.signature(ad.full_text)
        out.append((ad.key, sorted(linking_keys(found)),
                    None if signature is None else signature.tobytes()))
    return out, loaded.skipped, time.process_time() - started


class _RssSampler(threading.Thread):
    """Peak of the summed RSS of this process and its children, sampled every second."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop_event.wait(1.0):
            total = 0
            for process in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += process.memory_info().rss
            self.peak = max(self.peak, total)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def scale_run(count: int, seed: int, workers: int, corpus: Path, console: Console) -> None:
    """Extract + link `count` ads streamed from a JSON lines file, per-ad work in `workers`
    processes, linking in this one; then the same linking stage with datasketch defaults on a
    sample as the anchor."""
    started = time.perf_counter()
    blocks = [(seed, block, min(_BLOCK, count - block * _BLOCK), f"{corpus}.{block}")
              for block in range(-(-count // _BLOCK))]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        truths = pool.starmap(_write_block, blocks)
    truth = np.concatenate(truths)
    with corpus.open("wb") as handle:
        for *_, part in blocks:
            with open(part, "rb") as source:
                handle.writelines(source)
            os.unlink(part)
    written = time.perf_counter() - started
    console.print(f"corpus of {count:,} ads written to {corpus} in {written:.0f} s "
                  "(not timed below)")
    load_before = os.getloadavg()
    sampler = _RssSampler()
    sampler.start()
    linker = Linker(LinkConfig(keep_texts=False))
    worker_cpu = link_seconds = 0.0
    skipped = done = 0
    main_cpu = time.process_time()
    started = time.perf_counter()
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool, corpus.open("rb") as handle, \
            Progress(console=console) as progress:
        task = progress.add_task(f"extract + link {count:,} ads, {workers} workers",
                                 total=count)
        pending: deque[Any] = deque()

        def collect() -> None:
            nonlocal worker_cpu, link_seconds, skipped, done
            items, bad, cpu = pending.popleft().get()
            worker_cpu += cpu
            skipped += bad
            link_start = time.perf_counter()
            linker.add_prepared((key, keys, None if sig is None
                                 else np.frombuffer(sig, dtype=np.uint32), "")
                                for key, keys, sig in items)
            link_seconds += time.perf_counter() - link_start
            before, done = done, done + len(items)
            progress.update(task, completed=done)
            if done // 100_000 != before // 100_000:  # a trace in logs of long runs
                console.log(f"{done:,} ads in {time.perf_counter() - started:,.0f} s; "
                            f"worker CPU {worker_cpu:,.0f} s; load {os.getloadavg()[0]:.1f}")

        while True:
            lines = list(itertools.islice(handle, 1000))
            if not lines:
                break
            pending.append(pool.apply_async(_prepare_chunk, (lines,)))
            if len(pending) >= 4 * workers:
                collect()
        while pending:
            collect()
    wall = time.perf_counter() - started
    main_cpu = time.process_time() - main_cpu
    sampler.stop()
    load_after = os.getloadavg()
    labels = linker.labels()
    predicted = [labels[f"synthetic:ad{i:07d}"] for i in range(count)]
    precision, recall = pairwise(truth.tolist(), predicted)
    networks = len({root for root, n in Counter(predicted).items() if n > 1})

    sample = min(count, 50_000)
    ours_link, anchor_link = link_stage_anchor(corpus, sample)
    table = Table(title=f"Extract + link at scale: {count:,} synthetic ads (seed {seed})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("wall time, extract + score + link (file to networks)",
                  f"{wall:,.0f} s = {wall / 60:.1f} min")
    table.add_row("  per 1 M ads (linear)", f"{wall / 60 * 1e6 / count:.1f} min")
    table.add_row("CPU seconds: workers (parse, extract, score, sign) / main (link)",
                  f"{worker_cpu:,.0f} s / {main_cpu:,.0f} s")
    table.add_row("  of which linking bookkeeping in main", f"{link_seconds:,.0f} s wall")
    uncontended = max(worker_cpu / workers, main_cpu)
    table.add_row(f"CPU-bound estimate on {workers} idle cores (max(workers/{workers}, main))",
                  f"{uncontended / 60:.1f} min")
    table.add_row("peak RSS, this process + workers (sampled each second)",
                  f"{sampler.peak / 2**30:.2f} GB")
    table.add_row("bad lines / networks (>= 2 ads)", f"{skipped} / {networks:,}")
    table.add_row("pairwise precision / recall (all evidence)",
                  f"{precision:.4f} / {recall:.4f}")
    table.add_row("load average before / after",
                  f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} / "
                  f"{load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    console.print(table)
    anchor = Table(title=f"Text-linking stage, same run, first {sample:,} ads, one process")
    for column in ("method", "ads/s", "1 M ads (linear)", "ratio to anchor"):
        anchor.add_column(column, justify="right")
    anchor.add_row("datasketch defaults: MinHash(128) + MinHashLSH(threshold 0.5), insert + "
                   "query (anchor)", f"{sample / anchor_link:,.0f}",
                   f"{anchor_link * 1e6 / sample / 60:.1f} min", "1.00")
    anchor.add_row("ours: Signer (64 perm) + flat band dict + confirm",
                   f"{sample / ours_link:,.0f}",
                   f"{ours_link * 1e6 / sample / 60:.1f} min", f"{ours_link / anchor_link:.2f}")
    console.print(anchor)


def link_stage_anchor(corpus: Path, sample: int) -> tuple[float, float]:
    """Seconds to text-link the first `sample` ads of the corpus: ours (signature, band keys,
    confirmation on the signatures) and datasketch's defaults (MinHash with 128 permutations,
    MinHashLSH queried then inserted per ad) over the same word-pair shingles."""
    from datasketch import MinHash, MinHashLSH

    texts = []
    with corpus.open("rb") as handle:
        for line in itertools.islice(handle, sample):
            texts.append(json.loads(line)["text"])
    config = LinkConfig(keep_texts=False)
    signer = Signer(config)
    started = time.perf_counter()
    linker = Linker(config)
    linker.add_prepared((str(i), (), signer.signature(text), "") for i, text in enumerate(texts))
    ours = time.perf_counter() - started
    started = time.perf_counter()
    lsh = MinHashLSH(threshold=config.threshold, num_perm=128)
    for index, text in enumerate(texts):
        words = _SHINGLE_WORDS.findall(fold(text)[0].lower())
        shingles = {" ".join(words[i:i + 2]) for i in range(max(1, len(words) - 1))}
        minhash = MinHash(num_perm=128)
        minhash.update_batch([s.encode("utf-8") for s in shingles])
        lsh.query(minhash)
        lsh.insert(index, minhash, check_duplication=False)
    return ours, time.perf_counter() - started


if __name__ == "__main__":
    main()
