"""Ad networks in Chromium: the list, a network with its picture, evidence, template view and
reasons, and "open as triage item"; axe on both pages."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from safeguard.ads import service
from safeguard.ads.records import make_ad
from safeguard.audit.service import Actor
from tests.support.browser import assert_accessible
from tests.support.live_server import LiveServer

TEXT = ("Friendly {} service in {} open on weekdays with calm staff and free parking nearby "
        "please book a visit today and enjoy a quiet afternoon, trusted and reliable, "
        "call {}")


def _sign_in(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill(server.credentials.username)
    page.get_by_label("Password").fill(server.credentials.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/console")


def test_browse_a_network_and_open_it_in_triage(fresh_live_server: LiveServer,
                                                 page: Page) -> None:
    server = fresh_live_server
    ads = [make_ad({"site": "board", "id": str(i), "region": "US",
                    "text": TEXT.format(service_word, city, phone)})
           for i, (service_word, city, phone) in enumerate([
               ("cleaning", "Leeds", "201-555-0123"),
               ("cleaning", "York", "two zero one 555 0123"),
               ("ironing", "Leeds", "917-555-0142")])]
    ads.append(make_ad({"site": "board", "id": "9", "text": "Piano lessons on Sundays"}))
    with server.db.session() as s:
        result = service.ingest(s, Actor("system", "test"), ads)
    [network_id] = result.networks

    _sign_in(page, server)
    page.get_by_role("navigation", name="Console").get_by_role(
        "link", name="Ad networks").click()
    expect(page.get_by_role("heading", name="Ad networks", level=1)).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(1)
    assert_accessible(page)

    page.get_by_role("link", name=network_id).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Ad network {network_id}")
    graph = page.locator("svg.link-graph")
    expect(graph).to_contain_text("phone: +12015550123")
    evidence = page.locator("table").first
    expect(evidence).to_contain_text("+12015550123")
    expect(evidence).to_contain_text("near-duplicate text")
    expect(page.locator("blockquote.template")).to_contain_text("Friendly {1} service in {2}")
    expect(page.get_by_text("Trustworthy-provider language").first).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Open as triage item").click()
    expect(page.get_by_role("status")).to_contain_text("Opened as a triage item")
    page.get_by_role("status").get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(network_id)
