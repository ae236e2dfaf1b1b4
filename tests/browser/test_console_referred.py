"""A law-enforcement liaison in Chromium: signs in, sees only the case referred to their
partner, opens it (free text redacted) and downloads the redacted evidence bundle; axe on
every page."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from safeguard.audit.service import Actor
from safeguard.auth import service as auth
from safeguard.cases import referral
from safeguard.cases import service as cases
from safeguard.cases.evidence import verify_bundle
from safeguard.db.encryption import cipher_for
from tests.cases.test_liaison import DIRECTORY
from tests.conftest import PASSWORD
from tests.support.browser import assert_accessible
from tests.support.live_server import LiveServer, demo_live_server


@pytest.fixture
def liaison_server(tmp_path: Path) -> Iterator[LiveServer]:
    partners = tmp_path / "partners.toml"
    partners.write_text(DIRECTORY)
    with demo_live_server(tmp_path / "liaison", referral_directory=partners) as server:
        yield server


def test_a_liaison_sees_only_what_was_referred_to_them(liaison_server: LiveServer,
                                                       page: Page) -> None:
    server = liaison_server
    root = Actor("cli", "test")
    directory = referral.Directory.load(server.settings.referral_directory)
    with server.db.session() as s:
        auth.create_user(s, root, "officer", PASSWORD, "le_liaison")
        for name, partner in (("police", directory.police), ("hotline",
                                                              directory.hotlines["NL"])):
            case = cases.create_case(s, root, f"Case for the {name}", [
                ("url", f"https://{name}.example/x"), ("text", "what the reporter said")],
                cipher=cipher_for(server.settings))
            assert partner is not None
            referral.refer(s, root, case.id, partner, reason=f"to the {name}")
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill("officer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/console")
    nav = page.get_by_role("navigation", name="Console")
    expect(nav.get_by_role("link", name="Cases")).to_have_count(0)
    nav.get_by_role("link", name="Referred to us").click()
    expect(page.get_by_role("heading", name="Referred to us", level=1)).to_be_visible()
    expect(page.locator("tbody")).to_contain_text("Case for the police")
    expect(page.locator("tbody")).not_to_contain_text("Case for the hotline")
    assert_accessible(page)
    page.get_by_role("link", name="SG-").first.click()
    expect(page.get_by_text("https://police.example/x")).to_be_visible()
    expect(page.get_by_text("what the reporter said")).to_have_count(0)
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Signed evidence bundle").click()
    data = Path(download.value.path()).read_bytes()
    assert verify_bundle(data).ok
    assert b"what the reporter said" not in zipfile.ZipFile(io.BytesIO(data)).read("case.json")
