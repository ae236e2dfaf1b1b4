"""Console pages for triage: the queue with its reasons, claim next, and a held item with the
assessment form. Every action calls the same triage service functions as the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from safeguard.audit.service import Actor
from safeguard.cases import pseudonyms, triage
from safeguard.cases.exposure import exposure
from safeguard.cases.models import Classification
from safeguard.errors import SafeguardError
from safeguard.web.deps import DbSession, EntityId, console_user, template_context
from safeguard.web.templating import templates

router = APIRouter(prefix="/console/triage", include_in_schema=False)
Analyst = Annotated[Actor, Depends(console_user("triage"))]
PAGE = 50
CLASSIFICATIONS = [
    (Classification.BASELINE, "Baseline: illegal in every country"),
    (Classification.NATIONAL, "National: illegal under this country's law"),
    (Classification.DOUBTFUL, "Doubtful: needs a second opinion"),
    (Classification.NOT_ILLEGAL, "Not illegal"),
]


def _see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=status.HTTP_303_SEE_OTHER)


@router.get("", response_class=HTMLResponse)
def queue_page(request: Request, actor: Analyst, session: DbSession,
               page: Annotated[int, Query(ge=1, le=100_000)] = 1,
               notice: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    total, entries = triage.queue(session, offset=(page - 1) * PAGE, limit=PAGE)
    return templates.TemplateResponse(request, "console/triage.html", template_context(
        request, total=total, entries=entries, page=page, has_next=page * PAGE < total,
        mine=triage.held_by(session, actor), in_progress=triage.in_progress(session),
        counts=triage.counts(session), cap=triage.COUNT_CAP, notice=notice,
        exposure=exposure(session, actor)))


@router.post("/next")
def claim_next(actor: Analyst, session: DbSession) -> Response:
    item = triage.claim_next(session, actor)
    if item is None:
        return _see_other("/console/triage?notice=The+queue+is+empty.")
    return _see_other(f"/console/triage/{item.id}")


@router.get("/{item_id}", response_class=HTMLResponse)
def item_page(request: Request, item_id: EntityId, actor: Analyst, session: DbSession,
              error: str | None = None, status_code: int = status.HTTP_200_OK) -> Response:
    item = triage.get_item(session, item_id)
    return templates.TemplateResponse(request, "console/triage_item.html", template_context(
        request, item=item, reasons=triage.reasons_for(item), classifications=CLASSIFICATIONS,
        source=pseudonyms.source_label(item), details=pseudonyms.visible_details(item),
        held=item.status == "claimed" and item.claimed_by == actor.user_id, error=error),
        status_code=status_code)


@router.post("/{item_id}/claim")
def claim(request: Request, item_id: EntityId, actor: Analyst, session: DbSession) -> Response:
    try:
        triage.claim(session, actor, item_id)
    except SafeguardError as exc:
        session.rollback()
        return item_page(request, item_id, actor, session, error=str(exc),
                         status_code=status.HTTP_409_CONFLICT)
    return _see_other(f"/console/triage/{item_id}")


@router.post("/{item_id}/release")
def release(request: Request, item_id: EntityId, actor: Analyst,
            session: DbSession) -> Response:
    try:
        triage.release(session, actor, item_id)
    except SafeguardError as exc:
        session.rollback()
        return item_page(request, item_id, actor, session, error=str(exc),
                         status_code=status.HTTP_409_CONFLICT)
    return _see_other("/console/triage")


@router.post("/{item_id}/assess")
def assess(request: Request, item_id: EntityId, actor: Analyst, session: DbSession,
           classification: Annotated[str, Form(max_length=32)],
           note: Annotated[str, Form(max_length=4000)] = "") -> Response:
    try:
        triage.assess(session, actor, item_id, classification, note=note)
    except SafeguardError as exc:
        session.rollback()
        return item_page(request, item_id, actor, session, error=str(exc),
                         status_code=status.HTTP_409_CONFLICT)
    return _see_other("/console/triage?notice=Assessment+saved.")
