"""The matching pages in Chromium, signed in as the demo analyst: check a hash (pasted and as a
file), bad input re-rendered with the reason, and the match log with its filters; axe on each."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from safeguard.audit.models import AuditEvent
from safeguard.banks import service as banks
from safeguard.demo import KNOWN_BANK, NEGATIVE_BANK
from tests.support.browser import assert_accessible
from tests.support.live_server import LiveServer


def sign_in(page: Page, server: LiveServer, account: object | None = None) -> None:
    account = account or server.credentials
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill(account.username)  # type: ignore[attr-defined]
    page.get_by_label("Password").fill(account.password)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/console")


def demo_entry(server: LiveServer, source_id: str, signal_type: str = "pdq") -> tuple[int, str]:
    with server.db.session() as s:
        entry = next(e for e in banks.list_entries(s, KNOWN_BANK, limit=1000)
                     if e.source_id == source_id and e.signal_type == signal_type)
        return entry.id, entry.value


def test_check_a_pasted_hash_shows_the_match_with_its_provenance(live_server: LiveServer,
                                                                 page: Page) -> None:
    entry_id, value = demo_entry(live_server, "demo-2")
    sign_in(page, live_server)
    page.get_by_role("link", name="Check a hash").first.click()
    expect(page.get_by_role("heading", name="Check a hash", level=1)).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Hashes, one a line").fill(value)
    page.get_by_role("button", name="Check hashes").click()
    result = page.locator("section.result")
    expect(result).to_have_count(1)
    expect(result.get_by_role("heading", level=3)).to_contain_text(value)
    expect(result).to_contain_text("Match: found in a positive bank.")
    row = result.locator("tbody tr").filter(has_text=KNOWN_BANK)
    expect(row).to_have_count(1)
    expect(row.get_by_role("link", name=f"entry {entry_id}")).to_have_attribute(
        "href", re.compile(rf"/console/banks/\d+\?entry={entry_id}$"))
    expect(row.locator("td").nth(2)).to_have_text("0")
    expect(row).to_contain_text("safeguard-demo")
    expect(row).to_contain_text("demo-2")
    expect(row).to_contain_text("demo, benign")
    expect(row).to_contain_text("by system:demo-loader")
    expect(row.locator("td").last).to_have_text("no")
    assert_accessible(page)

    # The entry link opens the bank page with that entry's provenance.
    row.get_by_role("link", name=f"entry {entry_id}").click()
    selected = page.get_by_role("region", name=f"Entry {entry_id}")
    expect(selected).to_contain_text(value)
    expect(selected).to_contain_text("safeguard-demo")
    assert_accessible(page)


def test_a_bad_hash_is_refused_with_its_line_and_nothing_is_lost(live_server: LiveServer,
                                                                 page: Page) -> None:
    _, value = demo_entry(live_server, "demo-3")
    typed = f"{value}\n\nnot-a-hash\nsha256 {'g' * 64}"
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/console/match")
    page.get_by_label("Hashes, one a line").fill(typed)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Check hashes").click()
    assert answer.value.status == 422
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Nothing was checked")
    expect(alert).to_contain_text("line 3: 10 characters is not a hash length")
    expect(alert).to_contain_text("line 4: invalid sha256 hash")
    expect(page.get_by_label("Hashes, one a line")).to_have_value(typed)
    expect(page.get_by_label("Hashes, one a line")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("section.result")).to_have_count(0)
    assert_accessible(page)


def test_a_flipped_picture_matches_and_the_variant_is_reported(live_server: LiveServer,
                                                              page: Page) -> None:
    picture = live_server.demo.images_dir / "altered" / "demo-4-flipped.jpg"
    entry_id, _ = demo_entry(live_server, "demo-4")
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/console/match")
    page.get_by_label("Image or video file").set_input_files(picture)
    page.get_by_role("button", name="Check file").click()
    result = page.locator("section.result")
    expect(result.get_by_role("heading", level=3)).to_have_text("File demo-4-flipped.jpg")
    expect(result).to_contain_text("Match: found in a positive bank.")
    row = result.locator("tbody tr").filter(has_text=f"entry {entry_id}")
    expect(row).to_have_count(1)
    variant = row.locator("td").nth(3)
    expect(variant).to_contain_text(re.compile(r"query: flip"))
    expect(variant).not_to_contain_text("query: original")
    expect(row).to_contain_text("demo-4")
    assert_accessible(page)


def test_a_known_false_positive_is_shown_suppressed_with_the_reason(live_server: LiveServer,
                                                                   page: Page) -> None:
    picture = live_server.demo.images_dir / "known" / "demo-11.jpg"
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/console/match")
    page.get_by_label("Image or video file").set_input_files(picture)
    page.get_by_role("button", name="Check file").click()
    result = page.locator("section.result")
    expect(result).to_contain_text("Only suppressed or negative-bank matches.")
    positive = result.locator("tbody tr").filter(has_text=f"{KNOWN_BANK} (positive)")
    expect(positive.first).to_be_visible()
    reason = positive.first.locator("td").last
    expect(reason).to_contain_text("yes: also matches known false positive entry")
    expect(reason).to_contain_text(f"in negative bank '{NEGATIVE_BANK}'")
    assert_accessible(page)


def test_a_damaged_file_is_refused_with_a_clear_message(live_server: LiveServer, page: Page,
                                                        tmp_path) -> None:
    good = (live_server.demo.images_dir / "known" / "demo-5.jpg").read_bytes()
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/console/match")
    page.get_by_label("Image or video file").set_input_files(
        {"name": "cut-short.jpg", "mimeType": "image/jpeg", "buffer": good[:400]})
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Check file").click()
    assert answer.value.status == 422
    expect(page.get_by_role("alert")).to_contain_text("The file was not checked")
    expect(page.get_by_role("alert")).to_contain_text("cut-short.jpg")
    expect(page.locator("section.result")).to_have_count(0)
    assert_accessible(page)


def test_the_match_log_lists_matches_newest_first_and_filters(live_server: LiveServer,
                                                              page: Page) -> None:
    entry_id, value = demo_entry(live_server, "demo-6", "md5")
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/console/match")
    page.get_by_label("Hashes, one a line").fill(value)
    page.get_by_role("button", name="Check hashes").click()
    expect(page.locator("section.result")).to_contain_text("Match")
    with live_server.db.session() as s:
        reads_before = s.query(AuditEvent).filter(AuditEvent.action == "matchlog.read").count()

    page.get_by_role("link", name="Match log").first.click()
    expect(page.get_by_role("heading", name="Match log", level=1)).to_be_visible()
    newest = page.locator("tbody tr").first
    expect(newest).to_contain_text(live_server.credentials.username)
    expect(newest).to_contain_text(value)
    expect(newest.get_by_role("link", name=f"entry {entry_id}")).to_be_visible()
    expect(newest).to_contain_text(KNOWN_BANK)
    assert_accessible(page)
    with live_server.db.session() as s:
        reads_after = s.query(AuditEvent).filter(AuditEvent.action == "matchlog.read").count()
    assert reads_after == reads_before + 1  # reading the log is audited

    # Filters: only suppressed matches -> the md5 check just made is not among them.
    page.get_by_label("Suppressed").select_option("yes")
    page.get_by_label("Source").select_option("console")
    page.get_by_role("button", name="Show matches").click()
    expect(page).to_have_url(re.compile(r"suppressed=yes"))
    expect(page.get_by_label("Suppressed")).to_have_value("yes")
    expect(page.locator("tbody")).not_to_contain_text(value)
    page.get_by_label("Suppressed").select_option("no")
    page.get_by_label("Bank").select_option(KNOWN_BANK)
    page.get_by_label("From (date, UTC)").fill("2000-01-01")
    page.get_by_role("button", name="Show matches").click()
    expect(page.locator("tbody tr").first).to_contain_text(value)
    page.get_by_label("Until (date, UTC, included)").fill("2000-01-02")
    page.get_by_role("button", name="Show matches").click()
    expect(page.locator("tbody")).to_contain_text("No matches for these filters.")
    assert_accessible(page)
