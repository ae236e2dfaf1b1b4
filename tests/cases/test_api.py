"""Triage over HTTP, through the real app."""

from __future__ import annotations

from typing import Any

from safeguard.audit.service import Actor
from safeguard.cases import triage
from safeguard.cases.models import Source
from tests.conftest import issue_token


def _intake(client: Any, *refs: str) -> list[int]:
    with client.app.state.db.session() as s:
        return [triage.intake(s, Actor("system", "test"), triage.Lead(
            Source.HASH_MATCH, ref, f"match {ref}", known_content=True)).item.id
            for ref in refs]


def test_claim_assess_flow(app_client: Any) -> None:
    ana = {"Authorization": f"Bearer {issue_token(app_client, 'ana', ['triage'])}"}
    adm = {"Authorization": f"Bearer {issue_token(app_client, 'admin', ['triage'])}"}
    first, second = _intake(app_client, "m1", "m2")
    queue = app_client.get("/v1/triage/queue", headers=ana).json()
    assert queue["total"] == 2 and queue["items"][0]["id"] == first
    assert "known content: matches a hash bank" in queue["items"][0]["priority_reasons"]
    r = app_client.post("/v1/triage/next", headers=ana, json={"lease_seconds": 600})
    assert r.status_code == 200 and r.json()["id"] == first and r.json()["status"] == "claimed"
    r = app_client.post(f"/v1/triage/items/{first}/claim", headers=adm)
    assert r.status_code == 409 and "held by another analyst" in r.json()["detail"]
    r = app_client.post(f"/v1/triage/items/{first}/assess", headers=adm,
                        json={"classification": "baseline"})
    assert r.status_code == 409
    r = app_client.post(f"/v1/triage/items/{first}/assess", headers=ana,
                        json={"classification": "not_illegal", "note": "benign test"})
    assert r.status_code == 200 and r.json()["classification"] == "not_illegal"
    assert app_client.post("/v1/triage/next", headers=adm).json()["id"] == second
    assert app_client.post("/v1/triage/next", headers=ana).status_code == 204


def test_bad_input_and_permissions(app_client: Any) -> None:
    ana = {"Authorization": f"Bearer {issue_token(app_client, 'ana', ['triage'])}"}
    matcher = {"Authorization": f"Bearer {issue_token(app_client, 'ana', ['match'])}"}
    (item,) = _intake(app_client, "m1")
    assert app_client.get("/v1/triage/queue").status_code == 401
    assert app_client.get("/v1/triage/queue", headers=matcher).status_code == 403
    assert app_client.post(f"/v1/triage/items/{item}/claim", headers=ana,
                           json={"lease_seconds": 5}).status_code == 422
    app_client.post(f"/v1/triage/items/{item}/claim", headers=ana)
    r = app_client.post(f"/v1/triage/items/{item}/assess", headers=ana,
                        json={"classification": "maybe"})
    assert r.status_code == 422
    assert app_client.get("/v1/triage/items/999999", headers=ana).status_code == 404
    assert app_client.get(f"/v1/triage/items/{item}", headers=ana).json()["status"] == "claimed"
