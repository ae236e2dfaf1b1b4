"""`safeguard ads scan FILE`: extract, score and link an ad corpus; write leads and networks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

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
from safeguard.ads.records import Ad, LoadResult, load_csv, load_jsonl
from safeguard.cli.common import cli_actor, console, err_console, friendly_errors, open_db
from safeguard.errors import InvalidInput

app = typer.Typer(help="Trafficking indicators in online ads and the networks behind them.",
                  no_args_is_help=True)
_SHOWN_ERRORS = 20


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err_console)


def _load(file: Path, fmt: str, site: str | None, region: str | None) -> LoadResult:
    if not file.is_file():
        raise InvalidInput(f"{file} is not a file")
    kind = fmt if fmt != "auto" else ("csv" if file.suffix.lower() == ".csv" else "jsonl")
    if kind not in ("csv", "jsonl"):
        raise InvalidInput("--format must be auto, csv or jsonl")
    if region is not None and not (len(region) == 2 and region.isalpha()):
        raise InvalidInput(f"--region must be a two-letter ISO code, got {region!r}")
    defaults = {"default_site": site, "default_region": region.upper() if region else None}
    return (load_csv(file, **defaults) if kind == "csv" else load_jsonl(file, **defaults))


def _report_input(result: LoadResult) -> None:
    for error in result.errors[:_SHOWN_ERRORS]:
        err_console.print(f"[yellow]skipped line {error.line}:[/] {escape(error.message)}")
    if len(result.errors) > _SHOWN_ERRORS:
        err_console.print(f"[yellow]… and {len(result.errors) - _SHOWN_ERRORS} more bad "
                          "lines[/]")
    for note in result.notes[:_SHOWN_ERRORS]:
        err_console.print(f"[dim]note: {escape(note)}[/]")
    err_console.print(f"read {len(result.ads):,} ads; skipped {result.skipped:,} bad line(s); "
                      f"{result.duplicates:,} duplicate(s) in the file ignored")


def _extract(ads: list[Ad], scheduler: str | None, workers: int, progress: Progress,
             task: TaskID) -> Iterator[list[Entity]]:
    if scheduler is None:
        for ad in ads:
            yield extract(ad)
            progress.advance(task)
        return
    from safeguard.jobs.ads import extract_on_dask
    from safeguard.jobs.scan import dask_client

    target = None if scheduler == "local" else scheduler
    with dask_client(target, workers) as client:
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
    loaded = _load(file, fmt, site, region)
    _report_input(loaded)
    ads = loaded.ads
    linker = Linker()
    found: list[list[Entity]] = []
    with _progress() as progress:
        extract_task = progress.add_task("extracting entities", total=len(ads))
        link_task = progress.add_task("linking", total=len(ads))
        pending_ads: list[Ad] = []
        pending: list[list[Entity]] = []
        for entities in _extract(ads, scheduler, workers, progress, extract_task):
            found.append(entities)
            pending_ads.append(ads[len(found) - 1])
            pending.append(entities)
            if len(pending) >= 1000:
                linker.add(pending_ads, pending)
                progress.advance(link_task, len(pending))
                pending_ads, pending = [], []
        linker.add(pending_ads, pending)
        progress.advance(link_task, len(pending))
        assessments = [assess(ad, f, ruleset) for ad, f in zip(ads, found, strict=True)]
        stored_networks = _store(ads, found, progress) if store else None
    found_networks = linker.networks()
    network_of = {key: n.id for n in found_networks for key in n.ads}
    score_of = {ad.key: a.score for ad, a in zip(ads, assessments, strict=True)}
    title_of = {ad.key: ad.title for ad in ads}
    if out is not None:
        leads = sorted((lead_from(ad, f, a, network_of.get(ad.key))
                        for ad, f, a in zip(ads, found, assessments, strict=True)
                        if a.score >= min_score), key=lambda r: (-r.score, r.site, r.ad_id))
        chunks = leads_csv(leads) if out.suffix.lower() == ".csv" else leads_jsonl(leads)
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
    table.add_row("ads processed", f"{len(ads):,}")
    table.add_row("bad lines skipped", f"{loaded.skipped:,}")
    table.add_row("duplicates ignored", f"{loaded.duplicates:,}")
    table.add_row("leads scored >= 0.5", f"{sum(a.score >= 0.5 for a in assessments):,}")
    table.add_row("networks (>= 2 ads)", f"{len(found_networks):,}")
    table.add_row("largest network", f"{len(found_networks[0].ads) if found_networks else 0:,}")
    table.add_row("hub values capped", ", ".join(sorted(linker.hubs)[:5]) or "none")
    if stored_networks is not None:
        table.add_row("networks created or changed in the store", f"{len(stored_networks):,}")
    console.print(table)
    console.print(f"[dim]{DISCLAIMER}[/]")


def _store(ads: list[Ad], found: list[list[Entity]], progress: Progress) -> set[str]:
    task = progress.add_task("storing and linking", total=len(ads))
    touched: set[str] = set()
    db = open_db()
    try:
        for start in range(0, len(ads), service.MAX_BATCH):
            with db.session() as session:
                result = service.ingest(session, cli_actor(),
                                        ads[start:start + service.MAX_BATCH],
                                        entities=found[start:start + service.MAX_BATCH])
            touched.update(result.networks)
            progress.advance(task, result.received)
    finally:
        db.dispose()
    return touched


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
