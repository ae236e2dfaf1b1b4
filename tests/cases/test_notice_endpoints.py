"""Takedown notices against real local endpoints that refuse, fail or hang: every failed
attempt is recorded with its reason, retried with back-off, and the notice is sent once the
endpoint recovers; nothing is lost."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from safeguard.cases import notices
from safeguard.cases.delivery import SmtpSender, WebhookSender
from safeguard.cases.notice_models import Notice, NoticeAttempt
from safeguard.db.base import utcnow
from safeguard.db.engine import Database
from tests.cases.test_notices import ANA, SCHEDULE, _case, _free_port


class Intake:
    """A partner's webhook: answers 503 until it is 'up'; /hang never answers until released."""

    def __init__(self) -> None:
        self.up = False
        self.received: list[dict[str, Any]] = []
        self.release = threading.Event()


@pytest.fixture
def intake() -> Iterator[tuple[str, Intake]]:
    state = Intake()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            if self.path == "/hang":
                state.release.wait(30)
                return
            if not state.up:
                self.send_response(503)
                self.end_headers()
                return
            state.received.append(json.loads(body))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()


def _attempts(s: Any, notice_id: int) -> list[NoticeAttempt]:
    return list(s.scalars(select(NoticeAttempt).where(NoticeAttempt.notice_id == notice_id)
                          .order_by(NoticeAttempt.id)))


def test_webhook_endpoint_that_refuses_or_hangs(db: Database,
                                                intake: tuple[str, Intake]) -> None:
    base, state = intake
    case_id = _case(db)
    closed = f"http://127.0.0.1:{_free_port()}/intake"  # nothing listens: connection refused
    with db.session() as s:
        refusing = notices.create_notice(s, ANA, case_id, "https://h.example/a",
                                         f"{base}/intake").id
        hanging = notices.create_notice(s, ANA, case_id, "https://h.example/b",
                                        f"{base}/hang").id
        nobody = notices.create_notice(s, ANA, case_id, "https://h.example/c", closed).id
    sender = WebhookSender(httpx.Client(timeout=0.5))
    now = utcnow()
    with db.session() as s:
        assert notices.send_due(s, {"webhook": sender}, org_name="", reply_to="",
                                schedule=SCHEDULE, now=now) == {"sent": 0, "failed": 3}
    with db.session() as s:
        details = {n: _attempts(s, n)[0].detail for n in (refusing, hanging, nobody)}
        assert "answered 503" in details[refusing]
        assert "timed out" in details[hanging].lower()
        assert "connect" in details[nobody].lower()
        for n in (refusing, hanging, nobody):
            notice = s.get(Notice, n)
            assert (notice.status, notice.failed_sends, notice.sent_count) == ("open", 1, 0)
            assert notice.next_send_at == now + SCHEDULE.retry_base
        # not due again before the back-off ends
        assert notices.send_due(s, {"webhook": sender}, org_name="", reply_to="",
                                schedule=SCHEDULE, now=now + timedelta(minutes=1)) == {
            "sent": 0, "failed": 0}
    # second failure doubles the wait
    later = now + SCHEDULE.retry_base
    with db.session() as s:
        notices.send_due(s, {"webhook": sender}, org_name="", reply_to="", schedule=SCHEDULE,
                         now=later)
        refused = s.get(Notice, refusing)
        assert refused.failed_sends == 2
        assert refused.next_send_at == later + 2 * SCHEDULE.retry_base
    # the partner comes back: the notice goes out once, and the record shows the history
    state.up = True
    with db.session() as s:
        counts = notices.send_due(s, {"webhook": sender}, org_name="", reply_to="",
                                  schedule=SCHEDULE, now=later + 2 * SCHEDULE.retry_base)
        assert counts["sent"] == 1
        assert [a.ok for a in _attempts(s, refusing)] == [False, False, True]
        assert s.get(Notice, refusing).sent_count == 1
    assert [r["urls"] for r in state.received] == [["https://h.example/a"]]


class RefusingInbox:
    def __init__(self) -> None:
        self.refuse = True
        self.delivered = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refuse:
            return "554 5.7.1 message refused"
        self.delivered += 1
        return "250 OK"


def test_smtp_that_refuses_then_recovers_and_one_that_never_answers(db: Database) -> None:
    inbox = RefusingInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    silent = socket.socket()  # accepts connections, never greets: the client times out
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    try:
        case_id = _case(db)
        with db.session() as s:
            notice_id = notices.create_notice(s, ANA, case_id, "https://h.example/x",
                                              "abuse@host.example").id
        sender = SmtpSender("127.0.0.1", controller.port, "hotline@safeguard.example",
                            timeout=2)
        mute = SmtpSender("127.0.0.1", silent.getsockname()[1], "hotline@safeguard.example",
                          timeout=0.5)
        now = utcnow()
        with db.session() as s:
            assert notices.send_due(s, {"email": mute}, org_name="", reply_to="",
                                    schedule=SCHEDULE, now=now)["failed"] == 1
        later = now + SCHEDULE.retry_base
        with db.session() as s:
            assert notices.send_due(s, {"email": sender}, org_name="", reply_to="",
                                    schedule=SCHEDULE, now=later)["failed"] == 1
        inbox.refuse = False
        with db.session() as s:
            assert notices.send_due(s, {"email": sender}, org_name="", reply_to="",
                                    schedule=SCHEDULE,
                                    now=later + 2 * SCHEDULE.retry_base)["sent"] == 1
            attempts = _attempts(s, notice_id)
        assert "timed out" in attempts[0].detail.lower()
        assert "554" in attempts[1].detail and "refused" in attempts[1].detail
        assert [a.ok for a in attempts] == [False, False, True] and inbox.delivered == 1
    finally:
        controller.stop()
        silent.close()
