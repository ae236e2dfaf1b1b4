"""Personal data in cases is decrypted only for the personal_data scope, each time audited;
everyone else gets it redacted. Children who report appear under a pseudonym."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from safeguard.audit.models import AuditEvent
from safeguard.audit.service import Actor
from safeguard.cases import personal_data, pseudonyms, triage
from safeguard.cases import service as cases
from safeguard.cases.models import Source
from safeguard.db.encryption import FieldCipher, generate_key
from safeguard.db.engine import Database
from tests.conftest import PASSWORD, issue_token

CIPHER = FieldCipher([generate_key()])
WORDS = "the words a child wrote"
ANALYST = Actor("user", "ana", 1, frozenset({"triage", "personal_data"}))
INTEGRATION = Actor("token", "ana/sorter#3", 1, frozenset({"triage"}))


def _reads(s: Any, actor: Actor) -> list[AuditEvent]:
    return list(s.scalars(select(AuditEvent).where(
        AuditEvent.action == "case.personal_data_read", AuditEvent.actor == str(actor))))


def test_text_is_decrypted_only_with_the_scope_and_each_read_is_audited(db: Database) -> None:
    with db.session() as s:
        case = cases.create_case(s, ANALYST, "case", [("text", WORDS),
                                                      ("url", "https://x.example/a")],
                                 cipher=CIPHER)
        cases.add_note(s, ANALYST, case.id, "called the host", cipher=CIPHER)
        items = cases.items(s, case.id)
        assert personal_data.item_values(s, ANALYST, case.id, items, cipher=CIPHER) == [
            WORDS, "https://x.example/a"]
        personal_data.item_values(s, ANALYST, case.id, items, cipher=CIPHER)
        assert [e.details["items"] for e in _reads(s, ANALYST)] == [[items[0].id]] * 2

        redacted = personal_data.item_values(s, INTEGRATION, case.id, items, cipher=CIPHER)
        assert redacted == [personal_data.REDACTED, "https://x.example/a"]
        assert [t for _, t in personal_data.notes(s, INTEGRATION, case.id, cipher=CIPHER)] \
            == [personal_data.REDACTED]
        assert not _reads(s, INTEGRATION)  # nothing was decrypted for it
        assert [t for _, t in personal_data.notes(s, ANALYST, case.id, cipher=CIPHER)] == [
            "called the host"]


def test_api_redacts_for_a_token_without_the_scope(app_client: Any) -> None:
    full = {"Authorization": "Bearer " + issue_token(app_client, "ana",
                                                     ["triage", "personal_data"])}
    sorter = {"Authorization": "Bearer " + issue_token(app_client, "ana", ["triage"])}
    case = app_client.post("/v1/cases", headers=full, json={"title": "t", "items": [
        {"kind": "text", "value": WORDS}]}).json()
    path = f"/v1/cases/{case['id']}"
    app_client.post(f"{path}/notes", headers=full, json={"text": "private note"})
    assert app_client.get(path, headers=full).json()["items"][0]["value"] == WORDS
    assert app_client.get(path, headers=sorter).json()["items"][0]["value"] == \
        personal_data.REDACTED
    assert app_client.get(f"{path}/notes", headers=sorter).json()[0]["text"] == \
        personal_data.REDACTED
    r = app_client.get(f"{path}/evidence", headers=sorter, params={"include_text": "true"})
    assert r.status_code == 403 and "personal_data" in r.json()["detail"]
    assert app_client.get(f"{path}/evidence", headers=sorter).status_code == 200


def login(client: Any, username: str) -> str:
    """Sign in to the console; the page's CSRF token."""
    r = client.post("/login", data={"username": username, "password": PASSWORD},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console").text)
    assert match
    return match.group(1)


def test_console_case_page_audits_what_it_decrypts(app_client: Any) -> None:
    from safeguard.auth import service as auth

    with app_client.app.state.db.session() as s:
        auth.create_user(s, Actor("cli", "test"), "cs", PASSWORD, "child_safety_analyst")
        case_id = cases.create_case(s, Actor("cli", "test"), "case", [("text", WORDS)],
                                    cipher=app_client.app.state.cipher).id
    login(app_client, "cs")
    r = app_client.get(f"/console/cases/{case_id}")
    assert r.status_code == 200 and WORDS in r.text
    with app_client.app.state.db.session() as s:
        assert len(_reads(s, Actor("user", "cs"))) == 1


def test_child_reports_are_pseudonymised(db: Database) -> None:
    with db.session() as s:
        item = triage.intake(s, Actor("system", "test"), triage.Lead(
            Source.CHILD_REPORT, "report:R-7Q2", "Report from a child (portal)",
            details={"report_id": 41, "source": "portal"})).item
        label = pseudonyms.source_label(item)
        assert label.startswith("child report (Child ") and "R-7Q2" not in label
        assert label == pseudonyms.source_label(item)  # stable for the same report
        assert pseudonyms.pseudonym("report:R-7Q3") != pseudonyms.pseudonym("report:R-7Q2")
        assert pseudonyms.visible_details(item) == {"source": "portal"}
        other = triage.intake(s, Actor("system", "test"), triage.Lead(
            Source.PLATFORM_REPORT, "p-9", "Platform report", details={"report_id": 3})).item
        assert pseudonyms.source_label(other) == "platform report (p-9)"
        assert pseudonyms.visible_details(other) == {"report_id": 3}
