"""POST/GET /v1/reports on both databases: scopes, validation, idempotency, audited reads."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text

from safeguard.audit.models import AuditEvent
from tests.conftest import issue_token

MD5 = "0123456789abcdef0123456789abcdef"
BODY = {"incident_type": "Online Enticement of Children for Sexual Acts",
        "urls": ["https://example.com/profile/42"], "hashes": [{"kind": "md5", "value": MD5}],
        "reported_account": "@example_account", "urgent": True,
        "details": "a user asked many children for private pictures", "external_ref": "t-1"}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.cr("CR-09")
def test_platform_submits_and_analyst_reads_with_audit(app_client: Any) -> None:
    writer = issue_token(app_client, "admin", ["reports:write"])
    reader = issue_token(app_client, "ana", ["reports:read"])
    r = app_client.post("/v1/reports", json=BODY, headers=_auth(writer))
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["urgent"] and created["source"] == "platform"
    assert "details" not in created and created["hashes"] == [
        {"kind": "md5", "value": MD5, "quality": None}]
    again = app_client.post("/v1/reports", json=BODY, headers=_auth(writer))
    assert again.status_code == 200 and again.json()["id"] == created["id"]

    listed = app_client.get("/v1/reports?urgent=true", headers=_auth(reader))
    assert [x["id"] for x in listed.json()] == [created["id"]]
    assert "details" not in listed.json()[0]
    detail = app_client.get(f"/v1/reports/{created['id']}", headers=_auth(reader)).json()
    assert detail["details"] == BODY["details"]
    assert detail["reported_account"] == "@example_account"
    with app_client.app.state.db.session() as s:
        raw = s.execute(text("SELECT details FROM reports")).scalar_one()
        assert "private pictures" not in raw
        reads = s.scalars(select(AuditEvent).where(AuditEvent.action == "report.read")).all()
        assert len(reads) == 1 and reads[0].actor.startswith("token:ana/")
        item = s.execute(text("SELECT source, urgent FROM triage_items")).one()
        assert item[0] == "platform_report" and bool(item[1])


def test_scopes_are_enforced(app_client: Any) -> None:
    reader = issue_token(app_client, "ana", ["reports:read"])
    matcher = issue_token(app_client, "ana", ["match"])
    assert app_client.post("/v1/reports", json=BODY).status_code == 401
    assert app_client.post("/v1/reports", json=BODY, headers=_auth(reader)).status_code == 403
    assert app_client.get("/v1/reports", headers=_auth(matcher)).status_code == 403
    assert app_client.get("/v1/reports/1", headers=_auth(matcher)).status_code == 403


@pytest.mark.parametrize("change, problem", [
    ({"incident_type": "Not a type"}, "CyberTipline"),
    ({"hashes": [{"kind": "md5", "value": "xyz"}]}, "md5"),
    ({"hashes": [{"kind": "sha1", "value": MD5}]}, "kind"),
    ({"urls": ["javascript:alert(1)"]}, "http"),
    ({"urls": [], "hashes": [], "reported_account": "", "details": ""}, "at least one"),
    ({"details": "x" * 5001}, "details"),
    ({"media": "aGVsbG8="}, "media"),
])
def test_bad_input_is_named_and_nothing_is_stored(app_client: Any, change: dict[str, Any],
                                                  problem: str) -> None:
    writer = issue_token(app_client, "admin", ["reports:write"])
    r = app_client.post("/v1/reports", json={**BODY, **change}, headers=_auth(writer))
    assert r.status_code == 422, r.text
    assert problem in r.text
    with app_client.app.state.db.session() as s:
        assert s.execute(text("SELECT count(*) FROM reports")).scalar_one() == 0


def test_unknown_report_is_404(app_client: Any) -> None:
    reader = issue_token(app_client, "ana", ["reports:read"])
    r = app_client.get("/v1/reports/999", headers=_auth(reader))
    assert r.status_code == 404 and "no report 999" in r.text
