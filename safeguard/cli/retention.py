"""`safeguard retention purge`: apply the retention rules (SAFEGUARD_RETENTION)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from safeguard.cases import retention
from safeguard.cli.common import cli_actor, console, friendly_errors, open_db
from safeguard.config import get_settings

app = typer.Typer(help="Retention rules, purges and legal holds.", no_args_is_help=True)


@app.command("purge")
@friendly_errors
def purge(dry_run: Annotated[bool, typer.Option(
        help="Only count what would be purged.")] = False) -> None:
    """Delete what the retention rules say is past its time (audited per data type)."""
    settings = get_settings()
    policy = retention.parse_policy(settings.retention)
    if not policy:
        console.print("no retention rules set (SAFEGUARD_RETENTION); nothing to purge")
        return
    db = open_db(settings)
    with db.session() as s:
        results = retention.purge(s, cli_actor(), policy, dry_run=dry_run)
    db.dispose()
    table = Table("data type", "older than", "would purge" if dry_run else "purged")
    for r in results:
        table.add_row(r.data_type, r.cutoff.strftime("%Y-%m-%d %H:%M UTC"), str(r.count))
    console.print(table)


@app.command("hold")
@friendly_errors
def hold(case_id: int, reason: Annotated[str, typer.Option(help="Why (audited).")],
         release: Annotated[bool, typer.Option(help="Release the hold instead.")] = False
         ) -> None:
    """Put a case under legal hold (or release it): it is then never purged."""
    db = open_db()
    with db.session() as s:
        case = retention.set_legal_hold(s, cli_actor(), case_id, not release, reason)
        console.print(f"{case.reference}: legal hold {'on' if case.legal_hold else 'off'}")
    db.dispose()
