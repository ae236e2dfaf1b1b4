"""Developer helper: regenerate the initial migration from the models (before the first release
only; after it, add new revisions with `alembic revision --autogenerate`).

    python -m safeguard.db.regen_initial
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command

from safeguard.db.engine import Database
from safeguard.db.migrate import alembic_config

VERSIONS = Path(__file__).with_name("migrations") / "versions"
INITIAL = "0001_initial"


def main() -> None:
    for old in VERSIONS.glob(f"{INITIAL}*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/empty.db"
        db = Database(url)
        cfg = alembic_config(url)
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.revision(cfg, message="schema", autogenerate=True, rev_id=INITIAL,
                             head="base", splice=True)
        db.dispose()
    print(f"wrote {next(VERSIONS.glob(f'{INITIAL}*.py'))}")


if __name__ == "__main__":
    main()
