"""Tables of the banks domain.

Entry ids are the keys of the in-memory PDQ index, so they are never reused: they come from
`BankFeedHead.last_entry_id`, not from the database's auto-increment.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from safeguard.db.base import Base, UTCDateTime, utcnow

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL needs BIGINT for big banks.
BigId = BigInteger().with_variant(Integer, "sqlite")


class BankKind(enum.StrEnum):
    POSITIVE = "positive"  # known material: a match is a lead
    NEGATIVE = "negative"  # known false positives: a match suppresses positive matches


class ChangeOp(enum.StrEnum):
    ADD = "add"
    REMOVE = "remove"


class Bank(Base):
    __tablename__ = "banks"
    __table_args__ = (
        CheckConstraint("pdq_threshold >= 0 AND pdq_threshold <= 31", name="pdq_threshold"),
        CheckConstraint("kind IN ('positive', 'negative')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16), default=BankKind.POSITIVE.value)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    pdq_threshold: Mapped[int] = mapped_column(Integer, default=31)
    # A positive, unsuppressed match opens a triage item for an analyst.
    triage_on_match: Mapped[bool] = mapped_column(Boolean, default=False,
                                                  server_default=false())
    signal_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class BankEntry(Base):
    """One hash in one bank. A hash seen again in the same bank merges into this row."""

    __tablename__ = "bank_entries"
    __table_args__ = (
        # Also the index of exact (md5/sha256) lookups, which name the banks they search:
        # one index keeps 100k-row imports fast.
        UniqueConstraint("bank_id", "signal_type", "value", name="uq_bank_entries_hash"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id", ondelete="CASCADE"))
    signal_type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(Text)
    quality: Mapped[int | None] = mapped_column(Integer, nullable=True)
    variant: Mapped[str] = mapped_column(String(32), default="")
    original_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("bank_entries.id", ondelete="SET NULL"), nullable=True)
    source: Mapped[str] = mapped_column(String(128), default="")
    source_id: Mapped[str] = mapped_column(String(256), default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Further (source, source_id, added_by, added_at) records merged into this entry.
    also_from: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    added_by: Mapped[str] = mapped_column(String(128), default="")
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    bank: Mapped[Bank] = relationship(lazy="joined", innerjoin=True)


class BankChange(Base):
    """The change feed. `seq` is assigned under the feed-head lock, so it grows in commit order
    and a reader that has applied everything up to N never misses a later commit."""

    __tablename__ = "bank_changes"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    op: Mapped[str] = mapped_column(String(8))
    entry_id: Mapped[int] = mapped_column(BigId)
    bank_id: Mapped[int] = mapped_column(Integer)
    signal_type: Mapped[str] = mapped_column(String(16))
    # The hash itself for additions, so a server can apply the delta without a join.
    value: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BankFeedHead(Base):
    """One row: the last change sequence and entry id handed out. Locking it orders writers,
    and handing out entry ids here lets an import insert 100k rows in one executemany (SQLite
    cannot return generated ids of a multi-row insert in order) without ever reusing an id."""

    __tablename__ = "bank_feed_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigId, default=0)
    last_entry_id: Mapped[int] = mapped_column(BigId, default=0)
