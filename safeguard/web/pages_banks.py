"""Console pages: banks and their entries. Reads go through the banks service; the forms post
to the same service functions the API uses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from safeguard.audit.service import Actor
from safeguard.banks import service as banks
from safeguard.errors import SafeguardError
from safeguard.web.deps import DbSession, EntityId, console_user, template_context
from safeguard.web.templating import templates

router = APIRouter(prefix="/console/banks", include_in_schema=False)
Reader = Annotated[Actor, Depends(console_user("banks:read"))]
Writer = Annotated[Actor, Depends(console_user("banks:write"))]
PAGE = 50


@router.get("", response_class=HTMLResponse)
def bank_list(request: Request, actor: Reader, session: DbSession,
              error: str | None = None) -> Response:
    return templates.TemplateResponse(request, "console/banks.html", template_context(
        request, summaries=banks.list_banks(session), error=error))


@router.post("", response_class=HTMLResponse)
def bank_create(request: Request, actor: Writer, session: DbSession,
                name: Annotated[str, Form(min_length=1, max_length=128)],
                kind: Annotated[str, Form(max_length=16)] = "positive",
                pdq_threshold: Annotated[int, Form(ge=0, le=31)] = 31,
                description: Annotated[str, Form(max_length=2000)] = "") -> Response:
    try:
        bank = banks.create_bank(session, actor, name, description=description, kind=kind,
                                 pdq_threshold=pdq_threshold)
    except SafeguardError as exc:
        session.rollback()
        return templates.TemplateResponse(
            request, "console/banks.html",
            template_context(request, summaries=banks.list_banks(session), error=str(exc)),
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    return RedirectResponse(f"/console/banks/{bank.id}", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/{bank_id}", response_class=HTMLResponse)
def bank_detail(request: Request, bank_id: EntityId, actor: Reader, session: DbSession,
                page: Annotated[int, Query(ge=1, le=1_000_000)] = 1) -> Response:
    bank = banks.get_bank(session, bank_id)
    entries = banks.list_entries(session, bank.id, offset=(page - 1) * PAGE, limit=PAGE + 1)
    return templates.TemplateResponse(request, "console/bank.html", template_context(
        request, bank=bank, entries=entries[:PAGE], page=page, has_next=len(entries) > PAGE,
        entry_count=banks.count_entries(session, bank)))


@router.post("/{bank_id}/enabled", response_class=HTMLResponse)
def bank_toggle(bank_id: EntityId, actor: Writer, session: DbSession,
                enabled: Annotated[bool, Form()]) -> Response:
    banks.set_enabled(session, actor, bank_id, enabled)
    return RedirectResponse(f"/console/banks/{bank_id}", status_code=status.HTTP_303_SEE_OTHER)
