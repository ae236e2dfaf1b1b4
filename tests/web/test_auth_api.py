from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.conftest import PASSWORD, issue_token


def _login(client: TestClient, username: str) -> str:
    r = client.post("/login", data={"username": username, "password": PASSWORD},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get("/console")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match
    return match.group(1)


def test_every_api_route_needs_credentials(app_client: TestClient) -> None:
    schema = app_client.get("/openapi.json").json()
    public = {"/healthz"}
    for path, ops in schema["paths"].items():
        if path in public:
            continue
        for method in ops:
            url = re.sub(r"\{[^}]+\}", "1", path)
            r = app_client.request(method.upper(), url)
            assert r.status_code == 401, f"{method.upper()} {path} answered {r.status_code}"
            assert "authentication required" in r.json()["detail"]


def test_token_scopes_are_enforced(app_client: TestClient) -> None:
    token = issue_token(app_client, "ana", ["match"])
    headers = {"Authorization": f"Bearer {token}"}
    assert app_client.get("/v1/me", headers=headers).json()["scopes"] == ["match"]
    r = app_client.get("/v1/tokens", headers=headers)
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    r = app_client.get("/v1/me", headers={"Authorization": "Bearer sgt_forged"})
    assert r.status_code == 401


def test_admin_issues_a_token_shown_once_and_revokes_it(app_client: TestClient) -> None:
    admin = {"Authorization": f"Bearer {issue_token(app_client, 'admin', ['admin'])}"}
    r = app_client.post("/v1/tokens", json={"name": "platform-x", "scopes": ["match"]},
                        headers=admin)
    assert r.status_code == 201
    issued = r.json()
    listed = app_client.get("/v1/tokens", headers=admin).json()
    assert issued["secret"] not in str(listed)
    new = {"Authorization": f"Bearer {issued['secret']}"}
    assert app_client.get("/v1/me", headers=new).status_code == 200
    assert app_client.delete(f"/v1/tokens/{issued['id']}", headers=admin).status_code == 200
    assert app_client.get("/v1/me", headers=new).status_code == 401


def test_bad_token_request_is_a_clear_422(app_client: TestClient) -> None:
    admin = {"Authorization": f"Bearer {issue_token(app_client, 'admin', ['admin'])}"}
    r = app_client.post("/v1/tokens", json={"name": "x", "scopes": ["root"]}, headers=admin)
    assert r.status_code == 422
    r = app_client.post("/v1/tokens", content=b"{not json", headers={
        **admin, "content-type": "application/json"})
    assert r.status_code == 422


def test_console_login_sets_session_and_cookie_writes_need_csrf(app_client: TestClient) -> None:
    assert app_client.get("/console", follow_redirects=False).headers["location"] \
        .startswith("/login")
    csrf = _login(app_client, "admin")
    body = {"name": "from console", "scopes": ["match"]}
    assert app_client.post("/v1/tokens", json=body).status_code == 403
    r = app_client.post("/v1/tokens", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201


def test_wrong_password_is_refused_without_saying_which_part(app_client: TestClient) -> None:
    r = app_client.post("/login", data={"username": "ana", "password": "nope nope nope"})
    assert r.status_code == 401
    assert "wrong username or password" in r.text and "which" not in r.text


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/"])
def test_login_never_redirects_off_site(app_client: TestClient, target: str) -> None:
    r = app_client.post("/login", data={"username": "ana", "password": PASSWORD, "next": target},
                        follow_redirects=False)
    assert r.headers["location"] == "/console"


def test_security_headers_and_body_limit(app_client: TestClient) -> None:
    r = app_client.get("/healthz")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    limit = app_client.app.state.settings.max_upload_bytes  # type: ignore[attr-defined]
    r = app_client.post("/v1/tokens", content=b"x" * (limit + 1))
    assert r.status_code == 413 and str(limit) in r.json()["detail"]


def test_audit_api_lists_and_verifies(app_client: TestClient) -> None:
    admin = {"Authorization": f"Bearer {issue_token(app_client, 'admin', ['admin'])}"}
    events = app_client.get("/v1/audit?limit=5", headers=admin).json()
    assert any(e["action"] == "user.create" for e in events)
    verdict = app_client.get("/v1/audit/verify", headers=admin).json()
    assert verdict["ok"] is True and verdict["checked"] >= 3


def test_an_auditor_reads_the_audit_log_and_nothing_else(app_client: TestClient) -> None:
    from safeguard.audit.service import Actor
    from safeguard.auth import service as auth

    with app_client.app.state.db.session() as s:
        auth.create_user(s, Actor("cli", "test"), "aud", PASSWORD, "auditor")
    token = issue_token(app_client, "aud", ["audit:read"])
    headers = {"Authorization": f"Bearer {token}"}
    assert app_client.get("/v1/audit", headers=headers).status_code == 200
    assert app_client.get("/v1/audit/verify", headers=headers).json()["ok"] is True
    assert app_client.get("/v1/banks", headers=headers).status_code == 403
    assert app_client.get("/v1/triage/queue", headers=headers).status_code == 403
