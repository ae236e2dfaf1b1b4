"""Self-tests of tests/support/live_server.py: the real app is served, answers, and stops."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page

from tests.support.browser import PageGuard
from tests.support.live_server import LiveServer, make_settings, serve_app


def test_serve_app_serves_then_stops(tmp_path) -> None:
    settings = make_settings(tmp_path / "instance")
    with serve_app(settings) as url:
        assert url.startswith("http://127.0.0.1:")
        response = httpx.get(f"{url}/healthz", timeout=10)
        assert response.status_code == 200
        assert response.json()["status"] == "ok"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/healthz", timeout=2)


def test_live_server_has_demo_credentials(live_server: LiveServer) -> None:
    assert live_server.url.startswith("http://127.0.0.1:")
    assert live_server.credentials.username
    assert live_server.credentials.password
    assert live_server.credentials.role == "analyst"
    assert {a.role for a in live_server.demo.accounts} >= {"analyst", "admin"}
    assert live_server.settings.database_url.startswith("sqlite:///")
    assert httpx.get(f"{live_server.url}/healthz", timeout=10).status_code == 200


def test_live_server_pages_load_without_third_party_requests(
    live_server: LiveServer, page: Page, page_guard: PageGuard
) -> None:
    response = page.goto(f"{live_server.url}/healthz")
    assert response is not None and response.ok
    page.goto(live_server.url)
    page.wait_for_load_state("load")
    assert page_guard.blocked_requests == []
