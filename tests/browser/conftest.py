"""Fixtures of the browser tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from safeguard.db.engine import Database
from tests.support.live_server import make_settings, serve_app


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[tuple[str, Database]]:
    """A server of its own: a fresh database and fresh in-memory rate limits."""
    settings = make_settings(tmp_path / "data")
    with serve_app(settings) as url:
        db = Database(settings.database_url)
        yield url, db
        db.dispose()
