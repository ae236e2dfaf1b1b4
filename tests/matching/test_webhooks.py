"""Webhooks: signatures, delivery to a real local HTTP server, retries, every attempt kept."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from safeguard.banks import service as banks
from safeguard.config import Settings
from safeguard.db.engine import Database
from safeguard.errors import InvalidInput
from safeguard.matching import service as matching
from safeguard.matching import signing, webhooks
from safeguard.matching.index_manager import IndexManager
from safeguard.matching.models import WebhookDelivery
from tests.banks.support import ACTOR, db  # noqa: F401

PDQ = "ab" * 32
SECRET = "test-secret-0123456789"


class Receiver:
    """A loopback HTTP server that answers the scripted status codes in turn."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                code = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver([500, 503])
    yield r
    r.close()


@pytest.fixture
def mgr(db: Database, tmp_path: Path) -> Iterator[IndexManager]:  # noqa: F811
    manager = IndexManager(db).start()
    yield manager
    manager.stop()


def _settings(attempts: int = 6) -> Settings:
    return Settings(webhook_max_attempts=attempts, webhook_timeout_seconds=2,
                    _env_file=None)  # type: ignore[call-arg]


def _match_once(db: Database, mgr: IndexManager, url: str) -> None:  # noqa: F811
    with db.session() as s:
        banks.create_bank(s, ACTOR, "known")
        banks.add_hash(s, ACTOR, "known", "pdq", PDQ, source="hotline", source_id="r1")
        webhooks.subscribe(s, ACTOR, "known", url, secret=SECRET)
    with db.session() as s:
        matching.match_hashes(s, mgr, [("pdq", PDQ)], ACTOR)


def test_signature_round_trip_and_tampering() -> None:
    body = b'{"a":1}'
    header = signing.sign(SECRET, body, timestamp=1_700_000_000)
    assert signing.verify(SECRET, header, body, now=1_700_000_010)
    assert not signing.verify(SECRET, header, body + b" ", now=1_700_000_010)
    assert not signing.verify("other-secret-0123456", header, body, now=1_700_000_010)
    assert not signing.verify(SECRET, header, body, now=1_700_001_000)  # too old: replay
    assert not signing.verify(SECRET, "garbage", body)


def test_failure_then_success_every_attempt_recorded(db: Database, mgr: IndexManager,  # noqa: F811
                                                    receiver: Receiver) -> None:
    _match_once(db, mgr, receiver.url)
    worker = webhooks.WebhookWorker(db, _settings(), backoff_base_seconds=0.0)
    try:
        assert worker.run_once() == 1  # 500
        assert worker.run_once() == 1  # 503
        assert worker.run_once() == 1  # 200
        assert worker.run_once() == 0
    finally:
        worker.stop()
    with db.session() as s:
        [delivery] = webhooks.deliveries(s)
        tries = webhooks.attempts(s, delivery.id)
        assert delivery.status == "delivered" and delivery.attempts == 3
        assert [a.status_code for a in tries] == [500, 503, 200]
        assert [a.error for a in tries] == ["HTTP 500", "HTTP 503", ""]
        assert all(a.duration_ms >= 0 for a in tries)
    headers, body = receiver.requests[-1]
    assert signing.verify(SECRET, headers["X-Safeguard-Signature"], body)
    payload = json.loads(body)
    assert payload["bank"]["name"] == "known"
    assert payload["matches"][0]["provenance"]["source_id"] == "r1"
    assert payload["delivery_id"] == delivery.id


def test_backoff_is_exponential() -> None:
    worker = webhooks.WebhookWorker.__new__(webhooks.WebhookWorker)
    worker.backoff_base = 2.0
    assert [worker.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [2, 4, 8, 16]


def test_gives_up_after_max_attempts(db: Database, mgr: IndexManager) -> None:  # noqa: F811
    receiver = Receiver([500] * 10)
    try:
        _match_once(db, mgr, receiver.url)
        worker = webhooks.WebhookWorker(db, _settings(attempts=3), backoff_base_seconds=0.0)
        try:
            while worker.run_once():
                pass
        finally:
            worker.stop()
    finally:
        receiver.close()
    with db.session() as s:
        [delivery] = webhooks.deliveries(s)
        assert (delivery.status, delivery.attempts) == ("failed", 3)
        assert len(webhooks.attempts(s, delivery.id)) == 3


def test_unreachable_endpoint_is_recorded_and_retried_later(db: Database,  # noqa: F811
                                                            mgr: IndexManager) -> None:
    receiver = Receiver([])
    url = receiver.url
    receiver.close()  # nothing listens there now
    _match_once(db, mgr, url)
    worker = webhooks.WebhookWorker(db, _settings(), backoff_base_seconds=60)
    try:
        assert worker.run_once() == 1
        assert worker.run_once() == 0  # backing off
    finally:
        worker.stop()
    with db.session() as s:
        [delivery] = webhooks.deliveries(s)
        [attempt] = webhooks.attempts(s, delivery.id)
        assert delivery.status == "pending" and attempt.status_code is None
        assert "Connect" in attempt.error


def test_queue_survives_a_restart(db: Database, mgr: IndexManager,  # noqa: F811
                                  receiver: Receiver) -> None:
    receiver.statuses.clear()
    _match_once(db, mgr, receiver.url)  # queued, no worker running (a "crash")
    worker = webhooks.WebhookWorker(db, _settings(), poll_seconds=0.05)
    stop = worker.start()
    try:
        import time

        deadline = time.monotonic() + 5
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop()
    assert len(receiver.requests) == 1
    with db.session() as s:
        assert s.scalars(select(WebhookDelivery.status)).one() == "delivered"


def test_suppressed_matches_send_nothing(db: Database, mgr: IndexManager,  # noqa: F811
                                         receiver: Receiver) -> None:
    with db.session() as s:
        banks.create_bank(s, ACTOR, "known")
        banks.create_bank(s, ACTOR, "fp", kind="negative")
        banks.add_hash(s, ACTOR, "known", "pdq", PDQ)
        banks.add_hash(s, ACTOR, "fp", "pdq", PDQ)
        webhooks.subscribe(s, ACTOR, "known", receiver.url, secret=SECRET)
    with db.session() as s:
        matching.match_hashes(s, mgr, [("pdq", PDQ)], ACTOR)
        assert webhooks.deliveries(s) == []


@pytest.mark.parametrize("url", ["ftp://x/y", "not a url", "http://user:pw@127.0.0.1/"])
def test_subscription_url_is_validated(db: Database, url: str) -> None:  # noqa: F811
    with db.session() as s:
        banks.create_bank(s, ACTOR, "b")
    with db.session() as s, pytest.raises(InvalidInput):
        webhooks.subscribe(s, ACTOR, "b", url)
