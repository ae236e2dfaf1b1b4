"""Per-bank webhooks: a signed POST for each unsuppressed positive match.

Deliveries are rows in an outbox table written in the matching transaction; a worker thread
leases due rows, posts them, records every attempt, and retries with exponential back-off
until `webhook_max_attempts`. At-least-once: a receiver should de-duplicate on `delivery_id`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from safeguard.audit.service import Actor, record
from safeguard.banks.models import BankKind
from safeguard.banks.service import get_bank
from safeguard.config import Settings, get_settings
from safeguard.db.base import utcnow
from safeguard.db.engine import Database
from safeguard.errors import InvalidInput, NotFoundError
from safeguard.matching import signing
from safeguard.matching.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

if TYPE_CHECKING:
    from safeguard.matching.service import QueryResult

log = logging.getLogger(__name__)

USER_AGENT = "Safeguard-Webhooks/1"


# --------------------------------------------------------------------------- subscriptions

def _check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"webhook URL must be http(s)://host/..., got {url!r}")
    if parts.username or parts.password:
        raise InvalidInput("put credentials in the signing secret, not in the webhook URL")
    return url.strip()


def subscribe(session: Session, actor: Actor, bank_ref: str | int, url: str,
              secret: str | None = None) -> WebhookSubscription:
    """Returns the subscription; its `secret` (generated if not given) signs every delivery."""
    bank = get_bank(session, bank_ref)
    if secret is not None and len(secret) < 16:
        raise InvalidInput("a webhook secret must have at least 16 characters")
    sub = WebhookSubscription(bank_id=bank.id, url=_check_url(url),
                              secret=secret or signing.new_secret(), created_by=str(actor))
    session.add(sub)
    session.flush()
    record(session, actor, "webhook.subscribe", "bank", bank.id, subscription_id=sub.id,
           url=sub.url)
    return sub


def list_subscriptions(session: Session, bank_ref: str | int | None = None
                       ) -> list[WebhookSubscription]:
    query = select(WebhookSubscription).order_by(WebhookSubscription.id)
    if bank_ref is not None:
        query = query.where(WebhookSubscription.bank_id == get_bank(session, bank_ref).id)
    return list(session.scalars(query))


def unsubscribe(session: Session, actor: Actor, subscription_id: int) -> None:
    sub = session.get(WebhookSubscription, subscription_id)
    if sub is None:
        raise NotFoundError(f"no webhook subscription {subscription_id}")
    sub.enabled = False  # kept (disabled) so its delivery history stays readable
    record(session, actor, "webhook.unsubscribe", "bank", sub.bank_id,
           subscription_id=subscription_id)


def deliveries(session: Session, subscription_id: int | None = None,
               limit: int = 100) -> list[WebhookDelivery]:
    query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
    if subscription_id is not None:
        query = query.where(WebhookDelivery.subscription_id == subscription_id)
    return list(session.scalars(query))


def attempts(session: Session, delivery_id: int) -> list[WebhookAttempt]:
    return list(session.scalars(select(WebhookAttempt)
                                .where(WebhookAttempt.delivery_id == delivery_id)
                                .order_by(WebhookAttempt.number)))


# --------------------------------------------------------------------------- enqueue

def enqueue_matches(session: Session, results: Sequence[QueryResult], *, source: str,
                    actor: str, at: datetime) -> int:
    """Queue one delivery per (query or file, bank with subscriptions, subscription)."""
    by_bank: dict[int, list[tuple[QueryResult, list[Any]]]] = {}
    for result in results:
        grouped: dict[int, list[Any]] = {}
        for m in result.matches:
            if m.bank_kind == BankKind.POSITIVE and not m.suppressed:
                grouped.setdefault(m.bank_id, []).append(m)
        for bank_id, matches in grouped.items():
            by_bank.setdefault(bank_id, []).append((result, matches))
    if not by_bank:
        return 0
    subs = session.scalars(select(WebhookSubscription).where(
        WebhookSubscription.bank_id.in_(list(by_bank)), WebhookSubscription.enabled.is_(True)))
    rows = []
    for sub in subs:
        for result, matches in by_bank[sub.bank_id]:
            rows.append(WebhookDelivery(subscription_id=sub.id, event="match",
                                        payload=_payload(result, matches, source, actor, at),
                                        next_attempt_at=at, created_at=at))
    session.add_all(rows)
    return len(rows)


def _payload(result: QueryResult, matches: list[Any], source: str, actor: str,
             at: datetime) -> dict[str, Any]:
    bank = matches[0]
    return {
        "event": "match", "at": at.isoformat(), "source": source, "actor": actor,
        "label": result.label,
        "bank": {"id": bank.bank_id, "name": bank.bank_name},
        "matches": [{
            "entry_id": m.entry_id, "signal_type": m.signal_type, "value": m.value,
            "distance": m.distance, "entry_variant": m.entry_variant,
            "query": {"signal_type": m.query.signal_type, "value": m.query.value,
                      "variant": m.query.variant, "quality": m.query.quality},
            "provenance": m.provenance,
        } for m in matches],
    }


# --------------------------------------------------------------------------- delivery

class WebhookWorker:
    """Delivers due webhooks. `run_once()` for tests and cron; `start()` for a server."""

    def __init__(self, db: Database, settings: Settings | None = None, *,
                 backoff_base_seconds: float = 2.0, poll_seconds: float = 0.5,
                 batch: int = 20, client: httpx.Client | None = None) -> None:
        self.db = db
        self.settings = settings or get_settings()
        self.backoff_base = backoff_base_seconds
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.client = client or httpx.Client(timeout=self.settings.webhook_timeout_seconds,
                                             follow_redirects=False,
                                             headers={"User-Agent": USER_AGENT})
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def backoff(self, attempts_made: int) -> timedelta:
        return timedelta(seconds=self.backoff_base * 2 ** (attempts_made - 1))

    def start(self) -> Callable[[], None]:
        self._thread = threading.Thread(target=self._loop, name="webhook-worker", daemon=True)
        self._thread.start()
        return self.stop

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.settings.webhook_timeout_seconds + 5)
        self.client.close()

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.run_once()
            except Exception:  # the database may be restarting: try again next tick
                log.exception("webhook delivery round failed")
                worked = 0
            if not worked:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()

    def run_once(self) -> int:
        """Lease and attempt every due delivery (up to `batch`); returns how many."""
        leased = self._lease()
        for delivery_id, sub_url, secret, payload, number in leased:
            if self._stop.is_set():
                break
            self._attempt(delivery_id, sub_url, secret, payload, number)
        return len(leased)

    def _lease(self) -> list[tuple[int, str, str, dict[str, Any], int]]:
        now = utcnow()
        lease = now + timedelta(seconds=self.settings.webhook_timeout_seconds * 2 + 5)
        with self.db.session() as session:
            query = (select(WebhookDelivery, WebhookSubscription)
                     .join(WebhookSubscription,
                           WebhookSubscription.id == WebhookDelivery.subscription_id)
                     .where(WebhookDelivery.status == "pending",
                            WebhookDelivery.next_attempt_at <= now,
                            or_(WebhookDelivery.locked_until.is_(None),
                                WebhookDelivery.locked_until <= now))
                     .order_by(WebhookDelivery.next_attempt_at).limit(self.batch)
                     .with_for_update(skip_locked=True, of=WebhookDelivery))
            leased = []
            for delivery, sub in session.execute(query):
                delivery.locked_until = lease
                leased.append((delivery.id, sub.url, sub.secret, delivery.payload,
                               delivery.attempts + 1))
        return leased

    def _attempt(self, delivery_id: int, url: str, secret: str, payload: dict[str, Any],
                 number: int) -> None:
        body = json.dumps({**payload, "delivery_id": delivery_id}, separators=(",", ":"),
                          sort_keys=True).encode()
        headers = {"Content-Type": "application/json",
                   signing.SIGNATURE_HEADER: signing.sign(secret, body),
                   "X-Safeguard-Delivery": str(delivery_id), "X-Safeguard-Event": "match"}
        started = time.perf_counter()
        status_code: int | None = None
        error = ""
        try:
            response = self.client.post(url, content=body, headers=headers)
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:1000]
        duration_ms = (time.perf_counter() - started) * 1000
        self._record(delivery_id, number, status_code, error, duration_ms)

    def _record(self, delivery_id: int, number: int, status_code: int | None, error: str,
                duration_ms: float) -> None:
        now = utcnow()
        with self.db.session() as session:
            session.add(WebhookAttempt(delivery_id=delivery_id, number=number, at=now,
                                       status_code=status_code, error=error,
                                       duration_ms=round(duration_ms, 3)))
            values: dict[str, Any] = {"attempts": number, "locked_until": None,
                                      "last_error": error}
            if not error:
                values.update(status="delivered", delivered_at=now)
            elif number >= self.settings.webhook_max_attempts:
                values.update(status="failed")
            else:
                values.update(next_attempt_at=now + self.backoff(number))
            session.execute(update(WebhookDelivery).where(and_(
                WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending"))
                .values(**values))
