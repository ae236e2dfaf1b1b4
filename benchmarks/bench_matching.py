"""PDQ index benchmark: Safeguard's PDQIndex against threatexchange's default PDQ index.

Every (engine, bank kind, size) case runs in its own subprocess, so peak RSS is that case's
alone. Each case: make the bank (seeded, so every engine sees the same hashes), build, time
single queries and one batch, and compare a sample with a brute-force scan (recall and
exactness at d <= 31). Nothing here fails on timing; it prints a table and can write JSON.

    python benchmarks/bench_matching.py                       # 100 k, 1 M, 10 M; random + clustered
    python benchmarks/bench_matching.py --quick               # 100 k only, fewer queries
    python benchmarks/bench_matching.py --sizes 100000,1000000 --kinds random --json out.json
    python benchmarks/bench_matching.py --from-json a.json,b.json --plot out.png   # no re-run

threatexchange's index is ~100x slower at 10 M, so `--reference-single/--reference-batch` can
time it on fewer queries: a prefix of the same query list, so its recall sample is the same too.

Banks are random bytes (not hashes of any image). "clustered" banks have CENTRES_PER_10M
centres scaled to the size, members 0..40 bits from their centre; half of the queries are
near a bank entry (0..40 bits away), half are random.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

RADIUS = 31
CENTRES_PER_10M = 10_000
ENGINES = ("safeguard", "threatexchange", "faiss-flat")
DEFAULT_ENGINES = ("safeguard", "threatexchange")


# ---------------------------------------------------------------- worker (one case)


def _emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def _rss_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _make_bank(kind: str, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(bank, seeds for near queries): near queries start from bank rows or cluster centres."""
    from safeguard.matching._index_reference import clustered_hashes, random_hashes

    rng = np.random.default_rng(seed)
    if kind == "random":
        bank = random_hashes(rng, size)
        return bank, bank
    centres = max(10, CENTRES_PER_10M * size // 10_000_000)
    return clustered_hashes(rng, size, centres)


def _make_queries(near_seeds: np.ndarray, count: int, seed: int) -> np.ndarray:
    from safeguard.matching._index_reference import flip_bits, random_hashes

    rng = np.random.default_rng(seed + 1)
    near = near_seeds[rng.integers(0, len(near_seeds), size=count // 2)]
    near = flip_bits(near, rng.integers(0, 41, size=len(near)), rng)
    queries = np.concatenate([near, random_hashes(rng, count - len(near))])
    return queries[rng.permutation(len(queries))]


class _Engine:
    """Uniform face over the engines: build, one query, a batch; results as (id, distance)."""

    build: Callable[[np.ndarray, np.ndarray], None]
    search_one: Callable[[np.ndarray, str], list[tuple[int, int]]]
    search_batch: Callable[[np.ndarray, list[str]], list[list[tuple[int, int]]]]
    memory_bytes: Callable[[], int | None]


def _safeguard_engine() -> _Engine:
    from safeguard.matching.index import PDQIndex

    engine = _Engine()
    state: dict[str, PDQIndex] = {}

    def build(ids: np.ndarray, bank: np.ndarray) -> None:
        state["index"] = PDQIndex()
        state["index"].add(ids, bank)

    engine.build = build
    engine.search_one = lambda query, _hex: state["index"].search(query[None], RADIUS)[0]
    engine.search_batch = lambda queries, _hexes: state["index"].search(queries, RADIUS)
    engine.memory_bytes = lambda: state["index"].memory_bytes()
    return engine


def _threatexchange_engine() -> _Engine:
    """What HMA gets from PdqSignal.get_index_cls(): a faiss multi-index hash, 16 x 16 bits."""
    from threatexchange.signal_type.pdq.signal import PdqSignal

    index_class = PdqSignal.get_index_cls()
    engine = _Engine()
    state: dict[str, Any] = {}

    def build(ids: np.ndarray, bank: np.ndarray) -> None:
        hexes = state.pop("bank_hexes")
        state["index"] = index_class(zip(hexes, ids.tolist(), strict=True))
        del hexes

    def search_one(_query: np.ndarray, hex_query: str) -> list[tuple[int, int]]:
        matches = state["index"].query(hex_query)
        return [(m.metadata, m.similarity_info.distance) for m in matches]

    def search_batch(_queries: np.ndarray, hexes: list[str]) -> list[list[tuple[int, int]]]:
        index = state["index"]
        found = index.index.search_with_distance_in_result(hexes, RADIUS)
        return [[(index.local_id_to_entry[i][1], int(d)) for i, _h, d in found[h]] for h in hexes]

    engine.build = build
    engine.search_one = search_one
    engine.search_batch = search_batch
    engine.memory_bytes = lambda: None
    engine.state = state  # type: ignore[attr-defined]
    return engine


def _faiss_flat_engine() -> _Engine:
    import faiss

    engine = _Engine()
    state: dict[str, Any] = {}

    def build(ids: np.ndarray, bank: np.ndarray) -> None:
        state["index"] = faiss.IndexBinaryFlat(256)
        state["index"].add(bank)

    def search_batch(queries: np.ndarray, _hexes: list[str]) -> list[list[tuple[int, int]]]:
        limits, distances, labels = state["index"].range_search(queries, RADIUS + 1)
        return [
            list(zip(labels[a:b].tolist(), distances[a:b].tolist(), strict=True))
            for a, b in zip(limits[:-1], limits[1:], strict=True)
        ]

    engine.build = build
    engine.search_one = lambda query, _hex: search_batch(query[None], [])[0]
    engine.search_batch = search_batch
    engine.memory_bytes = lambda: None
    return engine


def _timed(function: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of all threads, result): CPU time is what other users of a
    shared machine cannot steal, so it is reported next to wall time."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def run_case(engine_name: str, kind: str, size: int, args: argparse.Namespace) -> dict[str, Any]:
    from safeguard.matching._index_reference import brute_force

    _emit(phase="making bank")
    bank, near_seeds = _make_bank(kind, size, args.seed)
    queries = _make_queries(near_seeds, max(args.single, args.batch), args.seed)
    del near_seeds
    ids = np.arange(size, dtype=np.int64) * 7 + 1  # ids unrelated to row numbers
    _emit(phase="brute force reference")
    sample = queries[: args.recall_sample]
    truth = [
        sorted((int(ids[row]), d) for row, d in result)
        for result in brute_force(bank, sample, RADIUS)
    ]
    engine = {
        "safeguard": _safeguard_engine,
        "threatexchange": _threatexchange_engine,
        "faiss-flat": _faiss_flat_engine,
    }[engine_name]()
    hexes = [bytes(q).hex() for q in queries]
    if engine_name == "threatexchange":  # its API takes hex strings; converting is not timed
        engine.state["bank_hexes"] = [row.tobytes().hex() for row in bank]  # type: ignore[attr-defined]
    rss_before = _rss_bytes()
    _emit(phase="build")
    build_seconds, _, _ = _timed(lambda: engine.build(ids, bank))
    rss_after_build = _rss_bytes()
    if engine_name != "faiss-flat":
        del bank  # the index holds its own copy; the bank no longer counts towards the peak
    _emit(phase="single queries")
    engine.search_one(queries[0], hexes[0])  # warm-up (numba loads its cache, faiss its tables)
    single, batch = args.single, args.batch
    if engine_name == "threatexchange":  # a prefix of the same queries: same sample, same mix
        single = min(single, args.reference_single or single)
        batch = min(batch, args.reference_batch or batch)
    single_seconds, single_cpu, _ = _timed(
        lambda: [engine.search_one(queries[i], hexes[i]) for i in range(single)]
    )
    _emit(phase="batch")
    batch_seconds, batch_cpu, batch_results = _timed(
        lambda: engine.search_batch(queries[:batch], hexes[:batch])
    )
    found = [sorted(result) for result in batch_results[: len(sample)]]
    expected_pairs = sum(len(t) for t in truth)
    found_pairs = sum(len(set(f) & set(t)) for f, t in zip(found, truth, strict=True))
    return {
        "engine": engine_name,
        "kind": kind,
        "size": size,
        "build_s": build_seconds,
        "index_rss_bytes": rss_after_build - rss_before,
        "peak_rss_bytes": _peak_rss_bytes(),
        "index_bytes": engine.memory_bytes(),
        "single_qps": single / single_seconds,
        "batch_qps": batch / batch_seconds,
        "single_cpu_qps": single / single_cpu,
        "batch_cpu_qps": batch / batch_cpu,
        "single_queries": single,
        "batch_queries": batch,
        "load_average": os.getloadavg()[0],
        "recall": found_pairs / expected_pairs if expected_pairs else 1.0,
        "exact": found == truth,
        "truth_pairs": expected_pairs,
        "threads": os.cpu_count(),
    }


# ---------------------------------------------------------------- parent (table)


def _cases(args: argparse.Namespace) -> Iterator[tuple[str, str, int]]:
    for size in args.sizes:
        for kind in args.kinds:
            for engine in args.engines:
                yield engine, kind, size


def _run_in_subprocess(
    case: tuple[str, str, int], args: argparse.Namespace, on_phase: Callable[[str], None]
) -> dict[str, Any]:
    engine, kind, size = case
    command = [sys.executable, __file__, "--worker", engine, kind, str(size), *args.passthrough]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    result: dict[str, Any] = {"engine": engine, "kind": kind, "size": size, "error": "no result"}
    for line in process.stdout:
        message = json.loads(line)
        if "phase" in message:
            on_phase(message["phase"])
        else:
            result = message
    if process.wait() != 0:
        result["error"] = f"exit status {process.returncode}"
    return result


def _format_table(results: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    table = Table(title=f"PDQ range search, d <= {RADIUS} ({os.cpu_count()} cores)")
    for column in (
        "bank", "engine", "queries", "build s", "peak RSS", "index RSS", "single q/s", "batch q/s",
        "single q/cpu-s", "batch q/cpu-s", "recall", "exact", "load", "× single", "× batch",
        "× single cpu", "× batch cpu", "× peak",
    ):  # fmt: skip
        table.add_column(column, justify="right")
    by_case = {(r["engine"], r["kind"], r["size"]): r for r in results}
    for result in results:
        if "error" in result:
            table.add_row(
                f"{result['kind']} {result['size']:,}", result["engine"], "", result["error"]
            )
            continue
        reference = by_case.get(("threatexchange", result["kind"], result["size"]))
        # Against threatexchange: wall-clock q/s, q per CPU-second (steadier when the machine is
        # shared: the load average differs from case to case), and peak RSS.
        ratios = [""] * 5
        if reference and "error" not in reference and result["engine"] != "threatexchange":
            ratios = [
                f"{result[key] / reference[key]:.1f}"
                for key in ("single_qps", "batch_qps", "single_cpu_qps", "batch_cpu_qps")
            ] + [f"{reference['peak_rss_bytes'] / result['peak_rss_bytes']:.1f}"]
        table.add_row(
            f"{result['kind']} {result['size']:,}",
            result["engine"],
            f"{result.get('single_queries', '?')}/{result.get('batch_queries', '?')}",
            f"{result['build_s']:.1f}",
            f"{result['peak_rss_bytes'] / 2**30:.2f} GiB",
            f"{result['index_rss_bytes'] / 2**30:.2f} GiB",
            f"{result['single_qps']:,.0f}",
            f"{result['batch_qps']:,.0f}",
            f"{result['single_cpu_qps']:,.0f}",
            f"{result['batch_cpu_qps']:,.0f}",
            f"{result['recall']:.4f}",
            "yes" if result["exact"] else "NO",
            f"{result['load_average']:.1f}",
            *ratios,
        )
    return table


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument("--kinds", default="random,clustered")
    parser.add_argument("--engines", default=",".join(DEFAULT_ENGINES), help=f"of {ENGINES}")
    parser.add_argument("--quick", action="store_true", help="100 k only, fewer queries")
    parser.add_argument("--single", type=int, default=2000, help="single queries to time")
    parser.add_argument("--batch", type=int, default=10_000, help="queries in the batch")
    parser.add_argument("--recall-sample", type=int, default=300)
    parser.add_argument(
        "--reference-single", type=int, help="single queries for threatexchange (default --single)"
    )
    parser.add_argument(
        "--reference-batch", type=int, help="batch size for threatexchange (default --batch)"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--plot", type=Path, help="also plot q/s and peak memory vs size (PNG)")
    parser.add_argument(
        "--from-json", help="comma-separated result files to show (and plot) instead of running"
    )
    parser.add_argument("--worker", nargs=3, metavar=("ENGINE", "KIND", "SIZE"), help="internal")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.single, args.batch, args.recall_sample = "100000", 300, 2000, 100
    args.sizes = [int(s) for s in str(args.sizes).split(",")]
    args.kinds = args.kinds.split(",")
    args.engines = args.engines.split(",")
    unknown = set(args.engines) - set(ENGINES)
    if unknown:
        parser.error(f"unknown engines {sorted(unknown)}; choose from {ENGINES}")
    for name in ("single", "batch", "recall_sample", "reference_single", "reference_batch"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    smallest_batch = min(args.batch, args.reference_batch or args.batch)
    if args.recall_sample > smallest_batch:
        parser.error("--recall-sample cannot exceed the batch size (recall is read from the batch)")
    args.passthrough = [
        f"--single={args.single}",
        f"--batch={args.batch}",
        f"--recall-sample={args.recall_sample}",
        f"--seed={args.seed}",
        *([f"--reference-single={args.reference_single}"] if args.reference_single else []),
        *([f"--reference-batch={args.reference_batch}"] if args.reference_batch else []),
    ]
    return args


def _load_results(paths: str) -> list[dict[str, Any]]:
    """Results of earlier runs, later files replacing earlier ones case by case."""
    by_case: dict[tuple[str, str, int], dict[str, Any]] = {}
    for name in paths.split(","):
        path = Path(name)
        try:
            results = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise SystemExit(f"--from-json: cannot read {path}: {error}") from None
        if not isinstance(results, list) or not all(
            isinstance(r, dict) and {"engine", "kind", "size"} <= r.keys() for r in results
        ):
            raise SystemExit(f"--from-json: {path} is not a bench_matching.py result file")
        for result in results:
            by_case[(result["engine"], result["kind"], result["size"])] = result
    return sorted(by_case.values(), key=lambda r: (r["size"], r["kind"] != "random", r["engine"]))


def _plot(results: list[dict[str, Any]], path: Path) -> None:
    """Queries/s (wall clock and per CPU-second, single and batch) and peak RSS against bank
    size, one line per engine x kind: on a shared machine the CPU figure is the steadier one."""
    import matplotlib

    matplotlib.use("Agg")  # files only; no display on a build machine
    import matplotlib.pyplot as plt

    figure, (qps_axis, cpu_axis, memory_axis) = plt.subplots(1, 3, figsize=(18, 5.4))
    ok = [r for r in results if "error" not in r]
    for engine, colour in zip(ENGINES, ("tab:blue", "tab:orange", "tab:green"), strict=True):
        for kind, marker in (("random", "o"), ("clustered", "s")):
            rows = sorted((r for r in ok if (r["engine"], r["kind"]) == (engine, kind)),
                          key=lambda r: r["size"])  # fmt: skip
            if not rows:
                continue
            sizes = [r["size"] for r in rows]
            label = f"{engine}, {kind}"
            qps_axis.plot(sizes, [r["batch_qps"] for r in rows], marker=marker, color=colour,
                          label=f"{label}, batch")  # fmt: skip
            qps_axis.plot(sizes, [r["single_qps"] for r in rows], marker=marker, color=colour,
                          linestyle="--", label=f"{label}, single")  # fmt: skip
            cpu_axis.plot(sizes, [r["batch_cpu_qps"] for r in rows], marker=marker,
                          color=colour, label=f"{label}, batch")  # fmt: skip
            cpu_axis.plot(sizes, [r["single_cpu_qps"] for r in rows], marker=marker,
                          color=colour, linestyle="--", label=f"{label}, single")  # fmt: skip
            memory_axis.plot(sizes, [r["peak_rss_bytes"] / 2**30 for r in rows], marker=marker,
                             color=colour, label=label)  # fmt: skip
    memory_axis.axhline(2, color="grey", linestyle=":", label="target at 10 M: < 2 GiB")
    for axis, title, unit in (
        (qps_axis, f"queries/s, range search d <= {RADIUS}", "queries/s (wall clock)"),
        (cpu_axis, "queries per CPU-second (all threads)", "queries / CPU-second"),
        (memory_axis, "peak memory of the benchmark process", "peak RSS (GiB)"),
    ):
        axis.set_xscale("log")
        axis.set_xlabel("bank size (hashes)")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=7)
    qps_axis.set_yscale("log")
    cpu_axis.set_yscale("log")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(argv: list[str]) -> None:
    args = _parse(argv)
    if args.worker:
        engine, kind, size = args.worker
        _emit(**run_case(engine, kind, int(size), args))
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TimeElapsedColumn

    console = Console(width=max(240, Console().width))
    if args.from_json:
        results = _load_results(args.from_json)
        console.print(_format_table(results))
        if args.plot:
            _plot(results, args.plot)
        return
    cases = list(_cases(args))
    results = []
    with Progress(SpinnerColumn(), *Progress.get_default_columns(), TimeElapsedColumn()) as bar:
        overall = bar.add_task("cases", total=len(cases))
        for case in cases:
            label = f"{case[0]} {case[1]} {case[2]:,}"
            step = bar.add_task(label, total=None)
            results.append(
                _run_in_subprocess(
                    case, args, lambda p, s=step, n=label: bar.update(s, description=f"{n}: {p}")
                )
            )
            bar.remove_task(step)
            bar.advance(overall)
            if args.json:
                args.json.write_text(json.dumps(results, indent=1))
    console.print(_format_table(results))
    if args.plot:
        _plot(results, args.plot)


if __name__ == "__main__":
    main(sys.argv[1:])
