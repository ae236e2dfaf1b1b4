"""`safeguard db|user|token|audit ...`"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from safeguard.audit import service as audit
from safeguard.auth import service as auth
from safeguard.auth.models import Role
from safeguard.auth.passwords import generate_password
from safeguard.cli.common import cli_actor, console, friendly_errors, open_db
from safeguard.db.migrate import upgrade

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="Console users.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for platform integrations.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


@db_app.command("upgrade")
@friendly_errors
def db_upgrade() -> None:
    """Create or migrate the database schema to the latest version."""
    db = open_db()
    upgrade(db)
    console.print(f"database at [bold]{db.engine.url.render_as_string(hide_password=True)}[/] "
                  "is up to date")
    db.dispose()


@user_app.command("create")
@friendly_errors
def user_create(username: str,
                role: Annotated[Role, typer.Option(help="admin or analyst")] = Role.ANALYST,
                password: Annotated[str | None, typer.Option(
                    help="Omit to generate one (printed once).")] = None) -> None:
    """Create a console user."""
    secret = password or generate_password()
    db = open_db()
    with db.session() as s:
        auth.create_user(s, cli_actor(), username, secret, role)
    db.dispose()
    console.print(f"created {role.value} [bold]{username}[/]")
    if password is None:
        console.print(f"password (shown once): [bold]{secret}[/]")


@user_app.command("password")
@friendly_errors
def user_password(username: str) -> None:
    """Set a new, generated password for USERNAME (printed once) and unlock the account."""
    secret = generate_password()
    db = open_db()
    with db.session() as s:
        auth.set_password(s, cli_actor(), username, secret)
    db.dispose()
    console.print(f"new password for [bold]{username}[/] (shown once): [bold]{secret}[/]")


@user_app.command("totp-reset")
@friendly_errors
def user_totp_reset(username: str) -> None:
    """Turn two-step sign-in off for USERNAME (a lost phone); they set it up again at the
    next sign-in when their role requires it."""
    from safeguard.auth import totp

    db = open_db()
    with db.session() as s:
        totp.reset(s, cli_actor(), auth.get_user(s, username))
    db.dispose()
    console.print(f"two-step sign-in is off for [bold]{username}[/]")


@user_app.command("list")
@friendly_errors
def user_list() -> None:
    db = open_db()
    table = Table("username", "role", "disabled", "created")
    with db.session() as s:
        for u in auth.list_users(s):
            table.add_row(u.username, u.role, str(u.disabled), f"{u.created_at:%Y-%m-%d %H:%M}")
    db.dispose()
    console.print(table)


@token_app.command("create")
@friendly_errors
def token_create(owner: str, name: str,
                 scope: Annotated[list[str], typer.Option(help="Repeat for more scopes.")]) -> None:
    """Issue an API token for OWNER; the secret is printed once."""
    db = open_db()
    with db.session() as s:
        issued = auth.create_token(s, cli_actor(), auth.get_user(s, owner), name, scope)
    db.dispose()
    console.print(f"token {issued.token.id} ({', '.join(issued.token.scopes)})")
    console.print(f"secret (shown once): [bold]{issued.secret}[/]")


@token_app.command("list")
@friendly_errors
def token_list() -> None:
    db = open_db()
    table = Table("id", "name", "prefix", "scopes", "owner", "revoked")
    with db.session() as s:
        for t in auth.list_tokens(s):
            table.add_row(str(t.id), t.name, t.prefix, " ".join(t.scopes), t.user.username,
                          f"{t.revoked_at:%Y-%m-%d}" if t.revoked_at else "")
    db.dispose()
    console.print(table)


@token_app.command("revoke")
@friendly_errors
def token_revoke(token_id: int) -> None:
    db = open_db()
    with db.session() as s:
        auth.revoke_token(s, cli_actor(), token_id)
    db.dispose()
    console.print(f"token {token_id} revoked")


@audit_app.command("verify")
@friendly_errors
def audit_verify() -> None:
    """Recompute the hash chain; exit 1 and name each broken event if tampered with."""
    db = open_db()
    with db.session() as s:
        result = audit.verify_chain(s)
        audit.record(s, cli_actor(), "audit.verify", "audit", "", ok=result.ok)
    db.dispose()
    if result.ok:
        console.print(f"[green]audit log intact[/]: {result.checked} events verified")
        return
    for problem in result.problems:
        console.print(f"[bold red]tampered:[/] {problem}")
    raise typer.Exit(1)


@audit_app.command("list")
@friendly_errors
def audit_list(limit: int = 50) -> None:
    db = open_db()
    table = Table("seq", "at", "actor", "action", "target")
    with db.session() as s:
        for e in audit.recent(s, limit):
            table.add_row(str(e.seq), f"{e.at:%Y-%m-%d %H:%M:%S}", e.actor, e.action,
                          f"{e.target_type}:{e.target_id}" if e.target_type else "")
    db.dispose()
    console.print(table)
