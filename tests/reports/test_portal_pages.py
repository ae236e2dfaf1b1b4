"""The child's report flow over HTTP with JavaScript off (plain form posts), on both
databases: CSRF, one-time forms, friendly errors, the danger path, code and PIN, status, add,
contact, withdraw, rate limits per network, and no IP address stored anywhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from safeguard.config import Settings
from safeguard.reports import service
from safeguard.web.portal_guard import (
    FormTokens,
    Limit,
    PortalGuard,
    RateLimiter,
    guard_of,
    solve_pow,
)

CLIENT_IP = "203.0.113.77"


@pytest.fixture
def portal(settings: Settings) -> Iterator[TestClient]:
    """The real app, seen from one public address (a documentation range)."""
    from safeguard.web.app import create_app

    service.unknown_code_failures.clear()
    with TestClient(create_app(settings), client=(CLIENT_IP, 50123)) as client:
        yield client


def _form(client: TestClient, path: str = "/en/report") -> dict[str, str]:
    page = client.get(path)
    assert page.status_code == 200
    found = {name: re.search(rf'name="{name}" value="([^"]*)"', page.text)
             for name in ("csrf_token", "form_token")}
    assert found["csrf_token"] is not None
    return {name: m.group(1) for name, m in found.items() if m is not None}


def _submit(client: TestClient, **fields: Any) -> Any:
    data = {**_form(client), "what": ["threatened"], "details": "they said they would post it",
            "urls": "example.org/p/1", "age_band": "13_15", "hashes": "", **fields}
    return client.post("/en/report", data=data)


def _receipt(page: str) -> tuple[str, str]:
    code = re.search(r'id="case-code">([0-9A-Z-]+)<', page).group(1)  # type: ignore[union-attr]
    pin = re.search(r'id="case-pin">(\d+)<', page).group(1)  # type: ignore[union-attr]
    return code, pin


def _count(client: TestClient, table: str = "reports") -> int:
    with client.app.state.db.session() as s:  # type: ignore[attr-defined]
        return int(s.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


@pytest.mark.cr("CR-01", "CR-02", "CR-07", "CR-12")
def test_report_without_javascript_shows_code_and_pin_once(portal: TestClient) -> None:
    page = portal.get("/en/report")
    assert 'type="file"' not in page.text or 'type="file" id="device-files"' in page.text
    assert not re.search(r'<input[^>]*type="file"[^>]*name=', page.text)  # never uploads media
    assert "date of birth" not in page.text.lower() and "How old are you?" in page.text
    done = _submit(portal)
    assert done.status_code == 200, done.text[:2000]
    code, pin = _receipt(done.text)
    assert len(code.replace("-", "")) == 12 and len(pin) == 6
    assert "We show them only once" in done.text
    assert "no-store" in done.headers["cache-control"]
    assert _count(portal) == 1
    with portal.app.state.db.session() as s:  # type: ignore[attr-defined]
        row = s.execute(text("SELECT pin_hash, code_digest, contact FROM reports")).one()
        assert row[0].startswith("$argon2") and pin not in row[0]
        assert code.replace("-", "") not in row[1] and row[2] is None
    # The status page is never showing the code again by itself: only what the child typed.
    status = portal.post("/en/status", data={**_form(portal, "/en/status"), "code": code,
                                             "pin": pin})
    assert status.status_code == 200
    assert "waiting for a trained person" in status.text


@pytest.mark.cr("CR-13")
def test_replayed_and_forged_forms_store_nothing_twice(portal: TestClient) -> None:
    fields = {**_form(portal), "what": ["touched"], "age_band": "under_13"}
    assert portal.post("/en/report", data=fields).status_code == 200
    replay = portal.post("/en/report", data=fields)
    assert replay.status_code == 409 and "already sent" in replay.text
    forged = portal.post("/en/report", data={**fields, "csrf_token": "x" * 30})
    assert forged.status_code == 403
    bad_token = portal.post("/en/report", data={**fields, "form_token": "1.2.3"})
    assert bad_token.status_code == 409 and "open for a long time" in bad_token.text
    assert _count(portal) == 1


def test_bad_input_gets_a_friendly_message_and_keeps_what_was_typed(portal: TestClient) -> None:
    bad = _submit(portal, urls="ftp://example.org/x", details="my words stay here")
    assert bad.status_code == 422
    assert "We could not read a link" in bad.text and "my words stay here" in bad.text
    assert 'aria-invalid="true"' in bad.text and 'role="alert"' in bad.text
    hashes = _submit(portal, hashes="pdq nothex 50")
    assert hashes.status_code == 422 and "picture codes" in hashes.text
    empty = portal.post("/en/report", data={**_form(portal), "age_band": "unknown"})
    assert empty.status_code == 422 and "tell us something" in empty.text
    huge = _submit(portal, details="x" * 70_000)
    assert huge.status_code == 413 and "too big" in huge.text
    assert _count(portal) == 0


@pytest.mark.cr("CR-11")
def test_danger_path_shows_contacts_at_once_and_marks_urgent(portal: TestClient) -> None:
    page = portal.get("/en/report/danger?country=FR")
    assert page.status_code == 200
    assert 'href="tel:112"' in page.text  # emergency contacts before any question
    assert page.text.index("tel:112") < page.text.index('name="details"')
    assert 'name="in_danger" value="yes" checked' in page.text
    fields = {**_form(portal, "/en/report/danger"), "in_danger": "yes", "age_band": "unknown"}
    done = portal.post("/en/report", data=fields)
    assert done.status_code == 200 and "urgent" in done.text
    with portal.app.state.db.session() as s:  # type: ignore[attr-defined]
        assert s.execute(text("SELECT urgent FROM reports")).scalar_one()
        assert s.execute(text("SELECT urgent FROM triage_items")).scalar_one()


@pytest.mark.cr("CR-01", "CR-02", "CR-15")
def test_status_add_contact_and_withdraw(portal: TestClient) -> None:
    code, pin = _receipt(_submit(portal).text)
    keys = {"code": code.lower(), "pin": pin}
    contact = portal.post("/en/report/contact", data={**_form(portal, "/en/status"), **keys,
                                                      "step": "ask"})
    assert contact.status_code == 200 and "only use it" in contact.text
    saved = portal.post("/en/report/contact", data={
        **_form(portal, "/en/status"), **keys, "step": "save", "contact": "a@example.org"})
    assert saved.status_code == 200
    added = portal.post("/en/status/add", data={**_form(portal, "/en/status"), **keys,
                                                "text": "there is more", "urls": ""})
    assert added.status_code == 200 and "We added this" in added.text
    ask = portal.post("/en/status/withdraw", data={**_form(portal, "/en/status"), **keys})
    assert ask.status_code == 200 and "Yes, delete my report" in ask.text
    assert _count(portal) == 1  # asking is not deleting
    gone = portal.post("/en/status/withdraw", data={**_form(portal, "/en/status"), **keys,
                                                    "confirm": "yes"})
    assert gone.status_code == 200 and "was deleted" in gone.text
    for table in ("reports", "report_hashes", "report_additions", "triage_items"):
        assert _count(portal, table) == 0
    assert _count(portal, "report_tombstones") == 1
    again = portal.post("/en/status", data={**_form(portal, "/en/status"), **keys})
    assert again.status_code == 401


@pytest.mark.cr("CR-02")
def test_wrong_pins_lock_the_same_way_for_real_and_made_up_codes(portal: TestClient) -> None:
    code, pin = _receipt(_submit(portal).text)
    wrong = "999999" if pin != "999999" else "888888"
    answers = {}
    for tried in (code, "ABCD-EFGH-JKMN"):
        seen = []
        for _ in range(service.MAX_PIN_FAILURES + 1):
            r = portal.post("/en/status", data={**_form(portal, "/en/status"), "code": tried,
                                                "pin": wrong})
            seen.append((r.status_code, "Too many wrong tries" in r.text))
        answers[tried] = seen
    assert answers[code] == answers["ABCD-EFGH-JKMN"]
    assert answers[code][-1] == (429, True)


@pytest.mark.cr("CR-08", "CR-13")
def test_rate_limits_per_network_and_proof_of_work(portal: TestClient) -> None:
    app = portal.app  # type: ignore[attr-defined]
    app.state.portal_guard = PortalGuard(RateLimiter({
        "report_plain": Limit(1, 3600), "report_pow": Limit(2, 3600), "status": Limit(5, 900)}),
        FormTokens(), pow_bits=8)
    assert _submit(portal).status_code == 200
    limited = _submit(portal)
    assert limited.status_code == 429 and "wait a few minutes" in limited.text
    fields = _form(portal)  # with proof-of-work the same network gets the higher limit
    solved = _submit(portal, **fields, pow_nonce=solve_pow(fields["form_token"], 8))
    assert solved.status_code == 200
    assert guard_of(app.state).limiter.prefixes() == ["203.0.113.0/24"] * 2


@pytest.mark.cr("CR-08")
def test_no_ip_address_is_stored_anywhere(portal: TestClient) -> None:
    code, pin = _receipt(_submit(portal).text)
    portal.post("/en/status/add", data={**_form(portal, "/en/status"), "code": code,
                                        "pin": pin, "text": "more", "urls": ""})
    portal.post("/en/status", data={**_form(portal, "/en/status"), "code": code, "pin": "0"})
    db = portal.app.state.db  # type: ignore[attr-defined]
    dump = []
    with db.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                dump.append(" ".join(str(v) for v in row))
    joined = "\n".join(dump)
    assert "203.0.113" not in joined
    assert "report.submitted" in joined  # the dump did see the report's audit trail


PAGE_BUDGET = 60 * 1024  # HTML + CSS + JS before compression (the budget)


@pytest.mark.parametrize("path", ["/ar/report", "/ar/report/danger?country=FR", "/ar/status"])
def test_report_pages_stay_under_the_page_weight_budget(portal: TestClient, path: str) -> None:
    # Counted with the on-device hashing scripts the report form carries: stricter than the
    # issue asks, and still under budget.
    page = portal.get(path)
    assets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text)
    assets += re.findall(r'<script src="([^"]+)"', page.text)
    total = len(page.content) + sum(len(portal.get(a).content) for a in assets)
    assert assets and total < PAGE_BUDGET, f"{total} bytes"


@pytest.mark.cr("CR-05")
@pytest.mark.parametrize("lang", ["en", "fr", "es", "pt", "ar"])
def test_every_report_page_is_translated(settings: Settings, lang: str) -> None:
    from safeguard.web.app import create_app

    strict = settings.model_copy(update={"i18n_strict": True})
    service.unknown_code_failures.clear()
    with TestClient(create_app(strict), client=(CLIENT_IP, 50124)) as client:
        pages = [client.get(f"/{lang}/report"), client.get(f"/{lang}/report/danger"),
                 client.get(f"/{lang}/status")]
        fields = _form(client, f"/{lang}/report")
        done = client.post(f"/{lang}/report", data={**fields, "what": ["something_else"],
                                                    "age_band": "unknown"})
        code, pin = _receipt(done.text)
        keys = {**_form(client, f"/{lang}/status"), "code": code, "pin": pin}
        pages += [done, client.post(f"/{lang}/status", data=keys),
                  client.post(f"/{lang}/report/contact", data={**keys, "step": "ask"}),
                  client.post(f"/{lang}/status/withdraw", data=keys),
                  client.post(f"/{lang}/status", data={**keys, "pin": "x"}),
                  client.post(f"/{lang}/report", data={**fields, "urls": "ftp://x"})]
        for page in pages:
            assert "⟦untranslated⟧" not in page.text, page.url
            assert f'<html lang="{lang}"' in page.text
        assert (f'<html lang="{lang}" dir="rtl"' in pages[0].text) is (lang == "ar")


def test_a_database_outage_keeps_nothing_and_says_so(portal: TestClient,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from safeguard.db.engine import DatabaseUnavailable
    from safeguard.reports import service as report_service

    def down(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseUnavailable("the database is unavailable or busy; nothing was written")

    monkeypatch.setattr(report_service, "submit_child", down)
    page = _submit(portal)
    assert page.status_code == 503 and "nothing was kept" in page.text
    assert "Are you in danger now?" in page.text
    assert _count(portal) == 0
