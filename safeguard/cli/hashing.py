"""`safeguard hash FILE...`: hashes printed, files read into memory only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from safeguard.cli.common import err_console
from safeguard.config import get_settings
from safeguard.media.errors import MediaError
from safeguard.media.hashers import hash_bytes, missing_hash_note


def app(files: Annotated[list[Path], typer.Argument(help="Images, videos or any files.")],
        signal: Annotated[list[str] | None, typer.Option(
            "--signal", help="pdq, md5, sha256, vpdq (repeat). Default: pdq, md5, sha256.")] = None,
        jsonl: Annotated[bool, typer.Option("--jsonl", help="One JSON object per hash.")] = False,
        exact: Annotated[bool, typer.Option(
            "--exact", help="PDQ with the reference's full filter, bit-identical to "
            "threatexchange (slower; the fast default equals it unless a coefficient ties "
            "the median).")] = False,
        ) -> None:
    """Hash files: PDQ with quality for images, MD5 and SHA-256 for any file.

    Prints one line per hash, tab-separated: signal type, hash, quality (- when none), file.
    Hashes are printed whole, so they can be piped or copied into a bank import."""
    settings = get_settings()
    signal_types = tuple(signal) if signal else ("pdq", "md5", "sha256")
    failures = 0
    for path in files:
        try:
            data = path.read_bytes()
            results = hash_bytes(data, label=str(path), signal_types=signal_types,
                                 fast=not exact, max_pixels=settings.max_image_pixels)
        except (MediaError, OSError) as exc:
            failures += 1
            err_console.print(f"[bold red]error:[/] {exc}")
            continue
        note = missing_hash_note(data, [r.signal_type for r in results])
        if note:
            err_console.print(f"[yellow]note:[/] {path}: {note}")
        for r in results:
            if jsonl:
                print(json.dumps({"file": str(path), "signal_type": r.signal_type,
                                  "hash": r.value, "quality": r.quality}))
            else:
                quality = "-" if r.quality is None else str(r.quality)
                print(f"{r.signal_type}\t{r.value}\t{quality}\t{path}")
    if failures:
        raise typer.Exit(1)
