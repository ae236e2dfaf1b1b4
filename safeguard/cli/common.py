"""What every CLI module shares: the database, the acting identity and error reporting."""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from safeguard.audit.service import Actor
from safeguard.config import Settings, get_settings
from safeguard.db.engine import Database, DatabaseUnavailable
from safeguard.errors import SafeguardError

console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")


def open_db(settings: Settings | None = None) -> Database:
    return Database((settings or get_settings()).database_url)


def cli_actor() -> Actor:
    """CLI actions are audited under the operating-system account that ran them."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return Actor("cli", name, None, frozenset({"admin", "match", "banks:read", "banks:write",
                                               "matchlog:read"}))


@contextmanager
def session_scope(db: Database | None = None) -> Iterator[object]:
    database = db or open_db()
    try:
        with database.session() as session:
            yield session
    finally:
        if db is None:
            database.dispose()


def friendly_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Expected failures print one clear line and exit 1 instead of a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (SafeguardError, DatabaseUnavailable, ValueError, FileNotFoundError) as exc:
            # soft_wrap: a long path stays on one line, so it can be copied; escape: a message
            # quoting "[...]" from the input is shown as is, not read as Rich markup
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper
