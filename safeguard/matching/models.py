"""Tables of the matching domain: the match log and the webhook outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safeguard.db.base import Base, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")


class MatchLogEntry(Base):
    """One match (suppressed ones too). Bank name and entry id are copied, not linked, so the
    log still says what matched after an entry or bank is removed."""

    __tablename__ = "match_log"
    __table_args__ = (Index("ix_match_log_bank_at", "bank_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(16))  # api | file | cli | scan
    label: Mapped[str] = mapped_column(String(512), default="")  # file name, if any
    query_signal_type: Mapped[str] = mapped_column(String(16))
    query_value: Mapped[str] = mapped_column(Text)
    query_variant: Mapped[str] = mapped_column(String(32), default="")
    query_quality: Mapped[int | None] = mapped_column(Integer, nullable=True)
    entry_id: Mapped[int] = mapped_column(BigId, index=True)
    entry_variant: Mapped[str] = mapped_column(String(32), default="")
    bank_id: Mapped[int] = mapped_column(Integer)
    bank_name: Mapped[str] = mapped_column(String(128))
    bank_kind: Mapped[str] = mapped_column(String(16))
    distance: Mapped[int] = mapped_column(Integer)
    suppressed: Mapped[bool] = mapped_column(Boolean, default=False)
    suppressed_reason: Mapped[str] = mapped_column(Text, default="")
    low_quality: Mapped[bool] = mapped_column(Boolean, default=False)


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    # Needed in clear to sign; only admins and bank writers can read subscriptions.
    secret: Mapped[str] = mapped_column(String(128))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128), default="")


class WebhookDelivery(Base):
    """The persistent outbox: written in the transaction that logs the match, so a delivery is
    never lost to a restart; the worker leases rows with `locked_until`."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(32), default="match")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    duration_ms: Mapped[float] = mapped_column(Float)
