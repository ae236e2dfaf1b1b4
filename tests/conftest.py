"""Shared fixtures. Storage and API tests run against SQLite and PostgreSQL (`db` is
parametrised); PostgreSQL comes from scripts/postgres.sh, started by `make test`."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from safeguard.config import Settings
from safeguard.db.engine import Database
from safeguard.db.migrate import upgrade

pytest.register_assert_rewrite("tests.support")
from tests.support.postgres import admin_execute  # noqa: E402  (after the rewrite hook)

pytest_plugins = ["tests.support.postgres", "tests.support.browser", "tests.support.live_server"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once; each test copies the file (much faster than migrating per test)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()  # closing the last connection checkpoints the WAL into the file we copy
    assert not path.with_name("template.db-wal").exists()
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_url: str) -> str:
    """A migrated template database; tests clone it with CREATE DATABASE ... TEMPLATE."""
    name = f"sg_template_{uuid.uuid4().hex[:8]}"
    admin_execute(postgres_url, f'CREATE DATABASE "{name}"')
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    upgrade(db)
    db.dispose()
    return name


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "safeguard.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server_url = request.getfixturevalue("postgres_url")
    template = request.getfixturevalue("postgres_template")
    name = f"sg_test_{uuid.uuid4().hex[:12]}"
    admin_execute(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    # Two-step sign-in for admins is tested on its own (tests/auth/test_totp.py); elsewhere an
    # admin signs in with a password so the other tests stay about what they test.
    return Settings(database_url=db_url, data_dir=tmp_path / "data", totp_required_roles="",
                    _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The `safeguard` CLI pointed at the test database (through the environment, as a
    user would), with the process-wide settings cache cleared before and after."""
    from safeguard.config import get_settings

    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SAFEGUARD_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


PASSWORD = "correct horse battery"


@pytest.fixture
def app_client(settings: Settings) -> Iterator[object]:
    """The real app over a fresh database, with an admin and an analyst."""
    from fastapi.testclient import TestClient

    from safeguard.audit.service import Actor
    from safeguard.auth import service as auth
    from safeguard.web.app import create_app

    app = create_app(settings)
    with TestClient(app) as client:
        with app.state.db.session() as s:
            root = Actor("cli", "test")
            auth.create_user(s, root, "admin", PASSWORD, "admin")
            auth.create_user(s, root, "ana", PASSWORD, "analyst")
        yield client


def issue_token(client: object, username: str, scopes: list[str]) -> str:
    from safeguard.audit.service import Actor
    from safeguard.auth import service as auth

    db = client.app.state.db  # type: ignore[attr-defined]
    with db.session() as s:
        return auth.create_token(s, Actor("cli", "test"), auth.get_user(s, username), "t",
                                 scopes).secret
