"""Self-tests of tests/support/postgres.py: template databases clone and drop cleanly."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from tests.support.postgres import (
    drop_postgres_database,
    fresh_postgres_database,
    make_postgres_template,
    postgres_database,
)


def _prepare(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE marker (id integer primary key, note text)"))
        conn.execute(text("INSERT INTO marker VALUES (1, 'from the template')"))
    engine.dispose()


def _note(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SELECT note FROM marker")).scalar_one())
    finally:
        engine.dispose()


def test_clone_from_template_and_drop(postgres_url: str) -> None:
    template = make_postgres_template(postgres_url, _prepare)
    try:
        url = fresh_postgres_database(template)
        assert _note(url) == "from the template"
        drop_postgres_database(url)
        with pytest.raises(OperationalError):
            _note(url)
        with postgres_database(template) as other:
            assert other != url
            assert _note(other) == "from the template"
    finally:
        drop_postgres_database(template)


def test_failed_prepare_leaves_no_template(postgres_url: str) -> None:
    def broken(url: str) -> None:
        raise RuntimeError("migration failed")

    with pytest.raises(RuntimeError, match="migration failed"):
        make_postgres_template(postgres_url, broken)
