"""`safeguard portal ...`: outreach material and the help directory of the child portal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from safeguard.cli.common import console, friendly_errors
from safeguard.config import get_settings

app = typer.Typer(help="Child portal: posters and the help directory.", no_args_is_help=True)


@app.command("poster")
@friendly_errors
def poster(
    out: Annotated[Path, typer.Option(help="File to write; .pdf or .png.")],
    lang: Annotated[str, typer.Option(help="Language of the poster and of the page its QR "
                                      "code opens: en, fr, es, pt or ar.")] = "en",
    url: Annotated[str, typer.Option(help="Address of the portal (default: "
                                     "SAFEGUARD_PUBLIC_URL).")] = "",
) -> None:
    """Write a printable A4 poster with a QR code to the portal in LANG."""
    from safeguard.web.poster import PosterError, poster_for

    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("pdf", "png"):
        raise PosterError(f"--out must end in .pdf or .png, got {out.name!r}")
    address = url or get_settings().public_url
    if not address:
        raise PosterError("no portal address: pass --url https://... or set "
                          "SAFEGUARD_PUBLIC_URL")
    data = poster_for(address, lang, fmt)
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise PosterError(f"cannot write {out}: {exc.strerror}") from None
    console.print(f"wrote {out} ({len(data) // 1024} KiB, {lang}, QR code to "
                  f"{address.rstrip('/')}/{lang}/)")


@app.command("help-check")
@friendly_errors
def help_check(file: Annotated[Path | None, typer.Option(
        help="Directory file to check (default: SAFEGUARD_HELP_DIRECTORY or the shipped "
             "one).")] = None) -> None:
    """Validate a help directory file and list what the portal will show."""
    from safeguard.help.directory import country_name, load_directory

    directory = load_directory(file or get_settings().help_directory)
    table = Table("country", "kind", "name", "phone", "hours", "source")
    for code, entry in directory.countries.items():
        for contact in entry.contacts:
            table.add_row(f"{code} {country_name(code, 'en')}", contact.kind, contact.name,
                          contact.phone or "", contact.hours or "", contact.source)
    console.print(table)
    console.print(f"{len(directory.countries)} countries, reviewed {directory.reviewed}")
