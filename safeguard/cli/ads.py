"""`safeguard ads scan FILE`: extract, score and link an ad corpus; write leads and networks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from safeguard.ads import service
from safeguard.ads.exports import (
    LeadRow,
    lead_from,
    leads_csv,
    leads_jsonl,
    network_from,
    networks_graphml,
    networks_json,
)
from safeguard.ads.extract import Entity, extract
from safeguard.ads.indicators import DISCLAIMER, assess, default_rules, load_rules
from safeguard.ads.linking import Linker
from safeguard.ads.records import Ad, LoadResult, iter_jsonl, load_csv
from safeguard.cli.common import cli_actor, console, err_console, friendly_errors, open_db
from safeguard.errors import InvalidInput

app = typer.Typer(help="Trafficking indicators in online ads and the networks behind them.",
                  no_args_is_help=True)
_SHOWN_ERRORS = 20


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err_console)


def _load(file: Path, fmt: str, site: str | None, region: str | None
          ) -> tuple[Iterator[LoadResult], int]:
    """Parts of the input (JSON lines stream in parts of 10,000 lines; a CSV file is one part)
    and the number of lines, for the progress bars."""
    if not file.is_file():
        raise InvalidInput(f"{file} is not a file")
    kind = fmt if fmt != "auto" else ("csv" if file.suffix.lower() == ".csv" else "jsonl")
    if kind not in ("csv", "jsonl"):
        raise InvalidInput("--format must be auto, csv or jsonl")
    if region is not None and not (len(region) == 2 and region.isalpha()):
        raise InvalidInput(f"--region must be a two-letter ISO code, got {region!r}")
    defaults = {"default_site": site, "default_region": region.upper() if region else None}
    if kind == "csv":
        loaded = load_csv(file, **defaults)
        return iter([loaded]), len(loaded.ads)
    with file.open("rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    return iter_jsonl(file, default_site=site,
                      default_region=region.upper() if region else None), lines


class _InputReport:
    """Bad lines and notes as they stream in (the first 20 of each), and the totals."""

    def __init__(self) -> None:
        self.ads = self.skipped = self.duplicates = self.notes = 0

    def add(self, part: LoadResult) -> None:
        for error in part.errors[:max(0, _SHOWN_ERRORS - self.skipped)]:
            err_console.print(f"[yellow]skipped line {error.line}:[/] {escape(error.message)}")
        for note in part.notes[:max(0, _SHOWN_ERRORS - self.notes)]:
            err_console.print(f"[dim]note: {escape(note)}[/]")
        self.ads += len(part.ads)
        self.skipped += part.skipped
        self.duplicates += part.duplicates
        self.notes += len(part.notes)

    def summary(self) -> None:
        if self.skipped > _SHOWN_ERRORS:
            err_console.print(f"[yellow]… and {self.skipped - _SHOWN_ERRORS} more bad lines[/]")
        err_console.print(f"read {self.ads:,} ads; skipped {self.skipped:,} bad line(s); "
                          f"{self.duplicates:,} duplicate(s) in the file ignored")


def _extract(ads: list[Ad], client: Any, progress: Progress, task: TaskID
             ) -> Iterator[list[Entity]]:
    if client is None:
        for ad in ads:
            yield extract(ad)
            progress.advance(task)
        return
    from safeguard.jobs.ads import extract_on_dask

    yield from extract_on_dask(client, ads, on_done=lambda n: progress.advance(task, n))


@app.command("scan")
@friendly_errors
def scan(file: Annotated[Path, typer.Argument(help="Ads as JSON lines (.jsonl) or CSV (.csv)")],
         out: Annotated[Path | None, typer.Option(
             help="Write leads here: .csv for CSV, anything else JSON lines.")] = None,
         networks: Annotated[Path | None, typer.Option(
             help="Write networks here: .graphml for GraphML, anything else JSON.")] = None,
         store: Annotated[bool, typer.Option(
             help="Also store the ads and link them into the database's networks.")] = False,
         scheduler: Annotated[str | None, typer.Option(
             help="Extract on Dask: a scheduler address (tcp://host:8786), or 'local' for a "
                  "local cluster. Needs pip install 'safeguard[dask]'.")] = None,
         workers: Annotated[int, typer.Option(help="Workers of a local Dask cluster.")] = 2,
         fmt: Annotated[str, typer.Option("--format", help="auto, jsonl or csv.")] = "auto",
         site: Annotated[str | None, typer.Option(help="Site for rows that name none.")] = None,
         region: Annotated[str | None, typer.Option(
             help="Region hint for phone numbers (ISO code, e.g. GB) for rows that give none."
         )] = None,
         rules: Annotated[Path | None, typer.Option(
             help="Indicator rules (TOML) instead of the shipped ones.")] = None,
         min_score: Annotated[float, typer.Option(help="Only leads scored at least this.")]
         = 0.0) -> None:
    """Extract entities, score indicators and link the ads of FILE into networks. Bad lines
    are reported by number and skipped; the valid ones are processed."""
    if scheduler is not None:
        from safeguard.jobs.ads import DaskMissing, require_dask

        try:
            require_dask()
        except DaskMissing as exc:
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}")
            raise typer.Exit(2) from None
    if not 0 <= min_score <= 1:
        raise InvalidInput("--min-score must be between 0 and 1")
    ruleset = load_rules(rules) if rules is not None else default_rules()
    parts, lines = _load(file, fmt, site, region)
    report = _InputReport()
    linker = Linker()
    # Per ad only its lead (score, reasons, identifiers) and title are kept; the input streams
    # in parts and entities are dropped once an ad is linked (and stored).
    leads: list[LeadRow] = []
    title_of: dict[str, str] = {}
    stored_networks: set[str] | None = set() if store else None
    with ExitStack() as stack:
        db = open_db() if store else None
        if db is not None:
            stack.callback(db.dispose)
        client = None
        if scheduler is not None:
            from safeguard.jobs.scan import dask_client

            client = stack.enter_context(
                dask_client(None if scheduler == "local" else scheduler, workers))
        progress = stack.enter_context(_progress())
        extract_task = progress.add_task("extracting entities", total=lines)
        link_task = progress.add_task("linking" + (" and storing" if store else ""),
                                      total=lines)
        pending_ads: list[Ad] = []
        pending: list[list[Entity]] = []

        def flush() -> None:
            linker.add(pending_ads, pending)
            if db is not None and stored_networks is not None and pending_ads:
                with db.session() as session:
                    result = service.ingest(session, cli_actor(), pending_ads,
                                            entities=pending, rules=ruleset)
                stored_networks.update(result.networks)
            progress.advance(link_task, len(pending))
            pending_ads.clear()
            pending.clear()

        for part in parts:
            report.add(part)
            for ad, entities in zip(part.ads, _extract(part.ads, client, progress,
                                                       extract_task), strict=True):
                leads.append(lead_from(ad, entities, assess(ad, entities, ruleset), None))
                title_of[ad.key] = ad.title
                pending_ads.append(ad)
                pending.append(entities)
                if len(pending) >= service.MAX_BATCH:
                    flush()
        flush()
        progress.update(extract_task, completed=lines)
        progress.update(link_task, completed=lines)
    report.summary()
    found_networks = linker.networks()
    network_of = {key: n.id for n in found_networks for key in n.ads}
    score_of = {f"{lead.site}:{lead.ad_id}": lead.score for lead in leads}
    if out is not None:
        chosen = sorted((replace(lead, network=network_of.get(f"{lead.site}:{lead.ad_id}"))
                         for lead in leads if lead.score >= min_score),
                        key=lambda r: (-r.score, r.site, r.ad_id))
        chunks = leads_csv(chosen) if out.suffix.lower() == ".csv" else leads_jsonl(chosen)
        with out.open("w", encoding="utf-8", newline="") as handle:
            handle.writelines(chunks)
    if networks is not None:
        rows = [network_from(n, max(score_of[k] for k in n.ads),
                             {k: title_of[k] for k in n.ads}) for n in found_networks]
        if networks.suffix.lower() == ".graphml":
            networks.write_bytes(networks_graphml(rows))
        else:
            networks.write_text(networks_json(rows), encoding="utf-8")
    table = Table("measure", "value", title=f"Ads in {file.name}")
    table.add_row("ads processed", f"{report.ads:,}")
    table.add_row("bad lines skipped", f"{report.skipped:,}")
    table.add_row("duplicates ignored", f"{report.duplicates:,}")
    table.add_row("leads scored >= 0.5", f"{sum(lead.score >= 0.5 for lead in leads):,}")
    table.add_row("networks (>= 2 ads)", f"{len(found_networks):,}")
    table.add_row("largest network", f"{len(found_networks[0].ads) if found_networks else 0:,}")
    table.add_row("hub values capped", ", ".join(sorted(linker.hubs)[:5]) or "none")
    if stored_networks is not None:
        table.add_row("networks created or changed in the store", f"{len(stored_networks):,}")
    console.print(table)
    console.print(f"[dim]{DISCLAIMER}[/]")


@app.command("export")
@friendly_errors
def export(leads: Annotated[Path | None, typer.Option(
               help="Write the stored leads here: .csv for CSV, anything else JSON lines.")]
           = None,
           networks: Annotated[Path | None, typer.Option(
               help="Write the stored networks here: .graphml for GraphML, anything else "
                    "JSON.")] = None,
           min_score: Annotated[float, typer.Option(help="Only leads scored at least this.")]
           = 0.0,
           min_size: Annotated[int, typer.Option(help="Only networks of this many ads or "
                                                       "more.")] = 2) -> None:
    """Export what is stored (ads sent through the API or `scan --store`)."""
    if leads is None and networks is None:
        raise InvalidInput("name at least one of --leads and --networks")
    if min_size < 2:
        raise InvalidInput("--min-size must be at least 2")
    db = open_db()
    try:
        with db.session() as session:
            if leads is not None:
                rows = service.lead_rows(session, min_score=min_score)
                chunks = leads_csv(rows) if leads.suffix.lower() == ".csv" else leads_jsonl(rows)
                with leads.open("w", encoding="utf-8", newline="") as handle:
                    handle.writelines(chunks)
                console.print(f"wrote leads to {leads}")
            if networks is not None:
                found = service.network_rows(session, min_size=min_size)
                if networks.suffix.lower() == ".graphml":
                    networks.write_bytes(networks_graphml(found))
                else:
                    networks.write_text(networks_json(found), encoding="utf-8")
                console.print(f"wrote {len(found):,} network(s) to {networks}")
    finally:
        db.dispose()
