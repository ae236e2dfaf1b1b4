"""Self-tests of the browser harness (tests/support/browser.py): the accessibility checker can
fail, third-party requests are blocked and recorded, screenshots land where CI collects them.

The pages are served from memory by a local http.server with a strict Content-Security-Policy
like the app's, so these tests also prove axe runs without weakening the page's CSP."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from tests.support.browser import (
    SCREENSHOTS,
    PageGuard,
    assert_accessible,
    format_violations,
    is_local_url,
)

CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'"

CLEAN = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Clean page</title></head>
<body><main><h1>Report safely</h1>
<p>Everything here has a text alternative and a label.</p>
<img src="/pixel.svg" alt="A grey square">
<form><label for="q">Your message</label><input id="q" name="q" type="text">
<button type="submit">Send</button></form>
</main></body></html>"""

BROKEN = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Broken page</title></head>
<body><main><h1>Deliberately inaccessible</h1>
<img src="/pixel.svg">
<input name="unlabelled" type="text">
</main></body></html>"""

THIRD_PARTY = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tracker</title></head>
<body><main><h1>Calls home</h1>
<img src="http://cdn.example.com/tracker.png" alt="">
</main></body></html>"""

PIXEL = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8">'
    b'<rect width="8" height="8" fill="#888"/></svg>'
)

PAGES: dict[str, tuple[str, bytes]] = {
    "/clean": ("text/html; charset=utf-8", CLEAN.encode()),
    "/broken": ("text/html; charset=utf-8", BROKEN.encode()),
    "/third-party": ("text/html; charset=utf-8", THIRD_PARTY.encode()),
    "/pixel.svg": ("image/svg+xml", PIXEL),
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        content_type, body = PAGES.get(self.path, ("text/plain", b"not found"))
        self.send_response(200 if self.path in PAGES else 404)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.path != "/third-party":  # that page tests the network guard, not the CSP
            self.send_header("Content-Security-Policy", CSP)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def static_site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_checker_reports_a_deliberate_violation(page: Page, static_site: str, check_a11y) -> None:
    page.goto(f"{static_site}/broken")
    violations = check_a11y(page)
    ids = {v["id"] for v in violations}
    assert "image-alt" in ids, format_violations(violations)
    assert "label" in ids, format_violations(violations)
    with pytest.raises(AssertionError, match="image-alt"):
        assert_accessible(page)


def test_checker_passes_a_clean_page(page: Page, static_site: str, check_a11y) -> None:
    page.goto(f"{static_site}/clean")
    assert check_a11y(page) == []
    # A second run on the same page reuses the injected axe.
    assert check_a11y(page, context="main") == []


def test_checker_can_disable_a_rule(page: Page, static_site: str, check_a11y) -> None:
    page.goto(f"{static_site}/broken")
    ids = {v["id"] for v in check_a11y(page, disable=["image-alt"])}
    assert "image-alt" not in ids
    assert "label" in ids


def test_strict_csp_is_in_force(page: Page, static_site: str, page_guard: PageGuard) -> None:
    """axe ran above under this CSP; an inline script on the page itself stays blocked."""
    response = page.goto(f"{static_site}/clean")
    assert (
        response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    )
    with contextlib.suppress(PlaywrightError):  # Playwright may report the CSP refusal
        page.add_script_tag(content="window.inlineRan = true")
    assert page.evaluate("() => window.inlineRan === undefined")


@pytest.mark.allow_third_party
def test_third_party_requests_are_blocked_and_recorded(
    page: Page, static_site: str, page_guard: PageGuard
) -> None:
    page.goto(f"{static_site}/third-party")
    page.wait_for_load_state("load")
    assert page_guard.blocked_requests == ["http://cdn.example.com/tracker.png"]
    assert not page.evaluate(
        "() => document.querySelector('img').complete && "
        "document.querySelector('img').naturalWidth > 0"
    )


def test_local_pages_make_no_blocked_requests(
    page: Page, static_site: str, page_guard: PageGuard
) -> None:
    page.goto(f"{static_site}/clean")
    page.wait_for_load_state("load")
    assert page_guard.blocked_requests == []
    assert page_guard.page_errors == []


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8000/x", True),
        ("http://localhost/x", True),
        ("http://[::1]:9/x", True),
        ("data:image/png;base64,AAAA", True),
        ("https://fonts.googleapis.com/css", False),
        ("http://127.0.0.1.example.com/", False),
        ("ftp://127.0.0.1/", False),
    ],
)
def test_is_local_url(url: str, local: bool) -> None:
    assert is_local_url(url) is local


def test_screenshot_is_saved(page: Page, static_site: str, save_screenshot) -> None:
    page.goto(f"{static_site}/clean")
    path = save_screenshot(page, "harness/clean page")
    assert path.parent == SCREENSHOTS
    assert path.name == "harness_clean_page.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_javascript_can_be_switched_off(new_page, static_site: str) -> None:
    """The child portal must work without JavaScript; tests get such a page this way."""
    no_js = new_page(java_script_enabled=False)
    no_js.goto(f"{static_site}/clean")
    assert no_js.title() == "Clean page"
