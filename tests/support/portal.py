"""Rows of the portal's database, as its browser tests look at them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from safeguard.db.engine import Database


def rows(db: Database, sql: str) -> list[Any]:
    with db.session() as s:
        return list(s.execute(text(sql)).all())
