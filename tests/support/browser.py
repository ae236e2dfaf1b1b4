"""Browser tests: Playwright (sync API) driving Debian's Chromium, plus axe-core (pytest plugin).

Never a downloaded browser: Chromium is ``/usr/bin/chromium`` from Debian's ``chromium`` package
(``SAFEGUARD_CHROMIUM`` overrides the path), installed by ``make system-deps``. axe-core comes from
the npm registry into ``tools/axe/node_modules`` (``make axe``). When either is missing, tests that
need it are skipped locally with the command that installs it, and fail under ``CI``.

Fixtures
    browser            session: one headless Chromium
    page               per test: a fresh context + page; every request to a host other than
                       127.0.0.1/localhost is aborted and recorded; the test errors at teardown
                       if any happened, unless marked ``@pytest.mark.allow_third_party``
    page_guard         per test: the ``PageGuard`` that records blocked requests, console errors
                       and page errors of ``page`` (and of pages made by ``new_page``)
    new_page           per test: factory ``new_page(**context_options) -> Page`` for more pages
                       or other options (``java_script_enabled=False``, ``locale="fr-FR"``, ...)
    check_a11y         ``check_a11y(page, context=None, disable=()) -> list[dict]`` axe violations
    save_screenshot    ``save_screenshot(page, name) -> Path`` in test-artifacts/screenshots/

The same helpers are plain functions too: ``axe_violations``, ``format_violations``,
``assert_accessible``, ``screenshot``. A failing test that used ``page`` leaves a screenshot named
after the test in test-artifacts/screenshots/.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from tests.support.postgres import in_ci

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Request, Route

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("SAFEGUARD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
AXE_JS = ROOT / "tools" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
# Schemes that never leave the machine.
LOCAL_SCHEMES = frozenset({"data", "blob", "about", "chrome-error"})
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa")
DEFAULT_VIEWPORT = {"width": 1280, "height": 900}


def _missing(what: str, how: str) -> None:
    message = f"{what}; install it with: {how}"
    if in_ci():
        pytest.fail(f"CI must run the browser tests. {message}", pytrace=False)
    pytest.skip(message)


def chromium_path() -> str:
    """Debian's Chromium, or skip (fail under CI) with the install command."""
    path = CHROMIUM if os.path.sep in CHROMIUM else (shutil.which(CHROMIUM) or CHROMIUM)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        _missing(f"Chromium not found at {path}", "make system-deps  (apt-get install -y chromium)")
    return path


# ---- network guard ------------------------------------------------------------------------


@dataclass
class PageGuard:
    """What the pages of one test tried to do that a test may want to assert on."""

    blocked_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def route(self, route: Route, request: Request) -> None:
        if is_local_url(request.url):
            route.continue_()
        else:
            self.blocked_requests.append(request.url)
            route.abort("blockedbyclient")

    def watch(self, page: Page) -> None:
        page.on(
            "console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None
        )
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))


def is_local_url(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    return parts.scheme in ("http", "https", "ws", "wss") and (parts.hostname or "") in {
        h.strip("[]") for h in LOCAL_HOSTS
    }


# ---- accessibility --------------------------------------------------------------------------


@cache
def _axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(
    page: Page, context: str | None = None, disable: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Run axe-core on ``page`` with the WCAG 2.0/2.1/2.2 A and AA rules; return violations.

    axe is evaluated through the DevTools protocol, so a strict Content-Security-Policy on the
    page does not block it (and need not be weakened for tests). ``context`` limits the check to
    a CSS selector; ``disable`` switches individual rule ids off (say why in the test).
    """
    if not AXE_JS.is_file():
        _missing(
            f"axe-core not found at {AXE_JS.relative_to(ROOT)}",
            "make axe  (npm ci --prefix tools/axe)",
        )
    # A page reached by a key press or a click may still be loading its stylesheets; axe
    # measures the layout (target sizes, contrast), so it must see the styled page.
    page.wait_for_load_state("load")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    options: dict[str, Any] = {
        "runOnly": {"type": "tag", "values": list(WCAG_TAGS)},
        "resultTypes": ["violations"],
    }
    if disable:
        options["rules"] = {rule: {"enabled": False} for rule in disable}
    result = page.evaluate(
        "async ([context, options]) => await window.axe.run(context || document, options)",
        [context, options],
    )
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def format_violations(violations: Sequence[dict[str, Any]]) -> str:
    """One readable block per violation: rule, impact, help URL and the offending nodes."""
    lines: list[str] = []
    for v in violations:
        lines.append(f"[{v.get('impact')}] {v['id']}: {v['help']} ({v.get('helpUrl', '')})")
        for node in v.get("nodes", [])[:10]:
            target = " ".join(str(t) for t in node.get("target", []))
            lines.append(f"    {target}: {node.get('html', '')[:200]}")
    return "\n".join(lines)


def assert_accessible(page: Page, context: str | None = None, disable: Sequence[str] = ()) -> None:
    violations = axe_violations(page, context=context, disable=disable)
    assert not violations, f"{page.url} has accessibility violations:\n" + format_violations(
        violations
    )


# ---- screenshots -------------------------------------------------------------------------


def screenshot(page: Page, name: str, full_page: bool = True) -> Path:
    """Save ``test-artifacts/screenshots/<name>.png`` and return its path."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "screenshot"
    path = SCREENSHOTS / (safe if safe.endswith(".png") else f"{safe}.png")
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    return path


# ---- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def page_guard() -> PageGuard:
    return PageGuard()


@pytest.fixture
def new_page(browser: Browser, page_guard: PageGuard) -> Iterator[Callable[..., Page]]:
    contexts: list[BrowserContext] = []

    def make(**context_options: Any) -> Page:
        context_options.setdefault("viewport", DEFAULT_VIEWPORT)
        context_options.setdefault("locale", "en-GB")
        context = browser.new_context(**context_options)
        contexts.append(context)
        context.set_default_timeout(15_000)
        context.route("**/*", page_guard.route)
        context.on("page", page_guard.watch)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(
    new_page: Callable[..., Page], page_guard: PageGuard, request: pytest.FixtureRequest
) -> Iterator[Page]:
    the_page = new_page()
    yield the_page
    report = getattr(request.node, "_sg_call_report", None)
    if report is not None and report.failed and not the_page.is_closed():
        # A failed screenshot must not hide the real failure.
        with contextlib.suppress(Exception):
            screenshot(the_page, f"FAILED-{request.node.nodeid}")
    if page_guard.blocked_requests and not request.node.get_closest_marker("allow_third_party"):
        pytest.fail(
            "the page tried to reach hosts other than 127.0.0.1/localhost (blocked):\n  "
            + "\n  ".join(page_guard.blocked_requests),
            pytrace=False,
        )


@pytest.fixture
def check_a11y() -> Callable[..., list[dict[str, Any]]]:
    return axe_violations


@pytest.fixture
def save_screenshot() -> Callable[..., Path]:
    return screenshot


# ---- hooks -------------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Debian's Chromium through Playwright")
    config.addinivalue_line(
        "markers", "allow_third_party: the test expects blocked requests to other hosts"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the browser get the ``browser`` marker (``-m "not browser"`` skips them)."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item._sg_call_report = report  # type: ignore[attr-defined]
    return report
