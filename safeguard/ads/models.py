"""Tables of the ads domain: ads, their entities and assessments, and the networks linking them.

Ads are public postings, so their text is stored (a reviewer needs it to judge a lead); images
never are, only the hashes a source supplies. An ad is identified by (site, external id):
ingesting it again changes nothing. Networks are recomputed for the ads a batch touches and keep
a deterministic id (from their smallest member), so a network keeps its id while it grows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from safeguard.db.base import Base, UTCDateTime, utcnow


class AdRecord(Base):
    """One ingested ad. `network_id` is None while the ad links to nothing."""

    __tablename__ = "ads"
    __table_args__ = (UniqueConstraint("site", "external_id", name="uq_ads_site_external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(String(200))
    external_id: Mapped[str] = mapped_column(String(256))
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    title: Mapped[str] = mapped_column(String(1000), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    region: Mapped[str | None] = mapped_column(String(2), nullable=True)
    notes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # MinHash signature (uint32 little-endian); None when the ad has no words to compare.
    signature: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    boilerplate: Mapped[bool] = mapped_column(Boolean, default=False)
    network_id: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    @property
    def key(self) -> str:
        return f"{self.site}:{self.external_id}"


class AdEntity(Base):
    """An entity found in an ad, with its span in title + newline + text (see `Ad.full_text`)."""

    __tablename__ = "ad_entities"
    __table_args__ = (Index("ix_ad_entities_kind_value", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ad_id: Mapped[int] = mapped_column(ForeignKey("ads.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(300))
    raw: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(8))  # valid | possible
    span_start: Mapped[int | None] = mapped_column(Integer, nullable=True)
    span_end: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(String(32), default="text")
    obfuscated: Mapped[bool] = mapped_column(Boolean, default=False)
    detail: Mapped[str] = mapped_column(String(300), default="")
    links: Mapped[bool] = mapped_column(Boolean, default=False)  # may link ads (valid, kind)


class AdAssessment(Base):
    """Indicator score of one ad with every reason; a lead for review, never a finding."""

    __tablename__ = "ad_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ad_id: Mapped[int] = mapped_column(ForeignKey("ads.id", ondelete="CASCADE"), unique=True)
    score: Mapped[float] = mapped_column(Float, index=True)
    hits: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    rules_version: Mapped[int] = mapped_column(Integer)
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AdBand(Base):
    """One LSH band key of an ad's MinHash signature: ads sharing a band are text candidates."""

    __tablename__ = "ad_bands"

    band: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ad_id: Mapped[int] = mapped_column(ForeignKey("ads.id", ondelete="CASCADE"),
                                       primary_key=True, index=True)


class AdTextEdge(Base):
    """A confirmed near-duplicate pair (ad_a < ad_b) with its estimated Jaccard similarity."""

    __tablename__ = "ad_text_edges"

    ad_a: Mapped[int] = mapped_column(ForeignKey("ads.id", ondelete="CASCADE"), primary_key=True)
    ad_b: Mapped[int] = mapped_column(ForeignKey("ads.id", ondelete="CASCADE"), primary_key=True,
                                      index=True)
    similarity: Mapped[float] = mapped_column(Float)


class AdNetwork(Base):
    """A group of ads linked by shared identifiers or near-duplicate text."""

    __tablename__ = "ad_networks"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # "net-" + 12 hex
    size: Mapped[int] = mapped_column(Integer, index=True)
    max_score: Mapped[float] = mapped_column(Float, default=0.0)
    template: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AdEvidence(Base):
    """Why ads of a network were linked: a shared value (and the ads sharing it) or a text
    edge with its similarity."""

    __tablename__ = "ad_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[str] = mapped_column(ForeignKey("ad_networks.id", ondelete="CASCADE"),
                                            index=True)
    kind: Mapped[str] = mapped_column(String(16))  # phone | email | ... | text
    value: Mapped[str] = mapped_column(Text)
    ads: Mapped[list[str]] = mapped_column(JSON, default=list)  # ad keys "site:id"
    similarity: Mapped[float | None] = mapped_column(Float, nullable=True)
