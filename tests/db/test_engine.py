"""The storage layer's errors name the cause and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from safeguard.auth.models import User
from safeguard.db.engine import Database, DatabaseUnavailable


def _assert_says_upgrade(db: Database) -> None:
    with (pytest.raises(DatabaseUnavailable, match=r"run `safeguard db upgrade`"),
          db.session() as s):
        s.scalars(select(User)).all()
    db.dispose()


def test_unmigrated_sqlite_says_how_to_fix(tmp_path: Path) -> None:
    _assert_says_upgrade(Database(f"sqlite:///{tmp_path / 'empty.db'}"))


def test_unmigrated_postgres_says_how_to_fix(postgres_url: str) -> None:
    # The server's own database stays empty: tests work on clones of a migrated template.
    _assert_says_upgrade(Database(postgres_url))
