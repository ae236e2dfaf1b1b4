"""Entry point of the `safeguard` command."""

from __future__ import annotations

from typing import Annotated

import typer

from safeguard.cli.admin import audit_app, db_app, token_app, user_app

app = typer.Typer(help="Safeguard: detect, report, respond, cooperate.", no_args_is_help=True,
                  pretty_exceptions_show_locals=False)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")


@app.command()
def serve(host: Annotated[str, typer.Option()] = "127.0.0.1",
          port: Annotated[int, typer.Option()] = 8000) -> None:
    """Serve the console and the API."""
    import uvicorn

    from safeguard.web.app import create_app

    uvicorn.run(create_app(), host=host, port=port, proxy_headers=False)


def _optional_domains() -> None:
    from importlib import import_module

    for module, name in (("safeguard.cli.banks", "bank"), ("safeguard.cli.match", "match"),
                         ("safeguard.cli.hashing", "hash"), ("safeguard.cli.demo", "demo")):
        try:
            sub = import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        if isinstance(sub.app, typer.Typer):
            app.add_typer(sub.app, name=name)
        else:
            app.command(name)(sub.app)


_optional_domains()
