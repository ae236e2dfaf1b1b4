"""Console page of the audit log: recent events (paged back by sequence number) and a button
that recomputes the hash chain. Reading and verifying are themselves audited, as in the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from safeguard.audit import service as audit
from safeguard.audit.service import Actor, VerifyResult
from safeguard.web.deps import DbSession, EntityIdQuery, console_user, template_context
from safeguard.web.templating import templates

router = APIRouter(prefix="/console/audit", include_in_schema=False)
AuditReader = Annotated[Actor, Depends(console_user("audit:read"))]
PAGE = 50


def _page(request: Request, session: Session, actor: Actor, before: int | None,
          verify: VerifyResult | None = None) -> Response:
    events = audit.recent(session, PAGE + 1, before_seq=before)
    shown = events[:PAGE]
    audit.record(session, actor, "audit.read", "audit", "", count=len(shown), via="console")
    return templates.TemplateResponse(request, "console/audit.html", template_context(
        request, events=shown, before=before, verify=verify,
        older=shown[-1].seq if len(events) > PAGE else None))


@router.get("", response_class=HTMLResponse)
def audit_page(request: Request, actor: AuditReader, session: DbSession,
               before: EntityIdQuery | None = None) -> Response:
    return _page(request, session, actor, before)


@router.post("/verify", response_class=HTMLResponse)
def verify(request: Request, actor: AuditReader, session: DbSession) -> Response:
    result = audit.verify_chain(session)
    audit.record(session, actor, "audit.verify", "audit", "", ok=result.ok)
    return _page(request, session, actor, None, verify=result)
