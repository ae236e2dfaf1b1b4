"""Request and response bodies of the banks API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

TRIAGE_ON_MATCH = "A positive, unsuppressed match opens a triage item for an analyst"


class BankCreate(BaseModel):
    name: str = Field(min_length=1, max_length=128, examples=["known-material"])
    description: str = Field(default="", max_length=4000)
    kind: Literal["positive", "negative"] = "positive"
    pdq_threshold: int | None = Field(default=None, ge=0, le=31,
                                      description="PDQ distance threshold; default from settings")
    signal_types: list[str] | None = Field(default=None, max_length=8,
                                           examples=[["pdq", "md5", "sha256"]])
    enabled: bool = True
    triage_on_match: bool = Field(default=False, description=TRIAGE_ON_MATCH)


class BankUpdate(BaseModel):
    description: str | None = Field(default=None, max_length=4000)
    enabled: bool | None = None
    pdq_threshold: int | None = Field(default=None, ge=0, le=31)
    kind: Literal["positive", "negative"] | None = None
    signal_types: list[str] | None = Field(default=None, max_length=8)
    triage_on_match: bool | None = Field(default=None, description=TRIAGE_ON_MATCH)


class BankOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    description: str
    kind: str
    enabled: bool
    pdq_threshold: int
    signal_types: list[str]
    triage_on_match: bool
    created_at: datetime
    created_by: str
    entry_count: int | None = None


class EntryIn(BaseModel):
    signal_type: str = Field(examples=["pdq"], max_length=32)
    value: str = Field(max_length=200_000, description="64 hex for PDQ/SHA-256, 32 for MD5")
    tags: list[str] = Field(default_factory=list, max_length=32)
    source: str = Field(default="", max_length=128)
    source_id: str = Field(default="", max_length=256)
    quality: int | None = Field(default=None, ge=0, le=100)
    variant: str = Field(default="", max_length=32)
    original_id: int | None = Field(default=None, description="Links a bank-side variant")


class EntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    bank_id: int
    signal_type: str
    value: str
    quality: int | None
    variant: str
    original_id: int | None
    source: str
    source_id: str
    tags: list[str]
    also_from: list[dict[str, Any]]
    added_by: str
    added_at: datetime


class ImportOut(BaseModel):
    added: int
    merged: int
    rows: int


class ImportProblem(BaseModel):
    line: int
    problem: str


class ImportRejectedOut(BaseModel):
    detail: str
    problems: list[ImportProblem]
