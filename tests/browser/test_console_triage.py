"""The triage pages in Chromium: queue with reasons, claim next, assess; axe on each page."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from safeguard.audit.service import Actor
from safeguard.cases import triage
from safeguard.cases.models import Source, TriageItem
from tests.support.browser import assert_accessible
from tests.support.live_server import LiveServer


def _sign_in(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill(server.credentials.username)
    page.get_by_label("Password").fill(server.credentials.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/console")


def test_claim_and_assess_in_the_console(fresh_live_server: LiveServer, page: Page) -> None:
    server = fresh_live_server
    with server.db.session() as s:
        system = Actor("system", "test")
        triage.intake(s, system, triage.Lead(Source.PLATFORM_REPORT, "p-1", "Report from a "
                                             "platform", severity=1))
        urgent = triage.intake(s, system, triage.Lead(
            Source.CHILD_REPORT, "c-1", "A child says they are in danger", urgent=True,
            age_band="13_15", content_keys=("url:https://example.org/x",))).item.id
    _sign_in(page, server)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Triage").click()
    expect(page.get_by_role("heading", name="Triage", level=1)).to_be_visible()
    first_row = page.locator("tbody tr").first
    expect(first_row).to_contain_text("A child says they are in danger")
    expect(first_row).to_contain_text("urgent: flagged as danger now")
    assert_accessible(page)

    page.get_by_role("button", name="Claim the next item").click()
    expect(page).to_have_url(f"{server.url}/console/triage/{urgent}")
    expect(page.get_by_text("age band 13–15")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Doubtful: needs a second opinion").check()
    page.get_by_label("Note (optional)").fill("second opinion requested")
    page.get_by_role("button", name="Save assessment").click()
    expect(page.get_by_role("status")).to_have_text("Assessment saved.")
    with server.db.session() as s:
        item = s.get(TriageItem, urgent)
        assert (item.status, item.classification) == ("assessed", "doubtful")
        assert item.assessment_note == "second opinion requested"


def test_a_second_tab_cannot_take_a_held_item(fresh_live_server: LiveServer, page: Page,
                                              new_page) -> None:
    server = fresh_live_server
    with server.db.session() as s:
        item_id = triage.intake(s, Actor("system", "test"), triage.Lead(
            Source.AD_LEAD, "a-1", "Ad lead")).item.id
    _sign_in(page, server)
    page.goto(f"{server.url}/console/triage/{item_id}")
    page.get_by_role("button", name="Claim this item").click()
    expect(page.get_by_role("button", name="Save assessment")).to_be_visible()
    # The admin, in another browser, sees the item held and is refused with the reason.
    admin = next(a for a in server.demo.accounts if a.role == "admin")
    other = new_page()
    other.goto(f"{server.url}/login")
    other.get_by_label("Username").fill(admin.username)
    other.get_by_label("Password").fill(admin.password)
    other.get_by_role("button", name="Sign in").click()
    other.goto(f"{server.url}/console/triage/{item_id}")
    other.get_by_role("button", name="Claim this item").click()
    expect(other.get_by_role("alert")).to_contain_text("held by another analyst")
    assert_accessible(other)
