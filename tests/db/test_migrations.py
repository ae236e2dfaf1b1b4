"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import warnings

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from safeguard.db.engine import Database
from safeguard.db.migrate import upgrade
from safeguard.db.models import Base

# Expression indexes (ORDER BY ... DESC) cannot be reflected by every dialect; they are
# created by hand in the migrations and compared by name below.
EXPRESSION_INDEXES = {"ix_triage_items_queue"}


def test_models_and_migrations_agree(db: Database) -> None:
    upgrade(db)
    with db.engine.connect() as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    diff = [d for d in diff if not _is_expression_index(d)]
    assert diff == []


def test_expression_indexes_exist(db: Database) -> None:
    from sqlalchemy import inspect

    names = {ix["name"] for ix in inspect(db.engine).get_indexes("triage_items")}
    assert names >= EXPRESSION_INDEXES


def _is_expression_index(d: object) -> bool:
    return (isinstance(d, tuple) and d[0] in ("add_index", "remove_index")
            and getattr(d[1], "name", None) in EXPRESSION_INDEXES)
