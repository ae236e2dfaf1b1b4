"""Developer helper: regenerate the initial migration from the models (before the first release
only; after it, add new revisions with `alembic revision --autogenerate`).

    python -m safeguard.db.regen_initial
"""

from __future__ import annotations

import shutil
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
    # Later revisions point at 0001; park them so Alembic sees an empty history meanwhile.
    with tempfile.TemporaryDirectory() as parked, tempfile.TemporaryDirectory() as tmp:
        later = sorted(VERSIONS.glob("[0-9]*.py"))
        for path in later:
            shutil.move(path, Path(parked) / path.name)
        try:
            _generate(tmp)
        finally:
            for path in later:
                shutil.move(Path(parked) / path.name, path)
    print(f"wrote {next(VERSIONS.glob(f'{INITIAL}*.py'))}")


def _generate(tmp: str) -> None:
    url = f"sqlite:///{tmp}/empty.db"
    db = Database(url)
    cfg = alembic_config(url)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message="schema", autogenerate=True, rev_id=INITIAL,
                         head="base", splice=True)
    db.dispose()


if __name__ == "__main__":
    main()
