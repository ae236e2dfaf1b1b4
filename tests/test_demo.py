"""`safeguard demo load`: every part of the product has something in it, all of it benign, and a
second run adds nothing and reveals no secret."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from typer.testing import CliRunner

from safeguard.ads.models import AdNetwork, AdRecord
from safeguard.cases.case_models import Case
from safeguard.cases.models import TriageItem
from safeguard.cli.main import app
from safeguard.config import Settings
from safeguard.db.engine import Database
from safeguard.reports import service as reports
from safeguard.reports.models import Report


def _counts(db: Database) -> dict[str, int]:
    with db.session() as s:
        return {name: int(s.scalar(select(func.count()).select_from(model)) or 0)
                for name, model in (("reports", Report), ("items", TriageItem),
                                    ("ads", AdRecord), ("networks", AdNetwork), ("cases", Case))}


def test_demo_fills_every_part_once(cli_env: Settings) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["demo", "load"])
    assert first.exit_code == 0, first.output
    code = re.search(r"case code (\w+), PIN (\d+)", " ".join(first.output.split()))
    assert code is not None, first.output
    db = Database(cli_env.database_url)
    try:
        with db.session() as s:
            sources = set(s.scalars(select(TriageItem.source)))
            assert {"child_report", "platform_report", "grooming_alert", "ad_lead"} <= {
                str(src) for src in sources}
            assert reports.open_with_code(s, code.group(1), code.group(2)).source == \
                "child_portal"
        before = _counts(db)
        assert before["ads"] > 0 and before["networks"] > 0 and before["cases"] == 1
        second = runner.invoke(app, ["demo", "load"])
        assert second.exit_code == 0, second.output
        assert "PIN" not in second.output and "shown once" not in second.output
        assert _counts(db) == before
    finally:
        db.dispose()
