"""`safeguard match PATH` (hash and match files here) and `safeguard match scan PATH` (on Dask).

Output: one CSV row per match (or per file without a match / with an error), or one JSON
object per file, to stdout or `--out`. A corrupt file is reported in its row; the walk goes on.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from typer.core import TyperGroup

from safeguard.cli.common import cli_actor, err_console, friendly_errors, open_db
from safeguard.config import get_settings
from safeguard.jobs.files import FileHashes, hash_path, iter_files
from safeguard.matching.index_manager import IndexManager
from safeguard.matching.service import HashQuery, QueryResult, match_groups

MATCH_BATCH = 100
CSV_COLUMNS = ("path", "status", "bank", "bank_kind", "entry_id", "signal_type", "distance",
               "query_variant", "entry_variant", "suppressed", "suppressed_reason",
               "low_quality", "source", "source_id", "tags", "error")


class _DefaultToFiles(TyperGroup):
    """`safeguard match PATH` runs the `files` command; `safeguard match scan PATH` runs scan
    (a folder literally named "scan" is given as ./scan)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["files", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(cls=_DefaultToFiles, no_args_is_help=True,
                  help="Match files against the banks: `safeguard match PATH` or "
                       "`safeguard match scan PATH` on Dask.")

OutOption = Annotated[Path | None, typer.Option("--out", help="Write here instead of stdout.")]
FormatOption = Annotated[str, typer.Option("--format", help="csv or jsonl.")]


@app.command("files")
@friendly_errors
def files(path: Path, out: OutOption = None, fmt: FormatOption = "csv",
          variants: Annotated[bool, typer.Option(help="Query-side robust variants.")] = True
          ) -> None:
    """Hash every file under PATH here (in memory) and match it."""
    settings = get_settings()
    paths = [str(p) for p in iter_files(path)]

    def hashed(progress: Progress, task: Any) -> Iterator[FileHashes]:
        for p in paths:
            yield hash_path(p, settings.max_image_pixels, settings.max_upload_bytes, variants)
            progress.advance(task)

    _run(paths, hashed, out, fmt, source="cli")


@app.command("scan")
@friendly_errors
def scan(path: Path, out: OutOption = None, fmt: FormatOption = "csv",
         scheduler: Annotated[str | None, typer.Option(
             help="Dask scheduler address (tcp://host:8786); default a local cluster.")
         ] = None,
         workers: Annotated[int, typer.Option(help="Local cluster workers.")] = 2,
         variants: Annotated[bool, typer.Option(help="Query-side robust variants.")] = True
         ) -> None:
    """Hash every file under PATH on Dask workers and match the hashes here."""
    from safeguard.jobs.scan import dask_client
    from safeguard.jobs.scan import scan as dask_scan

    settings = get_settings()
    paths = [str(p.resolve()) for p in iter_files(path)]

    def hashed(progress: Progress, task: Any) -> Iterator[FileHashes]:
        with dask_client(scheduler, workers) as client:
            yield from dask_scan(client, paths, max_pixels=settings.max_image_pixels,
                                 max_bytes=settings.max_upload_bytes, variants=variants,
                                 on_done=lambda n: progress.advance(task, n))

    _run(paths, hashed, out, fmt, source="scan")


def _run(paths: Sequence[str], hashed: Any, out: Path | None, fmt: str, source: str) -> None:
    if fmt not in ("csv", "jsonl"):
        raise typer.BadParameter("--format must be csv or jsonl")
    settings = get_settings()
    db = open_db()
    index = IndexManager(db, settings.data_dir, persist=False).start()
    counts = {"files": 0, "matched": 0, "errors": 0}
    try:
        with _output(out) as handle, _progress() as progress:
            writer = _Writer(handle, fmt)
            task = progress.add_task("hashing and matching", total=len(paths))
            batch: list[FileHashes] = []
            for item in hashed(progress, task):
                batch.append(item)
                if len(batch) >= MATCH_BATCH:
                    _match_batch(db, index, batch, source, writer, counts)
                    batch = []
            _match_batch(db, index, batch, source, writer, counts)
    finally:
        index.stop()
        db.dispose()
    err_console.print(f"{counts['files']} files, {counts['matched']} matched, "
                      f"{counts['errors']} could not be read or decoded")


def _match_batch(db: Any, index: IndexManager, batch: list[FileHashes], source: str,
                 writer: _Writer, counts: dict[str, int]) -> None:
    if not batch:
        return
    ok = [f for f in batch if not f.error and f.results]
    results: dict[str, QueryResult] = {}
    if ok:
        groups = [[HashQuery(r.signal_type, r.value, r.quality, r.variant) for r in f.results]
                  for f in ok]
        with db.session() as s:
            matched = match_groups(s, index, groups, cli_actor(), source=source,
                                   labels=[f.path for f in ok])
        results = {f.path: r for f, r in zip(ok, matched, strict=True)}
    for f in batch:
        counts["files"] += 1
        if f.note:
            err_console.print(f"[yellow]note:[/] {f.path}: {f.note}")
        result = results.get(f.path)
        if f.error or result is None:
            counts["errors"] += 1
            writer.error(f.path, f.error or "no hashes could be computed")
        else:
            counts["matched"] += int(result.matched)
            writer.result(f.path, result)


class _Writer:
    def __init__(self, handle: TextIO, fmt: str) -> None:
        self.handle, self.fmt = handle, fmt
        self.csv = csv.writer(handle, lineterminator="\n") if fmt == "csv" else None
        if self.csv is not None:
            self.csv.writerow(CSV_COLUMNS)

    def error(self, path: str, error: str) -> None:
        if self.csv is not None:
            self.csv.writerow([path, "error", *[""] * (len(CSV_COLUMNS) - 3), error])
        else:
            self._json({"path": path, "status": "error", "error": error, "matches": []})

    def result(self, path: str, result: QueryResult) -> None:
        status = "match" if result.matched else ("suppressed" if result.matches
                                                 else "no_match")
        if self.csv is None:
            self._json({"path": path, "status": status, "low_quality": result.low_quality,
                        "matches": [_match_json(m) for m in result.matches]})
            return
        if not result.matches:
            self.csv.writerow([path, status, *[""] * 9, result.low_quality, "", "", "", ""])
        for m in result.matches:
            self.csv.writerow([path, status, m.bank_name, m.bank_kind, m.entry_id,
                               m.signal_type, m.distance, m.query_variant, m.entry_variant,
                               m.suppressed, m.suppressed_by.reason if m.suppressed_by else "",
                               result.low_quality, m.source, m.source_id, " ".join(m.tags), ""])

    def _json(self, obj: dict[str, Any]) -> None:
        self.handle.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


def _match_json(m: Any) -> dict[str, Any]:
    return {"bank": m.bank_name, "bank_kind": m.bank_kind, "entry_id": m.entry_id,
            "signal_type": m.signal_type, "distance": m.distance,
            "query_variant": m.query_variant, "entry_variant": m.entry_variant,
            "suppressed": m.suppressed,
            "suppressed_reason": m.suppressed_by.reason if m.suppressed_by else "",
            "provenance": m.provenance}


@contextmanager
def _output(out: Path | None) -> Iterator[TextIO]:
    if out is None:
        yield sys.stdout
        return
    with out.open("w", encoding="utf-8", newline="") as handle:
        yield handle


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=err_console, transient=True)


