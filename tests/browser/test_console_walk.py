"""The whole analyst walk in Chromium, in one test: sign in with a TOTP code, claim the most
pressing item and assess it, open a case that links to an earlier one, refer it (hosting
country from the IP-to-country database), queue a takedown notice that reaches a local SMTP
server, and export the CyberTipline-style report and the signed evidence bundle. axe-core
checks every page on the way."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from aiosmtpd.controller import Controller
from mmdb_writer import MMDBWriter
from netaddr import IPSet
from playwright.sync_api import Page, expect

from safeguard.audit.service import Actor
from safeguard.auth import service as auth
from safeguard.auth import totp
from safeguard.cases import cybertipline, notices, triage
from safeguard.cases import service as cases
from safeguard.cases.delivery import SmtpSender
from safeguard.cases.evidence import verify_bundle
from safeguard.cases.models import Source
from safeguard.db.encryption import cipher_for
from tests.cases.test_notices import SCHEDULE, Inbox, _free_port
from tests.support.browser import assert_accessible
from tests.support.live_server import LiveServer, demo_live_server

URL = "http://192.0.2.7/shared/abc"  # an IP literal: the country comes from the mmdb alone
PHONE = "+44 20 7946 0958"


@pytest.fixture
def walk_server(tmp_path: Path) -> Iterator[LiveServer]:
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoIP2-Country")
    writer.insert_network(IPSet(["192.0.2.0/24"]), {"country": {"iso_code": "NL"}})
    geo = tmp_path / "country.mmdb"
    writer.to_db_file(str(geo))
    partners = tmp_path / "partners.toml"
    partners.write_text('[[hotline]]\ncountry = "NL"\nname = "Hotline NL (example)"\n'
                        'contact = "intake@hotline-nl.example"\nsource = "test data"\n')
    with demo_live_server(tmp_path / "walk", totp_required_roles="admin,analyst",
                          geoip_database=geo, referral_directory=partners,
                          reporter_org_name="Hotline (test)",
                          reporter_email="reports@hotline.example") as server:
        yield server


def _enrol(server: LiveServer) -> str:
    """Two-step sign-in already set up for the demo analyst (its set-up has its own test)."""
    cipher = cipher_for(server.settings)
    with server.db.session() as s:
        user = auth.get_user(s, server.credentials.username)
        enrolment = totp.start_enrolment(s, Actor("cli", "test"), user, cipher)
        totp.confirm_enrolment(s, Actor("cli", "test"), user,
                               pyotp.TOTP(enrolment.secret).now(), cipher)
    return enrolment.secret


def test_sign_in_claim_assess_link_refer_notice_export(walk_server: LiveServer,
                                                         page: Page) -> None:
    server = walk_server
    secret = _enrol(server)
    system = Actor("system", "test")
    with server.db.session() as s:
        triage.intake(s, system, triage.Lead(Source.PLATFORM_REPORT, "p-1", "Older report"))
        lead = triage.intake(s, system, triage.Lead(
            Source.HASH_MATCH, "m-1", "Match on a known list", severity=3,
            content_keys=("url:" + URL,))).item.id
        earlier = cases.create_case(s, system, "Earlier case", [("account", PHONE)],
                                    cipher=cipher_for(server.settings)).reference

    # sign in: the password alone is refused, the code lets the analyst in
    page.goto(f"{server.url}/login")
    assert_accessible(page)
    page.get_by_label("Username").fill(server.credentials.username)
    page.get_by_label("Password").fill(server.credentials.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("wrong or missing code")
    page.get_by_label("Password").fill(server.credentials.password)
    # the enrolment code is spent; the next step's code is accepted (one step of drift)
    page.get_by_label("Code from your authenticator app").fill(
        pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/console")
    assert_accessible(page)

    # claim the most pressing item and assess it
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Triage").click()
    expect(page.get_by_text("You assessed 0 items today")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Claim the next item").click()
    expect(page).to_have_url(f"{server.url}/console/triage/{lead}")
    assert_accessible(page)
    page.get_by_label("Baseline: illegal in every country").check()
    page.get_by_role("button", name="Save assessment").click()
    expect(page.get_by_role("status")).to_have_text("Assessment saved.")
    expect(page.get_by_text("You assessed 1 item today")).to_be_visible()

    # open a case; the phone number links it to the earlier case
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Cases").click()
    assert_accessible(page)
    page.get_by_label("Title").fill("Match on a known list")
    page.get_by_label("First item: kind").select_option("url")
    page.get_by_label("First item: URL, type:hash, text or account").fill(URL)
    page.get_by_role("button", name="Open case").click()
    page.get_by_label("Kind", exact=True).select_option("account")
    page.get_by_label("Value", exact=True).fill("+442079460958")
    page.get_by_role("button", name="Add item").click()
    expect(page.locator("svg.link-graph")).to_contain_text("phone")
    expect(page.get_by_role("link", name=earlier)).to_be_visible()
    case_url = page.url
    case_id = int(case_url.rsplit("/", 1)[1].split("?")[0])

    row = page.locator("tbody tr").filter(has_text="192.0.2.7")
    row.get_by_label("Classification").select_option("baseline")
    row.get_by_label("Industry class").select_option("A2")
    row.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Assessment saved.")
    for target in ("in_triage", "assessed"):
        page.get_by_label("New status").select_option(target)
        page.get_by_role("button", name="Change status").click()
        expect(page.get_by_role("status")).to_contain_text("Status changed")

    # refer: the database places the address in NL, whose hotline is in the directory
    page.get_by_role("button", name="Find where it is hosted").click()
    proposal = page.locator("tbody tr").filter(has_text=URL)
    expect(proposal).to_contain_text("NL (ip-database)")
    expect(proposal).to_contain_text("that country's hotline is in the directory")
    assert_accessible(page)
    proposal.get_by_role("button", name="Refer to Hotline NL (example)").click()
    expect(page.get_by_role("status")).to_contain_text("Referred")
    referral = page.locator("ul.referrals li").filter(has_text="Hotline NL (example)")
    expect(referral).to_contain_text("hosted in NL (ip-database)")
    expect(page.locator("dl.facts")).to_contain_text("referred")
    assert_accessible(page)

    # a takedown notice, queued in the console and sent by the notice job over SMTP
    page.get_by_label("URL", exact=True).fill(URL)
    page.get_by_label("Abuse contact (email or webhook URL)").fill("abuse@host.example")
    page.get_by_role("button", name="Queue notice").click()
    expect(page.get_by_role("status")).to_contain_text("Notice queued")
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        sender = SmtpSender("127.0.0.1", controller.port, "hotline@safeguard.example",
                            starttls=False)
        with server.db.session() as s:
            assert notices.send_due(s, {"email": sender}, org_name="Hotline (test)",
                                    reply_to="reports@hotline.example",
                                    schedule=SCHEDULE) == {"sent": 1, "failed": 0}
    finally:
        controller.stop()
    [mail] = inbox.messages
    assert mail["To"] == "abuse@host.example" and URL in mail.get_payload()
    page.goto(case_url)
    expect(page.locator("tbody tr").filter(has_text="abuse@host.example")).to_contain_text("1×")

    # exports: the report is refused until the incident type is set, then schema-valid
    report_url = f"{server.url}/v1/cases/{case_id}/cybertipline"
    refused = page.request.get(report_url)
    assert refused.status == 422 and "incident type" in refused.json()["detail"]
    page.get_by_label("Incident type").select_option(index=1)
    page.get_by_role("button", name="Set").click()
    expect(page.get_by_role("status")).to_have_text("Case updated.")
    report = page.request.get(report_url)
    assert report.status == 200 and cybertipline.validate(report.body()) == []
    assert URL.encode() in report.body()
    with page.expect_download() as download:
        page.get_by_role("link", name="Signed evidence bundle (zip)").click()
    assert verify_bundle(Path(download.value.path()).read_bytes()).ok
    assert_accessible(page)
