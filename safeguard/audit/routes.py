from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from safeguard.audit import service
from safeguard.audit.service import Actor
from safeguard.web.deps import DbSession, require_scope

router = APIRouter(prefix="/v1/audit", tags=["audit"])
AuditReader = Annotated[Actor, Depends(require_scope("audit:read"))]


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    seq: int
    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class VerifyOut(BaseModel):
    ok: bool
    checked: int
    problems: list[str]


@router.get("", response_model=list[AuditEventOut], summary="Latest audit events, newest first")
def list_events(actor: AuditReader, session: DbSession,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                target_type: Annotated[str | None, Query(max_length=64)] = None,
                target_id: Annotated[str | None, Query(max_length=128)] = None) -> list[object]:
    events = service.recent(session, limit, target_type, target_id)
    service.record(session, actor, "audit.read", "audit", "", count=len(events))
    return list(events)


@router.get("/verify", response_model=VerifyOut, summary="Recompute the hash chain")
def verify(actor: AuditReader, session: DbSession) -> VerifyOut:
    result = service.verify_chain(session)
    service.record(session, actor, "audit.verify", "audit", "", ok=result.ok)
    return VerifyOut(ok=result.ok, checked=result.checked, problems=result.problems)
