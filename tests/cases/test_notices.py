"""Takedown notices: grouped per abuse contact, sent over a real (local) SMTP server or a
webhook, retried with back-off when the server refuses, re-checked with HEAD only, re-sent
until the content is gone, and time to removal recorded."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from safeguard.audit.service import Actor
from safeguard.cases import notices
from safeguard.cases import service as cases
from safeguard.cases.delivery import HttpChecker, SmtpSender, WebhookSender
from safeguard.cases.notice_models import Notice
from safeguard.db.base import utcnow
from safeguard.db.encryption import FieldCipher, generate_key
from safeguard.db.engine import Database
from safeguard.errors import ConflictError, InvalidInput

ANA = Actor("user", "ana", 1)
SCHEDULE = notices.Schedule(renotify=timedelta(hours=48), recheck=timedelta(hours=6))


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpSender, Inbox]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield SmtpSender("127.0.0.1", controller.port, "hotline@safeguard.example",
                         starttls=False), inbox
    finally:
        controller.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _case(db: Database) -> int:
    with db.session() as s:
        return cases.create_case(s, ANA, "case", cipher=FieldCipher([generate_key()])).id


def _later(hours: float) -> Any:
    return utcnow() + timedelta(hours=hours)


def test_sent_grouped_then_rechecked_and_resent_until_gone(
        db: Database, smtp: tuple[SmtpSender, Inbox]) -> None:
    sender, inbox = smtp
    case_id = _case(db)
    with db.session() as s:
        for path in ("a", "b"):
            notices.create_notice(s, ANA, case_id, f"https://host.example/{path}",
                                  "abuse@host.example")
        notices.create_notice(s, ANA, case_id, "https://other.example/c", "abuse@other.example")
        with pytest.raises(ConflictError, match="still open"):
            notices.create_notice(s, ANA, case_id, "https://host.example/a",
                                  "abuse@host.example")
    with db.session() as s:
        counts = notices.send_due(s, {"email": sender}, org_name="Hotline X",
                                  reply_to="reports@x.example", schedule=SCHEDULE)
    assert counts == {"sent": 3, "failed": 0}
    assert sorted(m["To"] for m in inbox.messages) == ["abuse@host.example",
                                                      "abuse@other.example"]
    grouped = next(m for m in inbox.messages if m["To"] == "abuse@host.example")
    assert "https://host.example/a" in grouped.get_payload()
    assert "https://host.example/b" in grouped.get_payload()
    with db.session() as s:  # nothing is due again straight away
        assert notices.send_due(s, {"email": sender}, org_name="", reply_to="",
                                schedule=SCHEDULE) == {"sent": 0, "failed": 0}

    gone = {"https://host.example/a"}

    def status(request: httpx.Request) -> httpx.Response:
        assert request.method == "HEAD"  # the content is never downloaded
        return httpx.Response(404 if str(request.url) in gone else 200)

    checker = HttpChecker(httpx.Client(transport=httpx.MockTransport(status)))
    with db.session() as s:
        counts = notices.check_due(s, checker, schedule=SCHEDULE, now=_later(7))
    assert counts == {"removed": 1, "still_up": 2, "check_failed": 0}
    with db.session() as s:
        removed = s.query(Notice).filter_by(url="https://host.example/a").one()
        assert removed.status == "removed" and removed.seconds_to_removal > 7 * 3600 - 5
        counts = notices.send_due(s, {"email": sender}, org_name="", reply_to="",
                                  schedule=SCHEDULE, now=_later(49))
    assert counts == {"sent": 2, "failed": 0}
    reminder = inbox.messages[-1]
    assert reminder["Subject"].startswith("Reminder")


def test_refused_smtp_is_recorded_and_retried(db: Database,
                                              smtp: tuple[SmtpSender, Inbox]) -> None:
    sender, inbox = smtp
    case_id = _case(db)
    with db.session() as s:
        notice_id = notices.create_notice(s, ANA, case_id, "https://h.example/x",
                                          "abuse@h.example").id
    refused = SmtpSender("127.0.0.1", _free_port(), "hotline@safeguard.example", timeout=2)
    with db.session() as s:
        assert notices.send_due(s, {"email": refused}, org_name="", reply_to="",
                                schedule=SCHEDULE)["failed"] == 1
    with db.session() as s:
        notice = s.get(Notice, notice_id)
        assert notice.status == "open" and notice.failed_sends == 1
        [attempt] = notices.attempts(s, notice_id)
        assert not attempt.ok and "SMTP" in attempt.detail
        # not due again before the back-off ends; then the working server gets it
        assert notices.send_due(s, {"email": sender}, org_name="", reply_to="",
                                schedule=SCHEDULE)["sent"] == 0
        assert notices.send_due(s, {"email": sender}, org_name="", reply_to="",
                                schedule=SCHEDULE, now=_later(0.2))["sent"] == 1
    assert len(inbox.messages) == 1


def test_webhook_notices_and_timeouts(db: Database) -> None:
    case_id = _case(db)
    received: list[dict[str, Any]] = []

    def hook(request: httpx.Request) -> httpx.Response:
        if "slow" in str(request.url):
            raise httpx.ReadTimeout("timed out", request=request)
        received.append(json.loads(request.content))
        return httpx.Response(202)

    sender = WebhookSender(httpx.Client(transport=httpx.MockTransport(hook)))
    with db.session() as s:
        notices.create_notice(s, ANA, case_id, "https://h.example/x",
                              "https://abuse.example/intake")
        notices.create_notice(s, ANA, case_id, "https://h.example/y",
                              "https://slow.example/intake")
        counts = notices.send_due(s, {"webhook": sender}, org_name="", reply_to="",
                                  schedule=SCHEDULE)
    assert counts == {"sent": 1, "failed": 1}
    assert received[0]["urls"] == ["https://h.example/x"]
    assert received[0]["type"] == "takedown_notice"


def test_bad_contacts_and_urls(db: Database) -> None:
    case_id = _case(db)
    with db.session() as s:
        with pytest.raises(InvalidInput, match="abuse contact"):
            notices.create_notice(s, ANA, case_id, "https://h.example/x", "nobody")
        with pytest.raises(InvalidInput):
            notices.create_notice(s, ANA, case_id, "ftp://h.example/x", "abuse@h.example")
        notice = notices.create_notice(s, ANA, case_id, "https://h.example/x", "abuse@h.example")
        notices.withdraw(s, ANA, notice.id)
        with pytest.raises(ConflictError):
            notices.withdraw(s, ANA, notice.id)


def test_http_api_and_cli_pass(app_client: Any, smtp: tuple[SmtpSender, Inbox],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import issue_token

    sender, inbox = smtp
    auth = {"Authorization": f"Bearer {issue_token(app_client, 'ana', ['triage'])}"}
    case = app_client.post("/v1/cases", headers=auth, json={"title": "t"}).json()
    r = app_client.post(f"/v1/cases/{case['id']}/notices", headers=auth,
                        json={"url": "https://host.example/a", "contact": "abuse@host.example"})
    assert r.status_code == 201 and r.json()["channel"] == "email"
    assert app_client.post(f"/v1/cases/{case['id']}/notices", headers=auth, json={
        "url": "https://host.example/a", "contact": "?"}).status_code == 422
    db = app_client.app.state.db
    counts = notices.run_once(db, {"email": sender}, HttpChecker(httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(200)))), org_name="X",
        reply_to="r@x.example", schedule=SCHEDULE)
    assert counts["sent"] == 1 and len(inbox.messages) == 1
    listed = app_client.get(f"/v1/cases/{case['id']}/notices", headers=auth).json()
    assert listed[0]["sent_count"] == 1 and listed[0]["next_check_at"]
    notice_id = listed[0]["id"]
    assert app_client.post(f"/v1/notices/{notice_id}/withdraw",
                           headers=auth).json()["status"] == "withdrawn"
