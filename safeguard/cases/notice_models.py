"""Tables of referrals and takedown notices."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safeguard.db.base import Base, UTCDateTime, utcnow


class Referral(Base):
    """A case handed to a hotline or the police, with why that partner was chosen."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    partner_name: Mapped[str] = mapped_column(String(200))
    partner_kind: Mapped[str] = mapped_column(String(16))  # hotline | police
    contact: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(String(500))
    by: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NoticeStatus(enum.StrEnum):
    OPEN = "open"  # sent (or being sent) and the content is still up
    REMOVED = "removed"  # the re-check found it gone
    WITHDRAWN = "withdrawn"  # an analyst stopped it


class Notice(Base):
    """Notice-and-takedown for one URL to one abuse contact, re-sent until the URL is gone."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_due", "status", "next_send_at"),
                      Index("ix_notices_check", "status", "next_check_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    contact: Mapped[str] = mapped_column(String(300))  # abuse email or https webhook
    channel: Mapped[str] = mapped_column(String(8))  # email | webhook
    status: Mapped[str] = mapped_column(String(16), default=NoticeStatus.OPEN.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_sends: Mapped[int] = mapped_column(Integer, default=0)  # since the last success
    first_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    next_send_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    seconds_to_removal: Mapped[int | None] = mapped_column(Integer, nullable=True)


class NoticeAttempt(Base):
    """Every send and every re-check, successful or not: nothing is lost silently."""

    __tablename__ = "notice_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"),
                                           index=True)
    kind: Mapped[str] = mapped_column(String(8))  # send | check
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ok: Mapped[bool]
    detail: Mapped[str] = mapped_column(String(500), default="")
