"""`safeguard evidence`: export a case as a signed bundle, verify a bundle, show the key."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safeguard.cases import evidence
from safeguard.cases.instance_key import load_or_create, public_pem
from safeguard.cli.common import cli_actor, console, err_console, friendly_errors, open_db
from safeguard.config import get_settings
from safeguard.db.encryption import cipher_for

app = typer.Typer(help="Signed evidence bundles of cases.", no_args_is_help=True)


@app.command("export")
@friendly_errors
def export(case_id: int, out: Annotated[Path, typer.Option(help="Where to write the zip.")],
           include_text: Annotated[bool, typer.Option(
               help="Include free-text items (redacted by default).")] = False) -> None:
    """Write CASE_ID's evidence bundle (signed with this instance's key)."""
    settings = get_settings()
    db = open_db(settings)
    with db.session() as s:
        data = evidence.build_bundle(s, cli_actor(), case_id, cipher=cipher_for(settings),
                                     key=load_or_create(settings.data_dir),
                                     include_text=include_text)
    db.dispose()
    out.write_bytes(data)
    console.print(f"wrote {out} ({len(data)} bytes)")


@app.command("verify")
def verify(bundle: Path, signer: Annotated[str | None, typer.Option(
        help="Fingerprint the bundle must be signed with (from `safeguard evidence key` "
             "on the sending instance).")] = None) -> None:
    """Check a bundle's signature and every file in it; exit 1 when anything is wrong."""
    try:
        data = bundle.read_bytes()
    except OSError as exc:
        err_console.print(f"[bold red]error:[/] cannot read {bundle}: {exc}")
        raise typer.Exit(1) from None
    verdict = evidence.verify_bundle(data, expected_signer=signer)
    if verdict.ok:
        console.print(f"[green]valid[/]: signed by {verdict.signer}; every file matches")
        return
    for problem in verdict.problems:
        err_console.print(f"[bold red]invalid:[/] {problem}")
    raise typer.Exit(1)


@app.command("key")
def key() -> None:
    """Print this instance's public key and its fingerprint, to give to recipients."""
    pem = public_pem(load_or_create(get_settings().data_dir))
    console.print(pem.decode().strip())
    console.print(f"fingerprint: {evidence.fingerprint(pem)}")
