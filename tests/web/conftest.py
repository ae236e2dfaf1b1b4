"""Fixtures of the web tests: `portal_client`, the real app over SQLite with strict
translations (portal pages use no database, so one backend is enough)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def portal_client(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[object]:
    from fastapi.testclient import TestClient

    from safeguard.config import Settings
    from safeguard.web.app import create_app

    folder = tmp_path_factory.mktemp("portal")
    shutil.copyfile(sqlite_template, folder / "safeguard.db")
    settings = Settings(_env_file=None, database_url=f"sqlite:///{folder / 'safeguard.db'}",
                        data_dir=folder / "data", i18n_strict=True,
                        public_url="https://report.example.org")  # type: ignore[call-arg]
    with TestClient(create_app(settings)) as client:
        yield client
