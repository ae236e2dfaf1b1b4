"""HTTP shapes of cases."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from safeguard.cases.case_models import AgeGroup, CaseStatus, IndustryClass, ItemKind, Outcome
from safeguard.cases.models import Classification


class ItemIn(BaseModel):
    kind: ItemKind
    value: str = Field(min_length=1, max_length=20_000,
                       description="URL; type:hash (pdq:…, md5:…, sha256:…); free text "
                       "(stored encrypted); or an account: phone, email or @handle")
    region: str | None = Field(default=None, min_length=2, max_length=2,
                               description="Country for phone numbers without +prefix")


INCIDENT_TYPE_DOC = "CyberTipline incident type, e.g. 'Online Enticement of Children for " \
    "Sexual Acts'"


class CaseIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    incident_type: str | None = Field(default=None, max_length=80,
                                      description=INCIDENT_TYPE_DOC)
    items: list[ItemIn] = Field(default_factory=list, max_length=500)
    triage_item_id: int | None = Field(default=None, ge=1, le=2_147_483_647)


class CaseUpdate(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    incident_type: str | None = Field(default=None, max_length=80,
                                      description=INCIDENT_TYPE_DOC)


class CaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    reference: str
    title: str
    incident_type: str | None
    status: str
    outcome: str | None
    created_at: datetime
    created_by: str
    updated_at: datetime


class ItemOut(BaseModel):
    id: int
    kind: str
    value: str
    classification: str | None
    age_group: str | None
    industry_class: str | None
    assessed_by: str | None
    assessed_at: datetime | None


class DecisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: str
    to_status: str
    outcome: str | None
    reason: str
    by: str
    at: datetime
    undone_at: datetime | None


class LinkOut(BaseModel):
    case: CaseOut
    shared: list[str] = Field(description="Keys both cases hold (url:, domain:, md5:, "
                              "phone:, email:, handle:)")


class CaseDetailOut(CaseOut):
    items: list[ItemOut]
    decisions: list[DecisionOut]
    links: list[LinkOut]


class AssessItemIn(BaseModel):
    classification: Classification
    age_group: AgeGroup | None = None
    industry_class: IndustryClass | None = None


class StatusIn(BaseModel):
    status: CaseStatus
    outcome: Outcome | None = None
    reason: str = Field(default="", max_length=500)


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)


class NoteOut(BaseModel):
    author: str
    at: datetime
    text: str
