"""Two-step sign-in in Chromium: an admin is sent to set it up, scans (reads) the key, turns
it on, and the next sign-in needs the code. axe on every page of the flow."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import assert_accessible
from tests.support.live_server import LiveServer, demo_live_server


@pytest.fixture
def strict_server(tmp_path: Path) -> Iterator[LiveServer]:
    with demo_live_server(tmp_path / "two-step", totp_required_roles="admin") as server:
        yield server


def _fill_sign_in(page: Page, server: LiveServer, username: str, password: str,
                  code: str = "") -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    if code:
        page.get_by_label("Code from your authenticator app").fill(code)
    page.get_by_role("button", name="Sign in").click()


def test_admin_sets_up_two_step_then_needs_the_code(strict_server: LiveServer,
                                                     page: Page) -> None:
    server = strict_server
    admin = next(a for a in server.demo.accounts if a.role == "admin")
    _fill_sign_in(page, server, admin.username, admin.password)
    expect(page).to_have_url(f"{server.url}/console/account/two-step")
    expect(page.get_by_role("status")).to_contain_text("Your role needs two-step sign-in")
    assert_accessible(page)
    page.get_by_role("button", name="Set up two-step sign-in").click()
    expect(page.locator("figure.qr svg")).to_be_visible()
    assert_accessible(page)
    secret = page.locator("code.hash").inner_text().strip()
    page.get_by_label("6-digit code").fill("000000")
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("alert")).to_contain_text("not right")
    page.get_by_label("6-digit code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page).to_have_url(f"{server.url}/console?notice=two-step")

    page.get_by_role("button", name="Sign out").click()
    _fill_sign_in(page, server, admin.username, admin.password)  # no code: refused
    expect(page.get_by_role("alert")).to_contain_text("wrong or missing code")
    assert_accessible(page)
    # The enrolment code cannot be replayed; the next step's code is (one step of clock
    # drift is allowed), so the test need not wait for the clock.
    next_code = pyotp.TOTP(secret).at(time.time() + 30)
    _fill_sign_in(page, server, admin.username, admin.password, next_code)
    expect(page).to_have_url(f"{server.url}/console")
    nav = page.get_by_role("navigation", name="Console")
    expect(nav.get_by_role("link", name="Audit")).to_be_visible()
