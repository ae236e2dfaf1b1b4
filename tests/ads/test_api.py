"""Ads over HTTP (both databases): batch ingest idempotent on (site, id), networks with evidence
and template, exports, triage; bad input answered with the problem named."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import networkx as nx

from safeguard.cases.models import Source, TriageItem
from tests.conftest import issue_token

TEXT = ("Friendly {} service in {} open on weekdays with calm staff and free parking nearby "
        "please book a visit today and enjoy a quiet afternoon")
ADS = [
    {"site": "board", "id": "1", "text": TEXT.format("cleaning", "Leeds"), "region": "GB"},
    {"site": "board", "id": "2", "text": TEXT.format("cleaning", "York"), "region": "GB"},
    {"site": "board", "id": "3", "text": "Piano lessons, call 201-555-0123", "region": "US"},
    {"site": "other", "id": "9", "text": "Guitar lessons", "phone": "(201) 555 0123",
     "region": "US", "posted_at": "2026-11-01T10:00:00Z"},
]


def headers(client: Any, scopes: list[str] | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(client, 'ana', scopes or ['ads'])}"}


def test_ingest_then_read_networks_export_and_triage(app_client: Any) -> None:
    auth = headers(app_client)
    r = app_client.post("/v1/ads", headers=auth, json={"ads": ADS})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["received"], body["new"], body["duplicates"]) == (4, 4, 0)
    assert len(body["networks"]) == 2 and "not proof" in body["disclaimer"]
    again = app_client.post("/v1/ads", headers=auth, json={"ads": ADS[:2]}).json()
    assert (again["new"], again["duplicates"], again["networks"]) == (0, 2, [])

    listing = app_client.get("/v1/ads/networks", headers=auth).json()
    assert listing["total"] == 2
    by_size = {n["id"]: n for n in listing["networks"]}
    phone_net = next(n for n in body["ads"] if n["key"] == "other:9")["network"]
    detail = app_client.get(f"/v1/ads/networks/{phone_net}", headers=auth).json()
    assert [m["key"] for m in detail["members"]] == ["board:3", "other:9"]
    assert detail["evidence"] == [{"kind": "phone", "value": "+12015550123",
                                   "ads": ["board:3", "other:9"], "similarity": None}]
    text_net = next(n for n in by_size if n != phone_net)
    text_detail = app_client.get(f"/v1/ads/networks/{text_net}", headers=auth).json()
    assert text_detail["evidence"][0]["kind"] == "text"
    assert text_detail["template"]["slots"] == [["Leeds", "York"]]

    graph = app_client.get("/v1/ads/networks/export?format=graphml", headers=auth)
    assert graph.status_code == 200 and graph.headers["content-type"].startswith(
        "application/graphml+xml")
    parsed = nx.read_graphml(io.BytesIO(graph.content))
    assert parsed.has_edge("ad:board:3", "phone:+12015550123")
    as_json = app_client.get("/v1/ads/networks/export", headers=auth).json()
    assert {n["id"] for n in as_json["networks"]} == set(by_size)

    leads = app_client.get("/v1/ads/leads?format=csv", headers=auth)
    rows = list(csv.DictReader(io.StringIO(leads.text)))
    assert {r["id"] for r in rows} == {"1", "2", "3", "9"}
    assert next(r for r in rows if r["id"] == "9")["phones"] == "+12015550123"
    lines = [json.loads(x) for x in
             app_client.get("/v1/ads/leads?format=jsonl", headers=auth).text.splitlines()]
    assert len(lines) == 4 and all("reasons" in x for x in lines)

    opened = app_client.post(f"/v1/ads/networks/{phone_net}/triage", headers=auth)
    assert opened.status_code == 200 and opened.json()["created"] is True
    again_opened = app_client.post(f"/v1/ads/networks/{phone_net}/triage", headers=auth)
    assert again_opened.json() == {"triage_item": opened.json()["triage_item"],
                                   "created": False}
    with app_client.app.state.db.session() as s:
        item = s.get(TriageItem, opened.json()["triage_item"])
        assert item.source == Source.AD_LEAD.value and "+12015550123" in item.summary


def test_bad_input_is_named(app_client: Any) -> None:
    auth = headers(app_client)
    r = app_client.post("/v1/ads", headers=auth, json={"ads": [
        {"site": "s", "id": "1", "text": "fine"},
        {"site": "s", "id": "2", "region": "Britain"},
        {"site": "s", "id": "3", "image_hashes": ["not-a-hash"]}]})
    assert r.status_code == 422
    assert "ads[1]" in r.text and "region" in r.text and "ads[2]" in r.text
    assert app_client.post("/v1/ads", headers=auth, json={"ads": []}).status_code == 422
    nul = app_client.post("/v1/ads", headers=auth, json={"ads": [
        {"site": "s\u0000x", "id": "1", "text": "fine"}]})
    assert nul.status_code == 422 and "control characters" in nul.text
    # NUL inside free text is cleaned, not refused (PostgreSQL cannot store it)
    cleaned = app_client.post("/v1/ads", headers=auth, json={"ads": [
        {"site": "s", "id": "4", "text": "Tailor\u0000ing", "location": "Le\u0000eds",
         "phone": "201\u0000555 0123", "region": "US"}]})
    assert cleaned.status_code == 200, cleaned.text
    assert app_client.get("/v1/ads/networks/net-000000000000",
                          headers=auth).status_code == 404
    assert app_client.get("/v1/ads/networks/DROP", headers=auth).status_code == 422
    assert app_client.get("/v1/ads/leads?min_score=3", headers=auth).status_code == 422
    assert app_client.get("/v1/ads/networks/export?format=xls",
                          headers=auth).status_code == 422


def test_scope_is_required(app_client: Any) -> None:
    assert app_client.get("/v1/ads/networks").status_code == 401
    other = headers(app_client, ["match"])
    assert app_client.post("/v1/ads", headers=other,
                           json={"ads": ADS[:1]}).status_code == 403
