"""Retention: rules per data type, purge (audited, dry run), legal hold keeps a case and the
triage items it came from; verdicts outlive purged items."""

from __future__ import annotations

from datetime import timedelta

import pytest
from typer.testing import CliRunner

from safeguard.audit.service import Actor, recent
from safeguard.auth import service as auth
from safeguard.cases import retention, triage
from safeguard.cases import service as cases
from safeguard.cases.case_models import Case
from safeguard.cases.models import ContentVerdict, Source, TriageItem
from safeguard.config import Settings
from safeguard.db.base import utcnow
from safeguard.db.encryption import FieldCipher, generate_key
from safeguard.db.engine import Database
from safeguard.errors import InvalidInput

ROOT = Actor("cli", "test")
CIPHER = FieldCipher([generate_key()])


def test_policy_parsing() -> None:
    assert retention.parse_policy(" match_log=365, closed_cases=730 ") == {
        "match_log": 365, "closed_cases": 730}
    assert retention.parse_policy("") == {}
    with pytest.raises(InvalidInput) as caught:
        retention.parse_policy("match_log=0,emails=3,closed_cases=x")
    assert "match_log: days must be" in str(caught.value)
    assert "unknown data type 'emails'" in str(caught.value)


def _assessed_item(db: Database, ref: str, key: str) -> int:
    with db.session() as s:
        analyst = auth.actor_for_user(auth.create_user(s, ROOT, f"a-{ref}",
                                                       "correct horse battery", "analyst"))
        item = triage.intake(s, ROOT, triage.Lead(Source.HASH_MATCH, ref, "t",
                                                  content_keys=(key,))).item
        triage.claim(s, analyst, item.id)
        triage.assess(s, analyst, item.id, "baseline")
        item.assessed_at = utcnow() - timedelta(days=400)
        return item.id


def test_purge_respects_rules_and_legal_hold(db: Database) -> None:
    old, held = _assessed_item(db, "old", "md5:" + "a" * 32), _assessed_item(
        db, "held", "md5:" + "b" * 32)
    with db.session() as s:
        closed = cases.create_case(s, ROOT, "closed long ago", cipher=CIPHER)
        cases.change_status(s, ROOT, closed.id, "closed", outcome="duplicate")
        closed.updated_at = utcnow() - timedelta(days=800)
        kept = cases.create_case(s, ROOT, "on hold", [("hash", "md5:" + "b" * 32)],
                                 cipher=CIPHER, triage_item_id=held)
        cases.change_status(s, ROOT, kept.id, "closed", outcome="withdrawn")
        kept.updated_at = utcnow() - timedelta(days=800)
        retention.set_legal_hold(s, ROOT, kept.id, True, "court order 123")
        closed_id, kept_id = closed.id, kept.id
    policy = {"closed_cases": 730, "assessed_triage": 365}
    with db.session() as s:
        dry = retention.purge(s, ROOT, policy, dry_run=True)
        assert {r.data_type: r.count for r in dry} == {"closed_cases": 1, "assessed_triage": 1}
    with db.session() as s:
        assert s.get(Case, closed_id) is not None  # the dry run deleted nothing
        retention.purge(s, ROOT, policy)
    with db.session() as s:
        assert s.get(Case, closed_id) is None and s.get(Case, kept_id) is not None
        assert s.get(TriageItem, old) is None and s.get(TriageItem, held) is not None
        verdict = s.get(ContentVerdict, "md5:" + "a" * 32)
        assert verdict is not None and verdict.item_id is None  # still auto-classifies
        assert [e.action for e in recent(s, limit=2)] == ["retention.purge"] * 2
    with db.session() as s:  # the same content again: classified without an analyst
        again = triage.intake(s, ROOT, triage.Lead(Source.HASH_MATCH, "again", "t",
                                                   content_keys=("md5:" + "a" * 32,)))
        assert again.auto_classified


def test_cli_purge(db: Database, cli_env: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from safeguard.cli.main import app
    from safeguard.config import get_settings

    runner = CliRunner()
    assert "no retention rules" in runner.invoke(app, ["retention", "purge"]).output
    monkeypatch.setenv("SAFEGUARD_RETENTION", "match_log=30")
    get_settings.cache_clear()
    result = runner.invoke(app, ["retention", "purge", "--dry-run"])
    assert result.exit_code == 0 and "match_log" in result.output
    monkeypatch.setenv("SAFEGUARD_RETENTION", "nonsense=1")
    get_settings.cache_clear()
    bad = runner.invoke(app, ["retention", "purge"])
    assert bad.exit_code == 1 and "unknown data type" in bad.output
    assert runner.invoke(app, ["retention", "hold", "999", "--reason", "x"]).exit_code == 1
