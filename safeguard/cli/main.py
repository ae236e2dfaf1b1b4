"""Entry point of the `safeguard` command."""

from __future__ import annotations

from typing import Annotated

import typer

from safeguard.cli import (
    ads,
    banks,
    conversations,
    demo,
    evidence,
    hashing,
    match,
    notices,
    portal,
    reports,
    retention,
)
from safeguard.cli.admin import audit_app, db_app, token_app, user_app

app = typer.Typer(help="Safeguard: detect, report, respond, cooperate.", no_args_is_help=True,
                  pretty_exceptions_show_locals=False)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
app.add_typer(banks.app, name="bank")
app.add_typer(match.app, name="match")
app.add_typer(demo.app, name="demo")
app.add_typer(evidence.app, name="evidence")
app.add_typer(notices.app, name="notices")
app.add_typer(retention.app, name="retention")
app.add_typer(conversations.app, name="conversations")
app.add_typer(ads.app, name="ads")
app.add_typer(portal.app, name="portal")
app.add_typer(reports.app, name="reports")
app.command("hash")(hashing.app)


@app.command()
def serve(host: Annotated[str, typer.Option()] = "127.0.0.1",
          port: Annotated[int, typer.Option()] = 8000) -> None:
    """Serve the console and the API."""
    import uvicorn

    from safeguard.web.app import create_app

    uvicorn.run(create_app(), host=host, port=port, proxy_headers=False)
