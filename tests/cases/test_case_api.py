"""Cases over HTTP, through the real app."""

from __future__ import annotations

from typing import Any

from tests.conftest import issue_token

MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def test_case_lifecycle_over_http(app_client: Any) -> None:
    token = issue_token(app_client, "ana", ["triage", "personal_data"])
    auth = {"Authorization": f"Bearer {token}"}
    r = app_client.post("/v1/cases", headers=auth, json={"title": "Report 1", "items": [
        {"kind": "url", "value": "https://example.org/a"},
        {"kind": "text", "value": "the child's words"},
        {"kind": "account", "value": "020 7946 0958", "region": "GB"}]})
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["reference"].startswith("SG-") and first["status"] == "received"
    assert {i["value"] for i in first["items"]} >= {"the child's words"}
    r = app_client.post("/v1/cases", headers=auth, json={"title": "Report 2", "items": [
        {"kind": "account", "value": "+442079460958"}]})
    second = r.json()
    assert [link["shared"] for link in second["links"]] == [["phone:+442079460958"]]
    case = f"/v1/cases/{first['id']}"
    assert app_client.post(f"{case}/status", headers=auth,
                           json={"status": "in_triage"}).status_code == 200
    url_item = next(i for i in first["items"] if i["kind"] == "url")["id"]
    r = app_client.post(f"{case}/items/{url_item}/assessment", headers=auth,
                        json={"classification": "national", "industry_class": "B2"})
    assert r.status_code == 200 and r.json()["items"][0]["industry_class"] == "B2"
    r = app_client.post(f"{case}/status", headers=auth, json={"status": "monitoring"})
    assert r.status_code == 409 and "cannot become monitoring" in r.json()["detail"]
    r = app_client.post(f"{case}/status", headers=auth, json={"status": "assessed"})
    assert r.json()["status"] == "assessed"
    assert app_client.post(f"{case}/undo", headers=auth).json()["status"] == "in_triage"
    assert app_client.post(f"{case}/notes", headers=auth,
                           json={"text": "asked the host"}).status_code == 201
    assert [n["text"] for n in app_client.get(f"{case}/notes", headers=auth).json()] == [
        "asked the host"]
    listed = app_client.get("/v1/cases", headers=auth, params={"status": "in_triage"}).json()
    assert [c["id"] for c in listed] == [first["id"]]
    bundle = app_client.get(f"{case}/evidence", headers=auth)
    assert bundle.headers["content-type"] == "application/zip"
    assert first["reference"] in bundle.headers["content-disposition"]
    from safeguard.cases.evidence import verify_bundle

    assert verify_bundle(bundle.content).ok


def test_case_bad_input(app_client: Any) -> None:
    auth = {"Authorization": f"Bearer {issue_token(app_client, 'ana', ['triage'])}"}
    r = app_client.post("/v1/cases", headers=auth, json={"title": "x", "items": [
        {"kind": "hash", "value": "md5:xyz"}]})
    assert r.status_code == 422 and "md5" in r.json()["detail"]
    assert app_client.get("/v1/cases", headers=auth).json() == []  # nothing half-stored
    r = app_client.post("/v1/cases", headers=auth, json={"title": "x", "items": [
        {"kind": "hash", "value": f"md5:{MD5}"}]})
    case_id = r.json()["id"]
    assert app_client.post(f"/v1/cases/{case_id}/items/999/assessment", headers=auth,
                           json={"classification": "baseline"}).status_code == 404
    assert app_client.post(f"/v1/cases/{case_id}/status", headers=auth,
                           json={"status": "closed"}).status_code == 409
    assert app_client.post(f"/v1/cases/{case_id}/undo", headers=auth).status_code == 409
    assert app_client.get("/v1/cases/0", headers=auth).status_code == 422
    r = app_client.post("/v1/cases", headers=auth, json={"title": "x", "triage_item_id": 77,
                                                         "items": [{"kind": "text",
                                                                    "value": "y"}]})
    assert r.status_code == 404 and "triage item 77" in r.json()["detail"]
    assert app_client.get("/v1/cases").status_code == 401
