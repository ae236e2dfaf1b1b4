"""Bad input and interruptions of the child's report (issue 3, "Proof"), on both databases:
forged case codes of any text (any script, any digits) are refused the same way and never
crash; a submission interrupted mid-way (the database gone after the report row was written,
an error inside the transaction, the connection cut while the form is uploading) leaves
nothing half-stored, tells the child so in their language, and a second press sends it."""

from __future__ import annotations

import html
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from safeguard.cases import triage
from safeguard.config import Settings
from safeguard.db.encryption import FieldCipher, generate_key
from safeguard.db.engine import Database
from safeguard.reports import service
from safeguard.reports.inputs import HashIn
from safeguard.web.i18n import gettext
from tests.support.live_server import make_settings, serve_app

CLIENT_IP = "198.51.100.23"
MD5 = "0123456789abcdef0123456789abcdef"
TABLES = ("reports", "report_hashes", "report_additions", "triage_items")
ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.fixture
def portal(settings: Settings) -> Iterator[TestClient]:
    from safeguard.web.app import create_app

    service.unknown_code_failures.clear()
    with TestClient(create_app(settings.model_copy(update={"i18n_strict": True})),
                    client=(CLIENT_IP, 40001)) as client:
        yield client


def _tokens(page: str) -> dict[str, str]:
    found = {name: re.search(rf'name="{name}" value="([^"]*)"', page)
             for name in ("csrf_token", "form_token")}
    return {name: m.group(1) for name, m in found.items() if m is not None}


def _form(client: TestClient, path: str) -> dict[str, str]:
    page = client.get(path)
    assert page.status_code == 200
    return _tokens(page.text)


def _receipt(page: str) -> tuple[str, str]:
    code = re.search(r'id="case-code">([0-9A-Z-]+)<', page)
    pin = re.search(r'id="case-pin">(\d+)<', page)
    assert code and pin, page[:500]
    return code.group(1), pin.group(1)


def _counts(db: Database) -> dict[str, int]:
    with db.session() as s:
        counts = {t: int(s.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
                  for t in TABLES}
        counts["audit:report.submitted"] = int(s.execute(text(
            "SELECT count(*) FROM audit_events WHERE action = 'report.submitted'")).scalar_one())
    return counts


NOTHING = dict.fromkeys((*TABLES, "audit:report.submitted"), 0)


def _cut(session: Any, *args: Any, **kwargs: Any) -> Any:
    """triage.intake failing as a dropped database connection does, after the report and
    its hashes were already written in the same transaction."""
    assert session.execute(text("SELECT count(*) FROM report_hashes")).scalar_one() == 1
    raise OperationalError("INSERT INTO triage_items ...", {},
                           Exception("server closed the connection unexpectedly"))


@pytest.mark.cr("CR-13")
def test_a_submission_cut_mid_way_keeps_nothing_says_so_in_french_and_can_be_resent(
        portal: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    db: Database = portal.app.state.db  # type: ignore[attr-defined]
    fields = {**_form(portal, "/fr/report"), "what": ["threatened"], "age_band": "13_15",
              "details": "mes mots restent ici", "urls": "example.org/p/1",
              "hashes": f"md5 {MD5}"}
    monkeypatch.setattr(triage, "intake", _cut)
    page = portal.post("/fr/report", data=fields)
    assert page.status_code == 503
    shown = html.unescape(page.text)
    assert '<html lang="fr"' in page.text
    assert gettext("fr", "We could not save this just now, so nothing was kept. Please try "
                   "again in a minute.") in shown
    assert "mes mots restent ici" in shown and "example.org/p/1" in shown  # kept on the page
    assert _counts(db) == NOTHING

    # The database is back: sending the very same form again is a retry, not a replay.
    monkeypatch.undo()
    again = portal.post("/fr/report", data=fields)
    assert again.status_code == 200, again.text[:500]
    _receipt(again.text)
    assert _counts(db) == {"reports": 1, "report_hashes": 1, "report_additions": 0,
                           "triage_items": 1, "audit:report.submitted": 1}
    # ...and only once: now it is a replay.
    replay = portal.post("/fr/report", data=fields)
    assert replay.status_code == 409
    assert gettext("fr", "This form was already sent. We did not send it twice.") in \
        html.unescape(replay.text)
    assert _counts(db)["reports"] == 1


def test_an_error_inside_the_transaction_rolls_the_whole_report_back(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    cipher = FieldCipher([generate_key()])

    def broken(session: Any, *args: Any, **kwargs: Any) -> Any:
        assert session.execute(text("SELECT count(*) FROM reports")).scalar_one() == 1
        raise RuntimeError("a bug half-way through")

    monkeypatch.setattr(triage, "intake", broken)
    with pytest.raises(RuntimeError), db.session() as s:
        service.submit_child(s, service.ChildReportIn(
            what=["threatened"], details="words", hashes=[HashIn("md5", MD5)]), cipher=cipher)
    assert _counts(db) == NOTHING


def test_a_form_cut_off_while_uploading_stores_nothing(tmp_path: Path) -> None:
    """A phone losing signal half-way through sending: the server gets part of the body and
    then the connection closes. Nothing is stored and the form token is not spent, so the
    same form sent in full afterwards makes exactly one report."""
    app_settings = make_settings(tmp_path / "data")
    with serve_app(app_settings) as url, httpx.Client(base_url=url) as client:
        fields = {**_tokens(client.get("/en/report").text), "what": "threatened",
                  "details": "half of this never arrives " * 40, "age_band": "unknown"}
        body = urlencode(fields).encode()
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        parts = urlsplit(url)
        with socket.create_connection((parts.hostname, parts.port)) as raw:
            raw.sendall(
                f"POST /en/report HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\nCookie: {cookie}\r\n\r\n".encode()
                + body[: len(body) // 2])
        full = client.post("/en/report", data=fields)
        assert full.status_code == 200, full.text[:500]
        _receipt(full.text)
        db = Database(app_settings.database_url)
        try:
            counts = _counts(db)
        finally:
            db.dispose()
    assert counts["reports"] == 1 and counts["audit:report.submitted"] == 1


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=st.text(max_size=70), pin=st.text(max_size=12))
def test_any_typed_code_and_pin_is_refused_and_never_crashes(db: Database, code: str,
                                                             pin: str) -> None:
    with db.session() as s, pytest.raises(service.CodeRejected):
        service.open_with_code(s, code, pin)


@pytest.mark.cr("CR-02", "CR-05")
def test_codes_in_other_scripts_are_refused_kindly_and_arabic_digits_open_the_report(
        portal: TestClient) -> None:
    done = portal.post("/ar/report", data={**_form(portal, "/ar/report"),
                                           "what": ["something_else"], "age_band": "unknown"})
    code, pin = _receipt(done.text)
    for forged in ("ÄBCD-ÉFGH-ÎJKM", "حمايةحمايةحم", "\u202eABCD-EFGH-JKMN", "x" * 500):
        refused = portal.post("/ar/status", data={**_form(portal, "/ar/status"),
                                                  "code": forged, "pin": "123456"})
        assert refused.status_code == 401, forged
        assert gettext("ar", "The case code or the PIN is not right. Please check them and try "
                       "again.") in html.unescape(refused.text)
    # An Arabic keyboard types Arabic-Indic digits: the same code and PIN.
    opened = portal.post("/ar/status", data={**_form(portal, "/ar/status"),
                                             "code": code.translate(ARABIC_DIGITS),
                                             "pin": pin.translate(ARABIC_DIGITS)})
    assert opened.status_code == 200
    assert 'id="status-words"' in opened.text
