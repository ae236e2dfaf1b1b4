"""Cases in Chromium: open, add items, assess, see linked cases in the picture, decide and
undo, queue a notice, reach the exports; axe on every page of the walk."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from safeguard.cases.evidence import verify_bundle
from tests.support.browser import assert_accessible
from tests.support.live_server import LiveServer


def _sign_in(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill(server.credentials.username)
    page.get_by_label("Password").fill(server.credentials.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/console")


def _open_case(page: Page, server: LiveServer, title: str, kind: str, value: str) -> str:
    page.goto(f"{server.url}/console/cases")
    page.get_by_label("Title").fill(title)
    page.get_by_label("First item: kind").select_option(kind)
    page.get_by_label("First item: URL, type:hash, text or account").fill(value)
    page.get_by_role("button", name="Open case").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    return page.url


def test_walk_a_case(fresh_live_server: LiveServer, page: Page) -> None:
    server = fresh_live_server
    _sign_in(page, server)
    earlier = _open_case(page, server, "Earlier report", "account", "+44 20 7946 0958")
    assert_accessible(page)
    case_url = _open_case(page, server, "Report from a platform", "url",
                          "https://files.example/abc")
    page.get_by_label("Kind", exact=True).select_option("account")
    page.get_by_label("Value", exact=True).fill("+442079460958")
    page.get_by_role("button", name="Add item").click()
    expect(page.get_by_role("status")).to_have_text("Item added.")

    # the picture and the list name the linked case and what the two share
    graph = page.locator("svg.link-graph")
    expect(graph).to_contain_text("phone")
    linked = page.locator("main ul").first
    expect(linked).to_contain_text("phone:+442079460958")
    linked.get_by_role("link").first.click()
    expect(page).to_have_url(earlier)
    page.go_back()

    row = page.locator("tbody tr").filter(has_text="files.example")
    row.get_by_label("Classification").select_option("national")
    row.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Assessment saved.")

    page.get_by_label("New status").select_option("in_triage")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_role("status")).to_contain_text("undo it for two minutes")
    page.get_by_role("button", name="Undo my last decision").click()
    expect(page.get_by_role("status")).to_have_text("Decision undone.")
    page.get_by_label("New status").select_option("closed")
    page.get_by_role("button", name="Change status").click()  # no outcome: refused
    expect(page.get_by_role("alert")).to_contain_text("needs an outcome")

    page.get_by_label("URL", exact=True).fill("https://files.example/abc")
    page.get_by_label("Abuse contact (email or webhook URL)").fill("abuse@files.example")
    page.get_by_role("button", name="Queue notice").click()
    expect(page.get_by_role("status")).to_contain_text("Notice queued")
    page.get_by_label("New note (stored encrypted)").fill("Host contacted by phone.")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_text("Host contacted by phone.")).to_be_visible()
    assert_accessible(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="Signed evidence bundle (zip)").click()
    assert verify_bundle(Path(download.value.path()).read_bytes()).ok
    page.goto(case_url)
    expect(page.get_by_text("Host contacted by phone.")).to_be_visible()
