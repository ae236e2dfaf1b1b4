"""`safeguard reports ...`: list and read reports, partners to tell after withdrawals, and
re-encryption under a new field key. The same service functions as the API and the portal."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from safeguard.cli.common import cli_actor, console, friendly_errors, open_db
from safeguard.config import get_settings
from safeguard.db.encryption import cipher_for
from safeguard.reports import service
from safeguard.reports.models import ReportSource

app = typer.Typer(help="Reports from the child portal, platforms and partners.",
                  no_args_is_help=True)


@app.command("list")
@friendly_errors
def list_reports(source: Annotated[ReportSource | None, typer.Option(
                     help="child_portal, platform or partner")] = None,
                 limit: Annotated[int, typer.Option(min=1, max=500)] = 50) -> None:
    """Newest reports first (nothing is decrypted)."""
    db = open_db()
    with db.session() as s:
        table = Table("id", "received (UTC)", "source", "incident type", "urgent",
                      "links", "hashes")
        for r in service.list_reports(s, source=source, limit=limit):
            table.add_row(str(r.id), r.received_at.strftime("%Y-%m-%d %H:%M"), r.source,
                          r.incident_type or "-", "yes" if r.urgent else "no",
                          str(len(r.urls)), str(len(r.hashes)))
    db.dispose()
    console.print(table)


@app.command("show")
@friendly_errors
def show(report_id: int) -> None:
    """One report with its reporter text decrypted (written to the audit log)."""
    settings = get_settings()
    db = open_db(settings)
    with db.session() as s:
        view = service.read_report(s, cli_actor(), report_id, cipher=cipher_for(settings))
        r = view.report
        console.print(f"report {r.id} from {r.source} ({r.submitted_by}), "
                      f"{'URGENT, ' if r.urgent else ''}age band {r.age_band}")
        console.print(f"incident type: {r.incident_type or '-'}; choices: "
                      f"{', '.join(r.what) or '-'}")
        console.print(f"in their words: {view.details or '-'}")
        console.print(f"reported account: {view.reported_account or '-'}")
        console.print(f"links: {', '.join(r.urls) or '-'}")
        console.print("hashes: " + (", ".join(f"{h.kind}:{h.value}" for h in r.hashes) or "-"))
        for addition, text in view.additions:
            console.print(f"added {addition.added_at:%Y-%m-%d %H:%M}: {text or '-'} "
                          f"{' '.join(addition.urls)}")
        console.print(f"contact: {view.contact or '-'}")
    db.dispose()


@app.command("to-tell")
@friendly_errors
def to_tell() -> None:
    """Withdrawn reports whose hashes went to partners that were not told yet."""
    db = open_db()
    with db.session() as s:
        pending = service.withdrawals_to_tell(s)
    db.dispose()
    if not pending:
        console.print("no partner needs to be told")
    # One line each, never a table: the reference must stay whole to be copied to `told`.
    for t in pending:
        console.print(f"{t.ref}  withdrawn {t.withdrawn_at:%Y-%m-%d %H:%M} UTC, "
                      f"{t.hash_count} hash(es); tell: {', '.join(t.partners_to_tell)}",
                      soft_wrap=True, highlight=False)


@app.command("told")
@friendly_errors
def told(ref: str) -> None:
    """Record that the partners of a withdrawn report were told (audited)."""
    db = open_db()
    with db.session() as s:
        service.mark_partners_told(s, cli_actor(), ref)
    db.dispose()
    console.print(f"{ref}: partners told")


@app.command("rotate-keys")
@friendly_errors
def rotate_keys() -> None:
    """Re-encrypt reporter text under the first key of SAFEGUARD_FIELD_KEYS."""
    settings = get_settings()
    db = open_db(settings)
    with Progress(console=console, transient=True) as progress:
        progress.add_task("re-encrypting reports", total=None)
        with db.session() as s:
            count = service.rotate_keys(s, cli_actor(), cipher=cipher_for(settings))
    db.dispose()
    console.print(f"{count} values re-encrypted under the newest key")
