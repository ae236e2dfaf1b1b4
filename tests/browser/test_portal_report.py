"""The child's report flow in Chromium: with JavaScript off (plain forms) and on (the
proof-of-work runs before sending), the danger path, status, add information, withdraw;
keyboard only where it matters; axe-core clean on every page; screenshots saved."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import Page, expect

from safeguard.db.engine import Database
from safeguard.web.portal_guard import POW_BITS, pow_ok
from tests.support.browser import assert_accessible, screenshot
from tests.support.portal import rows


def _fill_report(page: Page) -> None:
    page.get_by_label("Someone says they will share a picture or video of me").check()
    page.get_by_label("Tell us more, in your own words").fill("A person I do not know keeps "
                                                               "writing to me.")
    page.get_by_label("Where did it happen?").fill("example.org/profile/someone")
    page.get_by_label("13 to 15").check()


def _code_and_pin(page: Page) -> tuple[str, str]:
    return page.locator("#case-code").inner_text(), page.locator("#case-pin").inner_text()


def _walk(page: Page, url: str, db: Database, *, axe: bool) -> None:
    """Report → code and PIN → contact step (skipped) → status → add → withdraw."""

    def check(name: str) -> None:
        if axe:  # axe-core runs as JavaScript in the page: only with JavaScript on
            assert_accessible(page)
        screenshot(page, f"portal-report-{name}-{'js' if axe else 'nojs'}")

    page.goto(f"{url}/en/report")
    check("form")
    _fill_report(page)
    page.get_by_role("button", name="Send my report").click()
    expect(page.get_by_role("heading", name="Thank you. Your report was sent.")).to_be_visible(
        timeout=30_000)
    check("done")
    code, pin = _code_and_pin(page)
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
    assert re.fullmatch(r"\d{6}", pin)
    assert [bool(r[0]) for r in rows(db, "SELECT urgent FROM reports")] == [False]

    # The optional contact step comes only now, after sending (CR-01).
    page.get_by_role("button", name="I saved them. Next").click()
    expect(page.get_by_role("heading", name=re.compile("Can we reach you"))).to_be_visible()
    check("contact")
    page.get_by_role("link", name="Skip this").click()

    page.goto(f"{url}/en/status")
    check("status-form")
    page.get_by_label("Case code").fill(code.lower().replace("-", " "))
    page.get_by_label("PIN").fill(pin)
    page.get_by_role("button", name="Check").click()
    expect(page.locator("#status-words")).to_contain_text("waiting for a trained person")
    check("status")
    page.get_by_label("What do you want to add?").fill("They wrote again today.")
    page.get_by_role("button", name="Add this").click()
    expect(page.get_by_text("We added this to your report")).to_be_visible()
    assert len(rows(db, "SELECT id FROM report_additions")) == 1

    page.get_by_role("button", name="Take my report back").click()
    expect(page.get_by_role("heading", name="Take your report back?")).to_be_visible()
    check("withdraw")
    page.get_by_role("button", name="Yes, delete my report").click()
    expect(page.get_by_role("heading", name="Your report was deleted")).to_be_visible()
    check("withdrawn")
    assert rows(db, "SELECT id FROM reports") == []
    assert rows(db, "SELECT id FROM report_hashes") == []
    assert len(rows(db, "SELECT ref FROM report_tombstones")) == 1


@pytest.mark.cr("CR-01", "CR-02", "CR-15")
def test_report_status_and_withdraw_with_javascript_off(portal: tuple[str, Database],
                                                        new_page: Any) -> None:
    url, db = portal
    page: Page = new_page(java_script_enabled=False)
    page.goto(f"{url}/en/report")
    expect(page.get_by_text("Making codes needs JavaScript")).to_be_visible()
    _walk(page, url, db, axe=False)


@pytest.mark.cr("CR-01", "CR-02", "CR-13", "CR-15")
def test_report_flow_with_javascript_is_accessible_and_sends_proof_of_work(
        portal: tuple[str, Database], page: Page) -> None:
    url, db = portal
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.post_data or "")
            if r.method == "POST" and r.url.endswith("/en/report") else None)
    _walk(page, url, db, axe=True)
    fields = parse_qs(posted[0])
    assert pow_ok(fields["form_token"][0], fields["pow_nonce"][0], POW_BITS)


@pytest.mark.cr("CR-11", "CR-13")
def test_danger_path_by_keyboard_shows_contacts_and_marks_urgent(
        portal: tuple[str, Database], page: Page) -> None:
    url, db = portal
    page.goto(f"{url}/en/report")
    danger = page.get_by_role("link", name="Yes, I am in danger now")
    danger.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Get help now")).to_be_visible()
    expect(page.get_by_text("Call your emergency number now")).to_be_visible()
    page.locator("#danger-country").select_option("FR")
    page.locator("#danger-country").press("Tab")
    page.keyboard.press("Enter")  # the "Show help" button
    expect(page.locator('a[href="tel:112"]').first).to_be_visible()
    assert_accessible(page)
    screenshot(page, "portal-report-danger")
    expect(page.get_by_label("I am in danger right now")).to_be_checked()
    page.get_by_label("Tell us more, in your own words").fill("Someone is outside my home.")
    page.get_by_role("button", name="Send my report").click()
    expect(page.get_by_text("We marked it as urgent")).to_be_visible()
    assert [bool(r[0]) for r in rows(db, "SELECT urgent FROM reports")] == [True]
    assert [bool(r[0]) for r in rows(db, "SELECT urgent FROM triage_items")] == [True]


@pytest.mark.cr("CR-05", "CR-13")
def test_report_form_in_arabic_is_right_to_left_and_accessible(portal: tuple[str, Database],
                                                               page: Page) -> None:
    url, _db = portal
    page.goto(f"{url}/ar/report")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("form.report-form").get_attribute("action") == "/ar/report"
    assert_accessible(page)
    screenshot(page, "portal-report-form-ar")
    page.goto(f"{url}/ar/report")
    page.locator("textarea#urls").fill("ftp://example.org/x")
    page.locator("form.report-form button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible(timeout=30_000)
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert_accessible(page)
