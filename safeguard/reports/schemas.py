"""HTTP shapes of reports (the platform and partner API)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from safeguard.reports.inputs import (
    MAX_ACCOUNT,
    MAX_DETAILS,
    MAX_EXTERNAL_REF,
    MAX_HASHES,
    MAX_URL_LENGTH,
    MAX_URLS,
)


class HashBody(BaseModel):
    kind: Literal["pdq", "md5"]
    value: str = Field(min_length=1, max_length=64, description="64 hex characters for PDQ, "
                       "32 for MD5")
    quality: int | None = Field(default=None, ge=0, le=100, description="PDQ quality")


class ReportBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Literal["platform", "partner"] = "platform"
    incident_type: str | None = Field(default=None, max_length=80, description=(
        "CyberTipline incident type, e.g. 'Online Enticement of Children for Sexual Acts'"))
    urls: list[str] = Field(default_factory=list, max_length=MAX_URLS,
                            description=f"http(s) links, each up to {MAX_URL_LENGTH} characters")
    hashes: list[HashBody] = Field(default_factory=list, max_length=MAX_HASHES,
                                   description="Hashes only: this API never accepts media")
    reported_account: str = Field(default="", max_length=MAX_ACCOUNT,
                                  description="The account reported (stored encrypted)")
    urgent: bool = Field(default=False, description="A child is in danger now: escalates to "
                         "the top of triage")
    details: str = Field(default="", max_length=MAX_DETAILS,
                         description="Free text (stored encrypted)")
    age_band: Literal["under_13", "13_15", "16_17", "adult", "unknown"] = "unknown"
    external_ref: str | None = Field(default=None, max_length=MAX_EXTERNAL_REF, description=(
        "Your own id for the report; resending the same id returns the first report"))


class HashOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    value: str
    quality: int | None


class ReportOut(BaseModel):
    """A report without reporter text (listing never decrypts)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    ref: str
    source: str
    submitted_by: str
    external_ref: str | None
    incident_type: str | None
    what: list[str]
    urls: list[str]
    age_band: str
    in_danger: bool
    urgent: bool
    language: str
    triage_item_id: int | None
    received_at: datetime
    hashes: list[HashOut]


class AdditionOut(BaseModel):
    text: str
    urls: list[str]
    added_at: datetime


class ReportDetailOut(ReportOut):
    """A report with its reporter text decrypted (each read is audited)."""

    details: str
    reported_account: str
    contact: str
    additions: list[AdditionOut]
