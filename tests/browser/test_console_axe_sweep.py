"""axe-core on every page of the analyst console (issue 4), each in the states that change
what it shows: an item held and not held, a case with items, links, notes, notices and a
referral, the liaison's pages, and the error pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from safeguard.audit.service import Actor
from safeguard.auth import service as auth
from safeguard.cases import notices, referral, triage
from safeguard.cases import service as cases
from safeguard.cases.models import Source
from safeguard.db.encryption import cipher_for
from tests.cases.test_liaison import DIRECTORY
from tests.conftest import PASSWORD
from tests.support.browser import assert_accessible
from tests.support.live_server import LiveServer, demo_live_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    partners = tmp_path / "partners.toml"
    partners.write_text(DIRECTORY)
    with demo_live_server(tmp_path / "sweep", referral_directory=partners) as live:
        yield live


def _sign_in(page: Page, server: LiveServer, username: str, password: str) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/console")


def test_every_console_page_passes_axe(server: LiveServer, page: Page, new_page) -> None:
    root = Actor("cli", "test")
    cipher = cipher_for(server.settings)
    directory = referral.Directory.load(server.settings.referral_directory)
    assert directory.police is not None
    with server.db.session() as s:
        auth.create_user(s, root, "officer", PASSWORD, "le_liaison")
        waiting = triage.intake(s, root, triage.Lead(
            Source.CHILD_REPORT, "report:R-1", "Report from a child (portal)", urgent=True,
            age_band="13_15", details={"report_id": 1, "source": "portal"})).item.id
        triage.intake(s, root, triage.Lead(Source.AD_LEAD, "ad-1", "Ad lead"))
        first = cases.create_case(s, root, "Earlier", [("account", "@handle_one")],
                                  cipher=cipher).id
        case = cases.create_case(s, root, "Case with everything", [
            ("url", "https://files.example/a"), ("account", "@handle_one"),
            ("text", "what the reporter wrote"), ("hash", "md5:" + "ab" * 16)],
            cipher=cipher).id
        cases.add_note(s, root, case, "a note", cipher=cipher)
        notices.create_notice(s, root, case, "https://files.example/a", "abuse@files.example")
        for status in ("in_triage", "assessed"):
            cases.change_status(s, root, case, status)
        referral.refer(s, root, case, directory.police, reason="no hotline for the country")
    admin = next(a for a in server.demo.accounts if a.role == "admin")
    _sign_in(page, server, admin.username, admin.password)
    pages = ["/console", "/console/triage", f"/console/triage/{waiting}", "/console/cases",
             f"/console/cases/{case}", f"/console/cases/{first}", "/console/referred",
             f"/console/cases/{case}/referral?url=http://198.51.100.4/a",
             f"/console/cases/{case}/referral?url=http://198.51.100.4/a&country_override=NL",
             "/console/account/two-step"]
    for path in pages:
        response = page.goto(f"{server.url}{path}")
        assert response is not None and response.status == 200, path
        assert_accessible(page)
    page.goto(f"{server.url}/console/triage/{waiting}")
    facts = page.locator("dl.facts").first
    expect(facts).to_contain_text("child report (Child ")  # pseudonymised
    expect(facts).not_to_contain_text("R-1")
    page.get_by_role("button", name="Claim this item").click()  # the held state
    expect(page.get_by_role("button", name="Save assessment")).to_be_visible()
    assert_accessible(page)
    for missing in ("/console/cases/999999", "/console/triage/999999"):
        response = page.goto(f"{server.url}{missing}")
        assert response is not None and response.status == 404
        assert_accessible(page)

    officer = new_page()
    _sign_in(officer, server, "officer", PASSWORD)
    for path, code in (("/console/referred", 200), (f"/console/referred/{case}", 200),
                       (f"/console/referred/{first}", 404), ("/console/cases", 403)):
        response = officer.goto(f"{server.url}{path}")
        assert response is not None and response.status == code, path
        assert_accessible(officer)
