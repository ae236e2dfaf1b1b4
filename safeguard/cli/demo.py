"""`safeguard demo load`"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safeguard.cli.common import console, friendly_errors, open_db
from safeguard.config import get_settings
from safeguard.db.encryption import cipher_for
from safeguard.demo import load_demo

app = typer.Typer(help="Demo data for trying Safeguard.", no_args_is_help=True)


@app.command("load")
@friendly_errors
def load(images: Annotated[Path | None, typer.Option(
        help="Where to write the demo pictures (default: DATA_DIR/demo-images).")] = None) -> None:
    """Create demo accounts and a demo bank of hashes of generated, benign pictures."""
    settings = get_settings()
    target = images or settings.data_dir / "demo-images"
    db = open_db(settings)
    result = load_demo(db, target, cipher_for(settings))
    db.dispose()
    for acct in result.accounts:
        if acct.password:
            console.print(f"[bold]{acct.username}[/] ({acct.role}) password, shown once: "
                          f"[bold green]{acct.password}[/]")
        else:
            console.print(f"{acct.username} ({acct.role}) already exists; its password was shown "
                          "when it was created (reset: safeguard user password "
                          f"{acct.username})")
    console.print(f"demo bank: {result.bank_entries} new entries; pictures to try in {target} "
                  "(known/, altered/, unknown/)")
    work = result.work
    if work is not None:
        case = f", case {work.case_reference}" if work.case_reference else ""
        console.print(f"demo work: {work.reports_added} new reports, {work.grooming_items} "
                      f"grooming leads in triage, {work.ads_added} new ads in "
                      f"{work.networks} networks{case}")
        if work.child_code:
            console.print(f"demo child report: case code [bold]{work.child_code}[/], PIN "
                          f"[bold]{work.child_pin}[/] (try them on the portal's status page)",
                          soft_wrap=True)
