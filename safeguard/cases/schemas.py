"""HTTP shapes of triage."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from safeguard.cases.models import Classification, TriageItem
from safeguard.cases.triage import reasons_for


class TriageItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source: str = Field(description="child_report, platform_report, hash_match, "
                                    "grooming_alert or ad_lead")
    source_ref: str = Field(description="The item's id in its source domain")
    title: str
    summary: str
    urgent: bool
    severity: int = Field(ge=0, le=3)
    age_band: str
    known_content: bool
    content_keys: list[str]
    details: dict[str, Any]
    priority: int
    priority_reasons: list[str] = Field(default_factory=list,
                                        description="Why the item sits where it does")
    status: str
    received_at: datetime
    claimed_by: int | None
    lease_expires_at: datetime | None
    classification: str | None
    assessed_at: datetime | None
    assessed_by: str | None

    @classmethod
    def of(cls, item: TriageItem) -> TriageItemOut:
        out = cls.model_validate(item)
        out.priority_reasons = reasons_for(item)
        return out


class QueueOut(BaseModel):
    total: int = Field(description="Items waiting, counted up to 10,000")
    offset: int
    limit: int
    items: list[TriageItemOut]


class LeaseIn(BaseModel):
    lease_seconds: int = Field(default=900, ge=30, le=4 * 3600,
                               description="How long the claim holds before the item returns")


class AssessIn(BaseModel):
    classification: Classification
    note: str = Field(default="", max_length=4000)
