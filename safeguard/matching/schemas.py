"""Request and response bodies of the matching API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from safeguard.matching.service import Match, QueryResult


class HashIn(BaseModel):
    signal_type: str = Field(examples=["pdq"], max_length=32)
    value: str = Field(max_length=200_000)
    quality: int | None = Field(default=None, ge=0, le=100,
                                description="PDQ quality if known; below the floor is flagged")


class MatchHashesIn(BaseModel):
    hashes: list[HashIn] = Field(min_length=1, description="At most max_batch_hashes")


class SuppressionOut(BaseModel):
    bank_id: int
    bank_name: str
    entry_id: int
    distance: int
    reason: str


class MatchOut(BaseModel):
    bank_id: int
    bank_name: str
    bank_kind: str
    entry_id: int
    signal_type: str
    value: str
    distance: int
    entry_variant: str
    query_variant: str
    provenance: dict[str, Any]
    suppressed: bool
    suppressed_by: SuppressionOut | None

    @classmethod
    def of(cls, m: Match) -> MatchOut:
        suppression = (SuppressionOut(**vars(m.suppressed_by)) if m.suppressed_by else None)
        return cls(bank_id=m.bank_id, bank_name=m.bank_name, bank_kind=m.bank_kind,
                   entry_id=m.entry_id, signal_type=m.signal_type, value=m.value,
                   distance=m.distance, entry_variant=m.entry_variant,
                   query_variant=m.query_variant, provenance=m.provenance,
                   suppressed=m.suppressed, suppressed_by=suppression)


class QueryOut(BaseModel):
    signal_type: str
    value: str
    matched: bool = Field(description="An unsuppressed match in a positive bank")
    low_quality: bool
    matches: list[MatchOut]

    @classmethod
    def of(cls, r: QueryResult) -> QueryOut:
        q = r.queries[0]
        return cls(signal_type=q.signal_type, value=q.value, matched=r.matched,
                   low_quality=r.low_quality, matches=[MatchOut.of(m) for m in r.matches])


class FileHashOut(BaseModel):
    signal_type: str
    value: str
    quality: int | None
    variant: str


class FileMatchOut(BaseModel):
    label: str
    matched: bool
    low_quality: bool
    hashes: list[FileHashOut]
    matches: list[MatchOut]
    notes: list[str] = Field(default_factory=list,
                             description="What could not be hashed and why (e.g. no vPDQ)")

    @classmethod
    def of(cls, r: QueryResult) -> FileMatchOut:
        return cls(label=r.label, matched=r.matched, low_quality=r.low_quality,
                   hashes=[FileHashOut(signal_type=q.signal_type, value=q.value,
                                       quality=q.quality, variant=q.variant)
                           for q in r.queries],
                   matches=[MatchOut.of(m) for m in r.matches], notes=r.notes)


class MatchLogOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    actor: str
    source: str
    label: str
    query_signal_type: str
    query_value: str
    query_variant: str
    query_quality: int | None
    entry_id: int
    entry_variant: str
    bank_id: int
    bank_name: str
    bank_kind: str
    distance: int
    suppressed: bool
    suppressed_reason: str
    low_quality: bool


class MatchLogPageOut(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[MatchLogOut]


class WebhookIn(BaseModel):
    url: str = Field(max_length=2048, examples=["https://example.org/safeguard-hook"])
    secret: str | None = Field(default=None, min_length=16, max_length=128,
                               description="Omit to have one generated (shown once)")


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    bank_id: int
    url: str
    enabled: bool
    created_at: datetime
    created_by: str


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="Signs every delivery; shown only now")


class WebhookAttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    number: int
    at: datetime
    status_code: int | None
    error: str
    duration_ms: float


class WebhookDeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    subscription_id: int
    status: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None
    last_error: str
    attempt_log: list[WebhookAttemptOut] = []
