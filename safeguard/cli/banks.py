"""`safeguard bank ...`: create, inspect and fill hash banks."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from safeguard.banks import service, transfer
from safeguard.banks.formats import FORMATS, ImportRejected
from safeguard.cli.common import cli_actor, console, err_console, friendly_errors, open_db

app = typer.Typer(help="Hash banks: named lists of known hashes.", no_args_is_help=True)


@app.command("create")
@friendly_errors
def create(name: str,
           description: Annotated[str, typer.Option(help="What the bank holds.")] = "",
           kind: Annotated[str, typer.Option(
               help="positive (known material) or negative (known false positives).")
           ] = "positive",
           threshold: Annotated[int | None, typer.Option(
               help="PDQ distance threshold 0-31 (default: settings).")] = None,
           signal_type: Annotated[list[str] | None, typer.Option(
               help="Signal types the bank takes (repeat); default all.")] = None,
           disabled: Annotated[bool, typer.Option(help="Create it disabled.")] = False,
           triage: Annotated[bool, typer.Option(
               help="Open a triage item for an analyst on every positive match.")] = False
           ) -> None:
    """Create a bank."""
    db = open_db()
    with db.session() as s:
        bank = service.create_bank(s, cli_actor(), name, description=description, kind=kind,
                                   pdq_threshold=threshold, signal_types=signal_type,
                                   enabled=not disabled, triage_on_match=triage)
        console.print(f"created {bank.kind} bank [bold]{bank.name}[/] (id {bank.id}, PDQ "
                      f"threshold {bank.pdq_threshold})")
    db.dispose()


@app.command("list")
@friendly_errors
def list_() -> None:
    """List banks with their entry counts."""
    db = open_db()
    table = Table("id", "name", "kind", "enabled", "threshold", "signal types", "entries")
    with db.session() as s:
        for item in service.list_banks(s):
            b = item.bank
            table.add_row(str(b.id), b.name, b.kind, "yes" if b.enabled else "no",
                          str(b.pdq_threshold), " ".join(b.signal_types), str(item.entry_count))
    db.dispose()
    console.print(table)


@app.command("show")
@friendly_errors
def show(bank: str,
         limit: Annotated[int, typer.Option(help="Entries to show.")] = 20,
         offset: Annotated[int, typer.Option()] = 0) -> None:
    """Show a bank and some of its entries."""
    db = open_db()
    with db.session() as s:
        b = service.get_bank(s, bank)
        console.print(f"[bold]{b.name}[/] (id {b.id}) {b.kind}, "
                      f"{'enabled' if b.enabled else 'disabled'}, PDQ threshold "
                      f"{b.pdq_threshold}, {service.count_entries(s, b)} entries")
        if b.description:
            console.print(b.description)
        table = Table("id", "type", "hash", "variant", "source", "source id", "tags", "added")
        for e in service.list_entries(s, b.id, offset=offset, limit=limit):
            table.add_row(str(e.id), e.signal_type, e.value[:64], e.variant, e.source,
                          e.source_id, " ".join(e.tags), f"{e.added_at:%Y-%m-%d}")
    db.dispose()
    console.print(table)


def _set_enabled(bank: str, enabled: bool) -> None:
    db = open_db()
    with db.session() as s:
        b = service.set_enabled(s, cli_actor(), bank, enabled)
        console.print(f"bank [bold]{b.name}[/] {'enabled' if enabled else 'disabled'}")
    db.dispose()


@app.command("enable")
@friendly_errors
def enable(bank: str) -> None:
    """Match against this bank."""
    _set_enabled(bank, True)


@app.command("disable")
@friendly_errors
def disable(bank: str) -> None:
    """Stop matching against this bank (entries are kept)."""
    _set_enabled(bank, False)


@app.command("import")
@friendly_errors
def import_(bank: str, path: Path,
            fmt: Annotated[str, typer.Option("--format", help=f"One of {', '.join(FORMATS)}.")
                           ] = "auto",
            signal_type: Annotated[str, typer.Option(
                help="Signal type of rows that do not name one.")] = "pdq",
            source: Annotated[str | None, typer.Option(
                help="Provenance for rows that name no source.")] = None) -> None:
    """Import a hash list (all or nothing: every bad line is listed)."""
    data = path.read_bytes()
    db = open_db()
    try:
        with db.session() as s:
            result = transfer.import_file(s, cli_actor(), bank, data, fmt=fmt,
                                          filename=path.name, default_signal_type=signal_type,
                                          source=source)
    except ImportRejected as exc:
        err_console.print(f"[bold red]{path}: rejected, nothing was stored[/] "
                          f"({len(exc.problems)} problem(s)):")
        for line, why in exc.problems:
            err_console.print(f"  line {line}: {why}" if line else f"  {why}", markup=False)
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    console.print(f"imported {path.name}: {result.added} new, {result.merged} merged into "
                  "existing entries")


@app.command("export")
@friendly_errors
def export(bank: str,
           fmt: Annotated[str, typer.Option("--format",
                                            help="csv, jsonl, te-file or lines.")] = "csv",
           out: Annotated[Path | None, typer.Option(help="File to write (default stdout).")
                          ] = None,
           signal_type: Annotated[str | None, typer.Option(help="Only this type.")] = None
           ) -> None:
    """Export a bank (the export is audited)."""
    db = open_db()
    with db.session() as s:
        if out is None:
            count = transfer.export_bank(s, cli_actor(), bank, sys.stdout, fmt, signal_type)
        else:
            with out.open("w", encoding="utf-8", newline="") as handle:
                count = transfer.export_bank(s, cli_actor(), bank, handle, fmt, signal_type)
    db.dispose()
    err_console.print(f"exported {count} entries")


@app.command("add-hash")
@friendly_errors
def add_hash(bank: str, value: str,
             signal_type: Annotated[str, typer.Option()] = "pdq",
             tag: Annotated[list[str] | None, typer.Option(help="Repeat for more.")] = None,
             source: Annotated[str, typer.Option()] = "",
             source_id: Annotated[str, typer.Option()] = "",
             quality: Annotated[int | None, typer.Option()] = None) -> None:
    """Add one hash (a duplicate merges its tags and provenance)."""
    db = open_db()
    with db.session() as s:
        entry = service.add_hash(s, cli_actor(), bank, signal_type, value, tags=tag or [],
                                 source=source, source_id=source_id, quality=quality)
        console.print(f"entry {entry.id} in bank [bold]{entry.bank.name}[/]")
    db.dispose()


@app.command("add-file")
@friendly_errors
def add_file(bank: str, path: Path,
             tag: Annotated[list[str] | None, typer.Option(help="Repeat for more.")] = None,
             source: Annotated[str, typer.Option()] = "",
             source_id: Annotated[str, typer.Option()] = "",
             variants: Annotated[bool, typer.Option(
                 help="Also bank PDQ of small crops/rotations.")] = True) -> None:
    """Hash a file you hold (in memory) and bank its hashes."""
    data = path.read_bytes()
    db = open_db()
    with db.session() as s:
        entries = service.add_file(s, cli_actor(), bank, data, label=path.name,
                                   tags=tag or [], source=source, source_id=source_id,
                                   variants=variants)
        console.print(f"{len(entries)} entries from {path.name}")
    db.dispose()


@app.command("remove-entry")
@friendly_errors
def remove_entry(entry_id: int,
                 bank: Annotated[str | None, typer.Option(
                     help="Refuse unless the entry is in this bank.")] = None) -> None:
    """Remove an entry."""
    db = open_db()
    with db.session() as s:
        service.remove_entry(s, cli_actor(), entry_id, bank)
    db.dispose()
    console.print(f"removed entry {entry_id}")
