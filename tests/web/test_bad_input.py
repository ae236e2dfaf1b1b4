"""Issue 2's bad input over HTTP: every answer is a clear error, and nothing already stored is
lost — wrong hashes, wrong content types, unknown banks, bombs, concurrent writers, and a
database connection that dies in the middle of a request."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from safeguard.banks.models import BankEntry
from safeguard.config import Settings
from tests.conftest import issue_token
from tests.support.live_server import serve_app
from tests.support.postgres import admin_execute

HASH_A = "f" * 64
HASH_B = "0" * 63 + "1"
HASH_C = "a5" * 32


@pytest.fixture
def api(app_client: Any) -> Iterator[tuple[Any, dict[str, str]]]:
    token = issue_token(app_client, "ana", ["match", "banks:read", "banks:write"])
    auth = {"Authorization": f"Bearer {token}"}
    assert app_client.post("/v1/banks", json={"name": "kept"}, headers=auth).status_code == 201
    r = app_client.post("/v1/banks/kept/entries", headers=auth,
                        json={"signal_type": "pdq", "value": HASH_A, "source": "partner"})
    assert r.status_code == 201, r.text
    yield app_client, auth


def _entries(client: Any) -> list[str]:
    with client.app.state.db.session() as s:
        return sorted(e.value for e in s.query(BankEntry))


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny valid PNG whose header claims width x height: a decompression bomb."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 16)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))


@pytest.mark.parametrize("value, why", [
    ("abc", "64"), ("g" * 64, "hex"), ("f" * 65, "64"), ("", "")])
def test_malformed_hashes_are_refused_and_nothing_changes(
        api: tuple[Any, dict[str, str]], value: str, why: str) -> None:
    client, auth = api
    r = client.post("/v1/match", headers=auth,
                    json={"hashes": [{"signal_type": "pdq", "value": HASH_B},
                                     {"signal_type": "pdq", "value": value}]})
    assert r.status_code == 422, r.text
    assert why in r.text.lower()
    r = client.post("/v1/banks/kept/entries", headers=auth,
                    json={"signal_type": "pdq", "value": value})
    assert r.status_code == 422
    assert _entries(client) == [HASH_A]


def test_wrong_content_types_and_unknown_banks(api: tuple[Any, dict[str, str]]) -> None:
    client, auth = api
    r = client.post("/v1/match", headers={**auth, "Content-Type": "text/plain"},
                    content=HASH_A.encode())
    assert r.status_code == 415 and "application/json" in r.text, r.text
    r = client.post("/v1/match", headers={**auth, "Content-Type": "application/json"},
                    content=b"{not json")
    assert r.status_code == 422 and "json" in r.text.lower()
    r = client.post("/v1/match/file", headers={**auth, "Content-Type": "application/pdf"},
                    content=b"%PDF-1.4 not a picture", params={"label": "doc.pdf"})
    # any file gets its exact hashes; it just has no picture to PDQ-hash
    assert r.status_code == 200, r.text
    assert {h["signal_type"] for h in r.json()["hashes"]} == {"md5", "sha256"}
    assert client.get("/v1/banks/nope", headers=auth).status_code == 404
    r = client.post("/v1/banks/nope/entries", headers=auth,
                    json={"signal_type": "pdq", "value": HASH_B})
    assert r.status_code == 404 and "nope" in r.text
    assert _entries(client) == [HASH_A]


def test_bombs_corrupt_and_oversized_uploads(api: tuple[Any, dict[str, str]]) -> None:
    client, auth = api
    octets = {**auth, "Content-Type": "application/octet-stream"}
    bomb = _png_claiming(40_000, 40_000)
    r = client.post("/v1/match/file", headers=octets, content=bomb, params={"label": "bomb.png"})
    assert r.status_code == 413 and "bomb.png" in r.text, r.text
    r = client.post("/v1/banks/kept/files", headers=octets, content=bomb,
                    params={"label": "bomb.png"})
    assert r.status_code == 413 and "bomb.png" in r.text
    buf = io.BytesIO()
    Image.fromarray(np.full((64, 64, 3), 120, np.uint8)).save(buf, "PNG")
    truncated = buf.getvalue()[:60]
    r = client.post("/v1/banks/kept/files", headers=octets, content=truncated,
                    params={"label": "cut.png"})
    assert r.status_code in (415, 422) and "cut.png" in r.text, r.text
    limit = client.app.state.settings.max_upload_bytes
    r = client.post("/v1/match/file", headers=octets, content=b"\0" * (limit + 1))
    assert r.status_code == 413
    assert _entries(client) == [HASH_A]


def test_concurrent_writers_merge_and_lose_nothing(settings: Settings, tmp_path: Path) -> None:
    """Sixteen clients at once over a real server: the same hash is merged into one entry with
    every source kept, distinct hashes are all stored, and no request fails."""
    from safeguard.audit.service import Actor
    from safeguard.auth import service as auth
    from safeguard.db.engine import Database
    from safeguard.db.migrate import upgrade

    db = Database(settings.database_url)
    upgrade(db)
    with db.session() as s:
        root = Actor("cli", "test")
        user = auth.create_user(s, root, "ana", "correct horse battery", "analyst")
        secret = auth.create_token(s, root, user, "t", ["banks:write", "banks:read"]).secret
    headers = {"Authorization": f"Bearer {secret}"}
    with serve_app(settings) as url, httpx.Client(base_url=url, headers=headers,
                                                   timeout=60) as client:
        assert client.post("/v1/banks", json={"name": "busy"}).status_code == 201

        def add(i: int) -> int:
            same = client.post("/v1/banks/busy/entries", json={
                "signal_type": "pdq", "value": HASH_C, "source": f"partner-{i}"})
            own = client.post("/v1/banks/busy/entries", json={
                "signal_type": "md5", "value": f"{i:032x}", "source": f"partner-{i}"})
            return max(same.status_code, own.status_code)

        with ThreadPoolExecutor(16) as pool:
            codes = list(pool.map(add, range(16)))
    assert set(codes) <= {200, 201}, codes
    with db.session() as s:
        entries = s.query(BankEntry).all()
        shared = [e for e in entries if e.value == HASH_C]
        assert len(shared) == 1
        sources = {shared[0].source} | {a["source"] for a in shared[0].also_from}
        assert sources == {f"partner-{i}" for i in range(16)}
        assert len([e for e in entries if e.signal_type == "md5"]) == 16
    db.dispose()


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_database_connection_dies_mid_request(api: tuple[Any, dict[str, str]]) -> None:
    """The server's connection is killed between the write and the commit (as a restart
    would): the request gets a clear 503, the half-done write is not kept, everything stored
    before is intact, and the next request works on a fresh connection."""
    client, auth = api
    database = client.app.state.db
    name = database.engine.url.database
    server = database.engine.url.set(database="postgres").render_as_string(hide_password=False)

    def kill_backends(session: Session, flush_context: Any) -> None:
        event.remove(Session, "after_flush", kill_backends)
        admin_execute(server, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")

    event.listen(Session, "after_flush", kill_backends)
    try:
        r = client.post("/v1/banks/kept/entries", headers=auth,
                        json={"signal_type": "pdq", "value": HASH_B})
    finally:
        if event.contains(Session, "after_flush", kill_backends):
            event.remove(Session, "after_flush", kill_backends)
    assert r.status_code == 503, r.text
    assert "nothing was written" in r.json()["detail"]
    assert _entries(client) == [HASH_A]
    r = client.post("/v1/banks/kept/entries", headers=auth,
                    json={"signal_type": "pdq", "value": HASH_B})
    assert r.status_code == 201, r.text
    assert _entries(client) == sorted([HASH_A, HASH_B])
    with database.session() as s:
        assert s.execute(text("SELECT 1")).scalar() == 1
