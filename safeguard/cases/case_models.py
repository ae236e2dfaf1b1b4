"""Tables of cases: a case groups items (URLs, hashes, text, accounts) with their assessments,
notes and a history of decisions that drives its status."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from safeguard.db.base import Base, UTCDateTime, utcnow


class CaseStatus(enum.StrEnum):
    RECEIVED = "received"
    IN_TRIAGE = "in_triage"
    ASSESSED = "assessed"
    REFERRED = "referred"
    MONITORING = "monitoring"
    CLOSED = "closed"


class Outcome(enum.StrEnum):
    REMOVED = "removed"
    UNAVAILABLE = "unavailable"
    MOVED = "moved"
    NOT_ILLEGAL = "not_illegal"
    DUPLICATE = "duplicate"
    WITHDRAWN = "withdrawn"


class ItemKind(enum.StrEnum):
    URL = "url"
    HASH = "hash"
    TEXT = "text"
    ACCOUNT = "account"  # a handle, email address or phone number


class AgeGroup(enum.StrEnum):
    """ICCAM age groups."""

    INFANT = "infant"  # 0-2
    PRE_PUBESCENT = "pre_pubescent"
    PUBESCENT = "pubescent"
    NOT_DETERMINED = "not_determined"


class IndustryClass(enum.StrEnum):
    """The industry classification used by NCMEC and platforms (A1 A2 B1 B2)."""

    A1 = "A1"  # prepubescent, sex act
    A2 = "A2"  # prepubescent, lascivious exhibition
    B1 = "B1"  # pubescent, sex act
    B2 = "B2"  # pubescent, lascivious exhibition


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)  # e.g. SG-2026-000042
    title: Mapped[str] = mapped_column(String(200))
    # CyberTipline incident type (safeguard.cases.vocabulary.INCIDENT_TYPES), for exports.
    incident_type: Mapped[str | None] = mapped_column(String(80), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.RECEIVED.value,
                                        index=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Under legal hold a case and everything in it are kept, whatever the retention rules say.
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseItem(Base):
    __tablename__ = "case_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(Text)  # as given (text items: encrypted)
    triage_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("triage_items.id", ondelete="SET NULL"), nullable=True)
    classification: Mapped[str | None] = mapped_column(String(16), nullable=True)
    age_group: Mapped[str | None] = mapped_column(String(16), nullable=True)
    industry_class: Mapped[str | None] = mapped_column(String(2), nullable=True)
    assessed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    assessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseLinkKey(Base):
    """Normalised values that link cases: "url:…", "domain:…", "pdq:…", "phone:+…",
    "email:…", "handle:…". Cases sharing a key are linked (one indexed join)."""

    __tablename__ = "case_link_keys"

    item_id: Mapped[int] = mapped_column(ForeignKey("case_items.id", ondelete="CASCADE"),
                                         primary_key=True)
    key: Mapped[str] = mapped_column(String(300), primary_key=True, index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)


class CaseNote(Base):
    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)  # encrypted with the field key
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseDecision(Base):
    """One status change. The last one can be undone for a short while by its author."""

    __tablename__ = "case_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    by: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
