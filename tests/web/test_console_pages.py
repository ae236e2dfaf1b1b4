"""Console pages over HTTP (TestClient): CSRF on every console form, bad input re-rendered
with 422 and nothing stored, permissions, HTML error pages, and the hash-line parser."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from safeguard.audit.models import AuditEvent
from safeguard.audit.service import Actor
from safeguard.banks import service as banks
from safeguard.banks.models import BankEntry
from safeguard.demo import draw_scene
from safeguard.matching.models import MatchLogEntry
from safeguard.web.pages_matching import parse_hash_lines
from tests.conftest import PASSWORD

MD5 = "0123456789abcdef" * 2


def _login(client: TestClient, username: str = "ana") -> str:
    r = client.post("/login", data={"username": username, "password": PASSWORD},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console").text)
    assert match
    return match.group(1)


def _bank(client: TestClient, name: str = "known") -> int:
    with client.app.state.db.session() as s:  # type: ignore[attr-defined]
        bank = banks.create_bank(s, Actor("cli", "test"), name)
        banks.add_hash(s, Actor("cli", "test"), bank.id, "md5", MD5, source="hotline-x",
                       source_id="ref-1", tags="t1")
        return bank.id


def _count(client: TestClient, model: Any) -> int:
    with client.app.state.db.session() as s:  # type: ignore[attr-defined]
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _jpeg() -> bytes:
    buf = io.BytesIO()
    draw_scene(7, (320, 240)).save(buf, "JPEG")
    return buf.getvalue()


def _alert(html: str) -> str:
    found = re.search(r'role="alert"[^>]*>(.*?)</(?:p|div)>', html, re.S)
    assert found, "no alert on the page"
    return found.group(1)


@pytest.mark.parametrize("path, data, files", [
    ("/console/match", {"hashes": MD5}, None),
    ("/console/match/file", {}, {"file": ("a.jpg", b"x", "image/jpeg")}),
    ("/console/banks/{bank}/entries", {"value": "ff" * 16, "signal_type": "md5"}, None),
    ("/console/banks/{bank}/import", {"format": "lines", "signal_type": "md5"},
     {"file": ("l.txt", b"ee" * 16, "text/plain")}),
    ("/console/audit/verify", {}, None),
])
@pytest.mark.parametrize("token", [None, "wrong"])
def test_console_forms_refuse_a_missing_or_wrong_csrf_token(
        app_client: TestClient, path: str, data: dict[str, str], files: Any,
        token: str | None) -> None:
    bank = _bank(app_client)
    _login(app_client, "admin")
    before = (_count(app_client, MatchLogEntry), _count(app_client, BankEntry),
              _count(app_client, AuditEvent))
    body = dict(data) if token is None else {**data, "csrf_token": token}
    r = app_client.post(path.format(bank=bank), data=body, files=files,
                        follow_redirects=False)
    assert r.status_code == 403
    assert "CSRF token" in _alert(r.text)
    after = (_count(app_client, MatchLogEntry), _count(app_client, BankEntry),
             _count(app_client, AuditEvent))
    assert after == before


def test_check_hashes_matches_and_bad_lines_re_render_with_422(app_client: TestClient) -> None:
    bank = _bank(app_client)
    csrf = _login(app_client)
    r = app_client.post("/console/match", data={"csrf_token": csrf, "hashes": f"md5:{MD5}"})
    assert r.status_code == 200
    assert "Match</strong>: found in a positive bank." in r.text
    assert f'href="/console/banks/{bank}?entry=' in r.text
    assert "hotline-x" in r.text and "ref-1" in r.text
    assert _count(app_client, MatchLogEntry) == 1

    typed = f"{MD5}\nxyz\n{'0' * 63}"
    r = app_client.post("/console/match", data={"csrf_token": csrf, "hashes": typed})
    assert r.status_code == 422
    alert = _alert(r.text)
    assert "line 2: 3 characters is not a hash length" in alert
    assert "line 3: 63 characters" in alert
    assert f">{typed}</textarea>" in r.text
    assert _count(app_client, MatchLogEntry) == 1  # nothing checked, nothing logged

    r = app_client.post("/console/match", data={"csrf_token": csrf, "hashes": "  \n"})
    assert r.status_code == 422 and "paste at least one hash" in _alert(r.text)


def test_check_a_file_and_a_damaged_one(app_client: TestClient) -> None:
    data = _jpeg()
    with app_client.app.state.db.session() as s:  # type: ignore[attr-defined]
        bank = banks.create_bank(s, Actor("cli", "test"), "pictures")
        banks.add_file(s, Actor("cli", "test"), bank.id, data, label="scene-7",
                       source="test-source")
    csrf = _login(app_client)
    flipped = io.BytesIO()
    Image.open(io.BytesIO(data)).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(flipped, "JPEG")
    r = app_client.post("/console/match/file", data={"csrf_token": csrf},
                        files={"file": ("flipped.jpg", flipped.getvalue(), "image/jpeg")})
    assert r.status_code == 200, r.text
    assert "File flipped.jpg" in r.text and "test-source" in r.text
    assert re.search(r"query: flip", r.text)
    assert _count(app_client, MatchLogEntry) >= 1

    r = app_client.post("/console/match/file", data={"csrf_token": csrf},
                        files={"file": ("broken.jpg", data[:300], "image/jpeg")})
    assert r.status_code == 422
    assert "The file was not checked" in _alert(r.text) and "broken.jpg" in _alert(r.text)

    r = app_client.post("/console/match/file", data={"csrf_token": csrf})
    assert r.status_code == 422 and "Choose a file" in _alert(r.text)


def test_file_check_is_off_when_uploads_are_switched_off(settings: Any) -> None:
    from safeguard.auth import service as auth
    from safeguard.web.app import create_app

    app = create_app(settings.model_copy(update={"allow_file_upload": False}))
    with TestClient(app) as client:
        with app.state.db.session() as s:
            auth.create_user(s, Actor("cli", "test"), "ana", PASSWORD, "analyst")
        csrf = _login(client)
        page = client.get("/console/match")
        assert page.status_code == 200 and 'type="file"' not in page.text
        r = client.post("/console/match/file", data={"csrf_token": csrf},
                        files={"file": ("a.jpg", _jpeg(), "image/jpeg")})
        assert r.status_code == 403 and "switched off" in _alert(r.text)


def test_uploads_are_kept_in_memory_up_to_the_body_limit(app_client: TestClient) -> None:
    from starlette.formparsers import MultiPartParser

    limit = app_client.app.state.settings.max_upload_bytes  # type: ignore[attr-defined]
    assert MultiPartParser.spool_max_size >= limit


def test_add_hash_and_import_errors_re_render_with_422(app_client: TestClient) -> None:
    bank = _bank(app_client)
    csrf = _login(app_client)
    r = app_client.post(f"/console/banks/{bank}/entries", data={
        "csrf_token": csrf, "signal_type": "md5", "value": "zz", "source": "kept-source"})
    assert r.status_code == 422
    assert "The hash was not added" in _alert(r.text)
    assert 'value="kept-source"' in r.text
    assert _count(app_client, BankEntry) == 1

    bad = b"\n".join([b"ab" * 16, b"nope", b"cd" * 16, b"12"])
    r = app_client.post(f"/console/banks/{bank}/import",
                        data={"csrf_token": csrf, "format": "lines", "signal_type": "md5"},
                        files={"file": ("hashes.txt", bad, "text/plain")})
    assert r.status_code == 422
    assert re.findall(r"<li>Line (\d+):", r.text) == ["2", "4"]
    assert "hashes.txt was rejected and nothing was stored: 2 problem(s)" in r.text
    assert _count(app_client, BankEntry) == 1

    r = app_client.post(f"/console/banks/{bank}/import",
                        data={"csrf_token": csrf, "format": "lines", "signal_type": "md5"},
                        files={"file": ("ok.txt", b"ab" * 16 + b"\n" + b"cd" * 16,
                                        "text/plain")}, follow_redirects=False)
    assert r.status_code == 303
    assert _count(app_client, BankEntry) == 3


def test_match_log_page_filters_pages_and_is_audited(app_client: TestClient) -> None:
    _bank(app_client)
    csrf = _login(app_client)
    for _ in range(3):
        app_client.post("/console/match", data={"csrf_token": csrf, "hashes": MD5})
    reads = _count(app_client, AuditEvent)
    r = app_client.get("/console/matches", params={"bank": "known", "source": "console"})
    assert r.status_code == 200
    assert r.text.count(f"{MD5}</span>") == 3
    assert _count(app_client, AuditEvent) == reads + 1
    r = app_client.get("/console/matches", params={"suppressed": "yes"})
    assert "No matches for these filters." in r.text
    r = app_client.get("/console/matches", params={"since": "yesterday", "source": "fax"})
    assert r.status_code == 422
    assert "is not a date" in _alert(r.text) and "Source: choose one of" in _alert(r.text)
    r = app_client.get("/console/matches", params={"bank": "no-such-bank"})
    assert r.status_code == 422 and "no-such-bank" in _alert(r.text)


def test_match_log_pager_keeps_the_filters(app_client: TestClient, monkeypatch: Any) -> None:
    from safeguard.web import pages_matching

    monkeypatch.setattr(pages_matching, "PAGE", 2)
    _bank(app_client)
    csrf = _login(app_client)
    for _ in range(3):
        app_client.post("/console/match", data={"csrf_token": csrf, "hashes": MD5})
    first = app_client.get("/console/matches", params={"source": "console"})
    assert 'href="?source=console&amp;page=2">Next page' in first.text
    second = app_client.get("/console/matches", params={"source": "console", "page": 2})
    assert second.text.count(f"{MD5}</span>") == 1
    assert "Previous page" in second.text and "Next page" not in second.text


def test_audit_page_needs_audit_read_and_pages_back(app_client: TestClient,
                                                    monkeypatch: Any) -> None:
    from safeguard.web import pages_audit

    _login(app_client, "ana")
    r = app_client.get("/console/audit")
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert "audit:read" in _alert(r.text)
    monkeypatch.setattr(pages_audit, "PAGE", 2)
    app_client.post("/logout", data={"csrf_token": _login(app_client, "ana")})
    csrf = _login(app_client, "admin")
    first = app_client.get("/console/audit")
    older = re.search(r'href="/console/audit\?before=(\d+)">Older events', first.text)
    assert older
    second = app_client.get(f"/console/audit?before={older.group(1)}")
    seqs = [int(n) for n in re.findall(r"<tr>\s*<td>(\d+)</td>", second.text)]
    assert seqs and all(n < int(older.group(1)) for n in seqs)
    r = app_client.post("/console/audit/verify", data={"csrf_token": csrf})
    assert r.status_code == 200 and "The chain is intact" in r.text


def test_console_errors_are_pages_and_api_errors_stay_json(app_client: TestClient) -> None:
    _login(app_client)
    page = app_client.get("/console/banks/4242")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in page.text
    api = app_client.get("/v1/banks/4242")
    assert api.status_code == 404 and "detail" in api.json()


def test_parse_hash_lines_names_types_and_lines() -> None:
    sha = "ab" * 32
    parsed = parse_hash_lines(f"\n{MD5}\nsha256 {sha}\nPDQ:{sha}\n{sha}\n", "auto")
    assert [(q.signal_type, q.value) for q in parsed.queries] == [
        ("md5", MD5), ("sha256", sha), ("pdq", sha), ("pdq", sha)]
    assert parsed.problems == []
    assert [q.signal_type for q in parse_hash_lines(sha, "sha256").queries] == ["sha256"]
    bad = parse_hash_lines(f"{MD5}\n\nmd5 {sha}\nzz", "auto")
    assert bad.problems == [
        "line 3: invalid md5 hash: expected 32 hex characters, got 64",
        "line 4: 2 characters is not a hash length (MD5 has 32 hex characters, PDQ and "
        "SHA-256 have 64)"]
