"""Tables of the reports store: one for every source (the child portal, platforms, partner
organisations). No media, no IP address, no date of birth is ever stored; reporter-supplied
text (what happened, the reported account, contact details, added information) is encrypted
with the field keys (safeguard/db/encryption.py)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from safeguard.db.base import Base, UTCDateTime, utcnow


class ReportSource(enum.StrEnum):
    CHILD_PORTAL = "child_portal"  # anonymous, through the web portal
    PLATFORM = "platform"  # a platform's trust & safety team, with an API token
    PARTNER = "partner"  # a partner hotline or NGO, with an API token


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        # A platform resending the same report (a retry after a timeout) gets the first one.
        UniqueConstraint("submitted_by", "external_ref", name="uq_reports_submitted_by"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Opaque reference shared with triage and partners; it outlives the report in the tombstone
    # so partners can be told "withdraw everything under this reference".
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    source: Mapped[str] = mapped_column(String(16))
    submitted_by: Mapped[str] = mapped_column(String(128))  # "anonymous" for the portal
    external_ref: Mapped[str | None] = mapped_column(String(128), nullable=True)
    incident_type: Mapped[str | None] = mapped_column(String(80), nullable=True)
    what: Mapped[list[str]] = mapped_column(JSON, default=list)  # choice keys, plain words
    details: Mapped[str | None] = mapped_column(Text, nullable=True)  # encrypted
    urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    age_band: Mapped[str] = mapped_column(String(16), default="unknown")
    in_danger: Mapped[bool] = mapped_column(Boolean, default=False)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    reported_account: Mapped[str | None] = mapped_column(Text, nullable=True)  # encrypted
    contact: Mapped[str | None] = mapped_column(Text, nullable=True)  # encrypted
    language: Mapped[str] = mapped_column(String(8), default="en")
    # Case code: SHA-256 of the code (the code has ~100 bits of entropy, so a plain digest is
    # enough to look it up and a database leak does not reveal it). PIN: Argon2.
    code_digest: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    pin_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    failed_pins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Partners the hashes were sent to (filled by the exchange domain); told on withdrawal.
    shared_with: Mapped[list[str]] = mapped_column(JSON, default=list)
    triage_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("triage_items.id", ondelete="SET NULL"), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    hashes: Mapped[list[ReportHash]] = relationship(
        back_populates="report", cascade="all, delete-orphan", passive_deletes=True,
        order_by="ReportHash.id")
    additions: Mapped[list[ReportAddition]] = relationship(
        back_populates="report", cascade="all, delete-orphan", passive_deletes=True,
        order_by="ReportAddition.id")


class ReportHash(Base):
    """A hash computed on the reporter's device (or by the platform): never the media."""

    __tablename__ = "report_hashes"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"),
                                           index=True)
    kind: Mapped[str] = mapped_column(String(8))  # pdq | md5
    value: Mapped[str] = mapped_column(String(64))
    quality: Mapped[int | None] = mapped_column(Integer, nullable=True)  # PDQ only

    report: Mapped[Report] = relationship(back_populates="hashes")


class ReportAddition(Base):
    """Information the reporter added later with the case code and PIN."""

    __tablename__ = "report_additions"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"),
                                           index=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)  # encrypted
    urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    report: Mapped[Report] = relationship(back_populates="additions")


class ReportTombstone(Base):
    """What is left of a withdrawn report: no personal data, no hashes; the reference and the
    partners who received hashes, so they can be told to delete them."""

    __tablename__ = "report_tombstones"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    source: Mapped[str] = mapped_column(String(16))
    hash_count: Mapped[int] = mapped_column(Integer, default=0)
    partners_to_tell: Mapped[list[str]] = mapped_column(JSON, default=list)
    partners_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    withdrawn_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
