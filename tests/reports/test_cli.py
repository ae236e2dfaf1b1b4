"""`safeguard reports ...` over the same service functions (both databases)."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from safeguard.audit.models import AuditEvent
from safeguard.audit.service import Actor
from safeguard.cli.main import app
from safeguard.config import Settings, get_settings
from safeguard.db.encryption import cipher_for
from safeguard.db.engine import Database
from safeguard.reports import service

runner = CliRunner()


def test_list_show_withdrawals_and_rotation(cli_env: Settings) -> None:
    from safeguard.db.migrate import upgrade

    db = Database(cli_env.database_url)
    upgrade(db)
    cipher = cipher_for(get_settings())
    with db.session() as s:
        report, _ = service.submit_platform(s, Actor("token", "p#1"), service.PlatformReportIn(
            urls=["https://example.com/x"], details="text for analysts"), cipher=cipher)
        report_id, ref = report.id, report.ref
        report.shared_with = ["Partner A"]
    listed = runner.invoke(app, ["reports", "list"])
    assert listed.exit_code == 0, listed.output
    assert "platform" in listed.output and "text for analysts" not in listed.output
    shown = runner.invoke(app, ["reports", "show", str(report_id)])
    assert shown.exit_code == 0 and "text for analysts" in shown.output
    assert runner.invoke(app, ["reports", "show", "999"]).exit_code != 0
    rotated = runner.invoke(app, ["reports", "rotate-keys"])
    assert rotated.exit_code == 0 and "1 values re-encrypted" in rotated.output
    with db.session() as s:
        service.withdraw(s, service.get_report(s, report_id))
    assert ref in runner.invoke(app, ["reports", "to-tell"]).output
    assert runner.invoke(app, ["reports", "told", ref]).exit_code == 0
    assert ref not in runner.invoke(app, ["reports", "to-tell"]).output
    with db.session() as s:
        actions = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    assert {"report.read", "report.keys_rotated", "report.withdrawn",
            "report.partners_told"} <= set(actions)
    db.dispose()
