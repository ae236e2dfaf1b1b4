"""Tables of triage: every lead, whatever its source, becomes one `TriageItem`."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from safeguard.db.base import Base, UTCDateTime, utcnow


class Source(enum.StrEnum):
    CHILD_REPORT = "child_report"
    PLATFORM_REPORT = "platform_report"
    HASH_MATCH = "hash_match"
    GROOMING_ALERT = "grooming_alert"
    AD_LEAD = "ad_lead"


class ItemStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for an analyst (also when a lease ran out)
    CLAIMED = "claimed"  # held by one analyst until lease_expires_at
    ASSESSED = "assessed"  # an analyst decided
    AUTO_CLASSIFIED = "auto_classified"  # same content was assessed before: never shown again


class Classification(enum.StrEnum):
    """INHOPE / ICCAM assessment vocabulary."""

    BASELINE = "baseline"  # illegal everywhere (INTERPOL baseline)
    NATIONAL = "national"  # illegal under the assessing country's law
    DOUBTFUL = "doubtful"  # needs a second opinion
    NOT_ILLEGAL = "not_illegal"


class TriageItem(Base):
    __tablename__ = "triage_items"
    __table_args__ = (
        UniqueConstraint("source", "source_ref", name="uq_triage_items_source_ref"),
        CheckConstraint("severity >= 0 AND severity <= 3", name="severity"),
        # The queue query: open items by priority, then longest waiting first.
        Index("ix_triage_items_queue", "status", text("priority DESC"), "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    source_ref: Mapped[str] = mapped_column(String(128))  # the id in the source domain
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    severity: Mapped[int] = mapped_column(Integer, default=1)
    age_band: Mapped[str] = mapped_column(String(16), default="unknown")
    known_content: Mapped[bool] = mapped_column(Boolean, default=False)
    # Normalised hash or URL: what makes two items "the same content" for auto-classification.
    content_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    priority: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=ItemStatus.QUEUED.value)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    classification: Mapped[str | None] = mapped_column(String(16), nullable=True)
    assessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    assessed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    assessment_note: Mapped[str] = mapped_column(Text, default="")


class ContentVerdict(Base):
    """The last assessment of a piece of content (a hash or a URL), so it is not shown to an
    analyst again."""

    __tablename__ = "content_verdicts"

    content_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    classification: Mapped[str] = mapped_column(String(16))
    # The item it came from; emptied when retention purges that item (the verdict stays).
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("triage_items.id", ondelete="SET NULL"), nullable=True)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
