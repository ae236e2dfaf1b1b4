"""`safeguard notices run`: send due takedown notices and re-check noticed URLs."""

from __future__ import annotations

import time
from typing import Annotated

import httpx
import typer

from safeguard.cases import notices
from safeguard.cases.delivery import HttpChecker, senders_for
from safeguard.cli.common import console, friendly_errors, open_db
from safeguard.config import get_settings

app = typer.Typer(help="Takedown notices.", no_args_is_help=True)


@app.command("run")
@friendly_errors
def run(every: Annotated[float | None, typer.Option(
        help="Keep running, one pass every this many seconds (for a service unit).")] = None
        ) -> None:
    """One pass (or one every --every seconds): send what is due, grouped per abuse
    contact; re-check noticed URLs (HEAD only) and close the ones that are gone."""
    settings = get_settings()
    db = open_db(settings)
    schedule = notices.Schedule.from_settings(settings)
    with httpx.Client(timeout=10.0, headers={"User-Agent": "Safeguard-notice-check"}) as client:
        senders, checker = senders_for(settings, client), HttpChecker(client)
        while True:
            counts = notices.run_once(db, senders, checker, org_name=settings.reporter_org_name,
                                      reply_to=settings.reporter_email, schedule=schedule)
            console.print(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in counts.items()))
            if every is None:
                break
            time.sleep(every)
    db.dispose()
