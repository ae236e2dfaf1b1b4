"""PostgreSQL for tests (pytest plugin, registered in tests/conftest.py).

The server is the private one from ``scripts/postgres.sh`` (started by ``make test``, which exports
``SAFEGUARD_TEST_POSTGRES_URL``). Without that variable, Postgres tests are skipped locally and
*fail* under CI, so CI can never pass while silently not testing PostgreSQL.

Fast per-test databases: migrate one template database per session, then clone it for each test
with ``CREATE DATABASE ... TEMPLATE`` (a file copy inside the server, a few tens of ms)::

    template = make_postgres_template(postgres_url, lambda url: upgrade(Database(url)))
    url = fresh_postgres_database(template)
    ...
    drop_postgres_database(url)

or, as a context manager, ``with postgres_database(template) as url: ...``.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.pool import NullPool

ENV_VAR = "SAFEGUARD_TEST_POSTGRES_URL"
START_HINT = (
    "start the test server with `bash scripts/postgres.sh start` and "
    f"`export {ENV_VAR}=$(bash scripts/postgres.sh url)`, or run `make test`"
)


def in_ci() -> bool:
    """True when the ``CI`` environment variable is set to anything but an explicit no."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def admin_execute(url: str, sql: str, *, attempts: int = 5) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE need that). A DROP ...
    WITH (FORCE) that meets an autovacuum worker (a server started before autovacuum was
    switched off in scripts/postgres.sh) is refused for lack of privilege: try again shortly."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        for attempt in range(attempts):
            try:
                with engine.connect() as conn:
                    conn.execute(text(sql))
                return
            except ProgrammingError as exc:
                if "pg_signal_backend" not in str(exc) or attempt == attempts - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))
    finally:
        engine.dispose()


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` (password kept, unlike ``str(URL)``)."""
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _quote(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unsafe database name {name!r}")
    return f'"{name}"'


def _database_of(url: str) -> str:
    name = make_url(url).database
    if not name:
        raise ValueError(f"no database name in {url!r}")
    return name


def _server_url(url: str) -> str:
    """An administrative connection: same server and role, the role's default database."""
    return with_database(url, "postgres")


def _terminate_connections(url: str, name: str) -> None:
    admin_execute(
        _server_url(url),
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()",
    )


def make_postgres_template(
    server_url: str, prepare: Callable[[str], None], prefix: str = "sgtpl"
) -> str:
    """Create an empty database, let ``prepare(url)`` fill it (run migrations), return its URL.

    ``prepare`` must close its connections (``Database.dispose()``); any left open are
    terminated, because PostgreSQL cannot copy a template that has sessions.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin_execute(server_url, f"CREATE DATABASE {_quote(name)}")
    url = with_database(server_url, name)
    try:
        prepare(url)
    except BaseException:
        drop_postgres_database(url)
        raise
    _terminate_connections(server_url, name)
    return url


def fresh_postgres_database(template_url: str, prefix: str = "sgtest") -> str:
    """A new database cloned from ``template_url``'s database; returns its URL."""
    template = _database_of(template_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin_execute(
        _server_url(template_url), f"CREATE DATABASE {_quote(name)} TEMPLATE {_quote(template)}"
    )
    return with_database(template_url, name)


def drop_postgres_database(url: str) -> None:
    """Drop the database ``url`` names, disconnecting anyone still using it."""
    admin_execute(
        _server_url(url), f"DROP DATABASE IF EXISTS {_quote(_database_of(url))} WITH (FORCE)"
    )


@contextmanager
def postgres_database(template_url: str) -> Iterator[str]:
    """``fresh_postgres_database`` for the ``with`` block, dropped afterwards."""
    url = fresh_postgres_database(template_url)
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of the test server's ``safeguard_test`` database (role may CREATE DATABASE).

    Skips when PostgreSQL was not started; under ``CI`` that is a failure instead.
    """
    url = os.environ.get(ENV_VAR, "").strip()
    if not url:
        message = f"PostgreSQL tests need {ENV_VAR}: {START_HINT}"
        if in_ci():
            pytest.fail(f"CI must run the PostgreSQL tests. {message}", pytrace=False)
        pytest.skip(message)
    try:
        admin_execute(url, "SELECT 1")
    except Exception as exc:  # any failure means the same here
        pytest.fail(
            f"{ENV_VAR}={url} is set but the server does not answer ({exc}); {START_HINT}",
            pytrace=False,
        )
    return url


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgres: needs the PostgreSQL server started by scripts/postgres.sh"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use ``postgres_url`` (directly or through another fixture) get the
    ``postgres`` marker, so ``-m "not postgres"`` leaves them out."""
    for item in items:
        if "postgres_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)
