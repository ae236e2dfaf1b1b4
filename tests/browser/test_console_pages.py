"""Sign-in, home, banks (list, detail, create, add a hash, import) and the audit page in
Chromium, with axe on each page."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from safeguard.demo import KNOWN_BANK
from tests.browser.test_console_matching import sign_in
from tests.support.browser import assert_accessible
from tests.support.live_server import LiveServer


def _admin(server: LiveServer) -> object:
    return next(a for a in server.demo.accounts if a.role == "admin")


def test_sign_in_page_and_console_home(live_server: LiveServer, page: Page) -> None:
    page.goto(f"{live_server.url}/console")
    expect(page).to_have_url(re.compile(r"/login\?next=/console$"))
    expect(page.get_by_role("heading", name="Sign in to the Safeguard console")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Username").fill(live_server.credentials.username)
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page)

    sign_in(page, live_server)
    expect(page.get_by_role("heading", name="Console", level=1)).to_be_visible()
    expect(page.get_by_text(f"Signed in as {live_server.credentials.username}")).to_be_visible()
    nav = page.get_by_role("navigation", name="Console")
    for name in ("Banks", "Match log", "Check a hash"):
        expect(nav.get_by_role("link", name=name)).to_be_visible()
    expect(nav.get_by_role("link", name="Audit")).to_have_count(0)  # analysts do not read it
    assert_accessible(page)


def test_bank_list_and_bank_detail(live_server: LiveServer, page: Page) -> None:
    sign_in(page, live_server)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Banks").click()
    expect(page.get_by_role("heading", name="Hash banks", level=1)).to_be_visible()
    row = page.locator("tbody tr").filter(has_text=KNOWN_BANK)
    expect(row).to_contain_text("positive")
    expect(row).to_contain_text("36")  # 12 pictures x (PDQ, MD5, SHA-256)
    assert_accessible(page)

    row.get_by_role("link", name=KNOWN_BANK).click()
    expect(page.get_by_role("heading", name=f"Bank: {KNOWN_BANK}", level=1)).to_be_visible()
    expect(page.locator("tbody tr").first).to_contain_text("safeguard-demo")
    expect(page.get_by_role("button", name="Add hash")).to_be_visible()
    expect(page.get_by_role("button", name="Import file")).to_be_visible()
    assert_accessible(page)


def test_create_a_bank_add_a_hash_and_import_a_list(live_server: LiveServer,
                                                    page: Page) -> None:
    name = f"browser-{uuid.uuid4().hex[:8]}"
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/console/banks")
    page.get_by_label("Name").fill(name)
    page.get_by_label("PDQ distance threshold (0–31)").fill("20")
    page.get_by_label("Description").fill("made by a browser test")
    page.get_by_role("button", name="Create bank").click()
    expect(page.get_by_role("heading", name=f"Bank: {name}", level=1)).to_be_visible()
    expect(page.locator("dl").first).to_contain_text("20")
    expect(page.locator("tbody")).to_contain_text("No entries.")
    assert_accessible(page)

    # A bad hash is refused; what was typed stays in the form.
    add = page.get_by_role("form", name="Add a hash")
    add.get_by_label("Hash type").select_option("md5")
    add.get_by_label("Hash", exact=True).fill("1234")
    add.get_by_label("Source (who supplied it").fill("partner-hotline")
    add.get_by_role("button", name="Add hash").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "The hash was not added: invalid md5 hash: expected 32 hex characters, got 4")
    expect(add.get_by_label("Source (who supplied it")).to_have_value("partner-hotline")
    expect(add.get_by_label("Hash type")).to_have_value("md5")
    assert_accessible(page)

    md5 = "ab" * 16
    add.get_by_label("Hash", exact=True).fill(md5)
    add.get_by_label("Source id").fill("case-77")
    add.get_by_label("Tags").fill("reviewed, series-a")
    add.get_by_role("button", name="Add hash").click()
    expect(page.get_by_role("status")).to_contain_text("saved")
    selected = page.locator("section.selected")
    expect(selected).to_contain_text(md5)
    expect(selected).to_contain_text("partner-hotline")
    expect(selected).to_contain_text("case-77")
    expect(selected).to_contain_text("reviewed, series-a")
    expect(selected).to_contain_text(live_server.credentials.username)

    # An import with bad lines stores nothing and names every bad line.
    bad = f"md5 {'cd' * 16}\nmd5 nothex\n\nsha256 {'ef' * 32}\npdq 12\n".encode()
    imports = page.get_by_role("form", name="Import a hash list")
    imports.get_by_label("File", exact=True).set_input_files(
        {"name": "list.txt", "mimeType": "text/plain", "buffer": bad})
    imports.get_by_label("Format").select_option("te-file")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        imports.get_by_role("button", name="Import file").click()
    assert answer.value.status == 422
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("list.txt was rejected and nothing was stored: 2 problem(s)")
    expect(alert.get_by_role("listitem")).to_have_count(2)
    expect(alert.get_by_role("listitem").nth(0)).to_contain_text("Line 2:")
    expect(alert.get_by_role("listitem").nth(1)).to_contain_text("Line 5:")
    expect(imports.get_by_label("Format")).to_have_value("te-file")
    expect(page.locator("dl").first).to_contain_text("Entries1")
    assert_accessible(page)

    good = f"{'cd' * 16}\n{'ef' * 16}\n".encode()
    imports.get_by_label("File", exact=True).set_input_files(
        {"name": "good.txt", "mimeType": "text/plain", "buffer": good})
    imports.get_by_label("Format").select_option("lines")
    imports.get_by_label("Hash type of lines that do not name one").select_option("md5")
    imports.get_by_label("Source for rows that name none").fill("list-from-partner")
    imports.get_by_role("button", name="Import file").click()
    expect(page.get_by_role("status")).to_have_text(
        "Imported good.txt: 2 added, 0 merged into existing entries.")
    expect(page.locator("tbody")).to_contain_text("list-from-partner")
    expect(page.locator("tbody tr")).to_have_count(3)


def test_audit_page_for_an_admin_with_chain_verification(live_server: LiveServer,
                                                         page: Page) -> None:
    sign_in(page, live_server, _admin(live_server))
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    expect(page.locator("tbody")).to_contain_text("demo.load")
    assert_accessible(page)
    page.get_by_role("button", name="Verify the chain").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("The chain is intact")
    expect(status).to_contain_text(re.compile(r"\d+ events checked"))
    # The verification itself is audited, and shown newest first.
    expect(page.locator("tbody tr").first).to_contain_text("audit.verify")
    assert_accessible(page)


def test_audit_page_is_forbidden_to_an_analyst(live_server: LiveServer, page: Page) -> None:
    sign_in(page, live_server)
    response = page.goto(f"{live_server.url}/console/audit")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Not allowed", level=1)).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("audit:read")
    expect(page.locator("table")).to_have_count(0)
    assert_accessible(page)
