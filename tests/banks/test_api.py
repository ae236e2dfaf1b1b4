"""The banks and matching HTTP API, through the real app."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.banks.support import benign_image, flip_bits, random_pdq
from tests.conftest import issue_token

ALL = ["match", "banks:read", "banks:write", "matchlog:read"]


@pytest.fixture
def api(app_client: Any) -> tuple[Any, dict[str, str]]:
    token = issue_token(app_client, "ana", ALL)
    return app_client, {"Authorization": f"Bearer {token}"}


def test_bank_crud_and_match(api: tuple[Any, dict[str, str]]) -> None:
    client, auth = api
    rng = random.Random(9)
    h = random_pdq(rng)
    r = client.post("/v1/banks", json={"name": "known", "pdq_threshold": 16}, headers=auth)
    assert r.status_code == 201, r.text
    assert client.post("/v1/banks", json={"name": "known"}, headers=auth).status_code == 409
    r = client.post("/v1/banks/known/entries",
                    json={"signal_type": "pdq", "value": h, "tags": ["t"], "source": "s1"},
                    headers=auth)
    assert r.status_code == 201, r.text
    entry_id = r.json()["id"]
    r = client.post("/v1/match", json={"hashes": [
        {"signal_type": "pdq", "value": flip_bits(h, 5, rng)},
        {"signal_type": "pdq", "value": random_pdq(rng), "quality": 10}]}, headers=auth)
    assert r.status_code == 200, r.text
    first, second = r.json()
    assert first["matched"] and first["matches"][0]["entry_id"] == entry_id
    assert first["matches"][0]["provenance"]["source"] == "s1"
    assert not second["matched"] and second["low_quality"]
    assert client.get("/v1/banks/known", headers=auth).json()["entry_count"] == 1
    log = client.get("/v1/matchlog", params={"bank": "known"}, headers=auth).json()
    assert log["total"] == 1 and log["items"][0]["distance"] == 5
    r = client.patch("/v1/banks/known", json={"enabled": False}, headers=auth)
    assert r.json()["enabled"] is False
    assert client.delete(f"/v1/banks/known/entries/{entry_id}", headers=auth).status_code == 204


def test_bad_input_answers(api: tuple[Any, dict[str, str]]) -> None:
    client, auth = api
    assert client.get("/v1/banks/nope", headers=auth).status_code == 404
    r = client.post("/v1/match", json={"hashes": [{"signal_type": "pdq",
                                                          "value": "xyz"}]}, headers=auth)
    assert r.status_code == 422 and "hash 1" in r.json()["detail"]
    assert client.post("/v1/banks", json={"name": "b", "pdq_threshold": 40},
                       headers=auth).status_code == 422
    assert client.get("/v1/banks").status_code == 401


def test_import_rejects_with_every_line(api: tuple[Any, dict[str, str]]) -> None:
    client, auth = api
    client.post("/v1/banks", json={"name": "b"}, headers=auth)
    bad = b"a" * 64 + b"\nnope\n" + b"\xff\n"
    r = client.post("/v1/banks/b/import", files={"file": ("x.txt", bad)}, headers=auth)
    assert r.status_code == 422
    assert [p["line"] for p in r.json()["problems"]] == [2, 3]
    good = b"a" * 64 + b"\n" + b"b" * 64 + b"\n"
    r = client.post("/v1/banks/b/import", files={"file": ("x.txt", good)}, headers=auth)
    assert r.json() == {"added": 2, "merged": 0, "rows": 2}
    r = client.get("/v1/banks/b/export", params={"format": "te-file"}, headers=auth)
    assert r.text == f"pdq {'a' * 64}\npdq {'b' * 64}\n"


def test_match_file_raw_body(api: tuple[Any, dict[str, str]]) -> None:
    client, auth = api
    image = benign_image(41)
    client.post("/v1/banks", json={"name": "b"}, headers=auth)
    r = client.post("/v1/banks/b/files", content=image, params={"label": "a.png"},
                    headers={**auth, "Content-Type": "application/octet-stream"})
    assert r.status_code == 201, r.text
    r = client.post("/v1/match/file", content=image, params={"label": "a.png"},
                    headers={**auth, "Content-Type": "application/octet-stream"})
    assert r.status_code == 200, r.text
    assert r.json()["matched"] and r.json()["label"] == "a.png"
    r = client.post("/v1/match/file", content=image[:100],
                    headers={**auth, "Content-Type": "application/octet-stream"})
    assert r.status_code in (415, 422)


def test_video_without_vpdq_gets_exact_hashes_and_a_note(api: tuple[Any, dict[str, str]],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from safeguard.media import video

    monkeypatch.setattr(video, "_load_vpdq", lambda: None)
    client, auth = api
    clip = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(512)
    r = client.post("/v1/match/file", content=clip, params={"label": "clip.mp4"},
                    headers={**auth, "Content-Type": "application/octet-stream"})
    assert r.status_code == 200, r.text
    assert {h["signal_type"] for h in r.json()["hashes"]} == {"md5", "sha256"}
    assert any("pip install vpdq" in note for note in r.json()["notes"])


def test_webhook_subscription_api(api: tuple[Any, dict[str, str]]) -> None:
    client, auth = api
    client.post("/v1/banks", json={"name": "b"}, headers=auth)
    r = client.post("/v1/banks/b/webhooks", json={"url": "http://127.0.0.1:9/hook"},
                    headers=auth)
    assert r.status_code == 201 and r.json()["secret"].startswith("whsec_")
    listed = client.get("/v1/banks/b/webhooks", headers=auth).json()
    assert "secret" not in listed[0]
    assert client.get(f"/v1/webhooks/{listed[0]['id']}/deliveries",
                      headers=auth).json() == []
    assert client.delete(f"/v1/webhooks/{listed[0]['id']}", headers=auth).status_code == 204
