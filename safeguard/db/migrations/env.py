from __future__ import annotations

from alembic import context

from safeguard.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from safeguard.config import get_settings
        from safeguard.db.engine import make_engine

        url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
        engine = make_engine(url)
        with engine.connect() as conn:
            _run(conn)
        engine.dispose()
    else:
        _run(connection)


# Expression indexes (e.g. ORDER BY ... DESC) are written by hand in their migration;
# autogenerate cannot reflect them and would drop and re-create them every time.
HAND_WRITTEN_INDEXES = frozenset({"ix_triage_items_queue"})


def _include(obj: object, name: str | None, type_: str, reflected: bool,
             compare_to: object) -> bool:
    return not (type_ == "index" and name in HAND_WRITTEN_INDEXES)


def _run(connection: object) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,  # type: ignore[arg-type]
                      render_as_batch=True, compare_type=True, include_object=_include)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
