"""Console pages: banks and their entries. Reads go through the banks service; the forms post
to the same service functions the API uses."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote_plus

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from safeguard.audit.service import Actor
from safeguard.banks import service as banks
from safeguard.banks import transfer
from safeguard.banks.formats import FORMATS, ImportRejected
from safeguard.errors import InvalidInput, NotFoundError, SafeguardError
from safeguard.media.signals import SIGNAL_TYPES
from safeguard.web.deps import (
    DbSession,
    EntityId,
    EntityIdQuery,
    console_user,
    template_context,
)
from safeguard.web.templating import templates

router = APIRouter(prefix="/console/banks", include_in_schema=False)
Reader = Annotated[Actor, Depends(console_user("banks:read"))]
Writer = Annotated[Actor, Depends(console_user("banks:write"))]
PAGE = 50


def _see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=status.HTTP_303_SEE_OTHER)


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


def _detail(request: Request, session: Session, bank_id: int, *, page: int = 1,
            entry_id: int | None = None, add_error: str | None = None,
            import_error: str | None = None, import_problems: list[tuple[int, str]] | None = None,
            notice: str | None = None, form: dict[str, str] | None = None,
            code: int = status.HTTP_200_OK) -> Response:
    bank = banks.get_bank(session, bank_id)
    entries = banks.list_entries(session, bank.id, offset=(page - 1) * PAGE, limit=PAGE + 1)
    selected = None
    if entry_id is not None:
        selected = banks.get_entry(session, entry_id)
        if selected.bank_id != bank.id:
            raise NotFoundError(f"no entry {entry_id} in bank {bank.name!r}")
    return templates.TemplateResponse(request, "console/bank.html", template_context(
        request, bank=bank, entries=entries[:PAGE], page=page, has_next=len(entries) > PAGE,
        entry_count=banks.count_entries(session, bank), selected=selected, add_error=add_error,
        import_error=import_error, import_problems=import_problems or [], notice=notice,
        form=form or {}, signal_types=SIGNAL_TYPES, import_formats=FORMATS),
        status_code=code)


@router.get("/{bank_id}", response_class=HTMLResponse)
def bank_detail(request: Request, bank_id: EntityId, actor: Reader, session: DbSession,
                page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
                entry: EntityIdQuery | None = None,
                notice: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    return _detail(request, session, bank_id, page=page, entry_id=entry, notice=notice)


@router.post("/{bank_id}/entries", response_class=HTMLResponse)
def entry_add(request: Request, bank_id: EntityId, actor: Writer, session: DbSession,
              value: Annotated[str, Form(max_length=200_000)] = "",
              signal_type: Annotated[str, Form(max_length=32)] = "pdq",
              source: Annotated[str, Form(max_length=128)] = "",
              source_id: Annotated[str, Form(max_length=256)] = "",
              tags: Annotated[str, Form(max_length=2400)] = "") -> Response:
    form = {"value": value, "signal_type": signal_type, "source": source,
            "source_id": source_id, "tags": tags}
    try:
        if not value.strip():
            raise InvalidInput("enter a hash")
        entry = banks.add_hash(session, actor, bank_id, signal_type, value, tags=tags,
                               source=source, source_id=source_id)
    except SafeguardError as exc:
        session.rollback()
        return _detail(request, session, bank_id, add_error=f"The hash was not added: {exc}.",
                       form=form, code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    return _see_other(f"/console/banks/{bank_id}?entry={entry.id}&notice="
                      + quote_plus(f"Entry {entry.id} saved."))


@router.post("/{bank_id}/import", response_class=HTMLResponse)
async def entries_import(request: Request, bank_id: EntityId, actor: Writer,
                         session: DbSession) -> Response:
    # Multipart: the CSRF dependency already parsed the form (in memory, see web/app.py).
    form = await request.form()
    upload = form.get("file")
    fmt = str(form.get("format") or "auto")
    signal_type = str(form.get("signal_type") or "pdq")
    source = str(form.get("source") or "").strip()[:128]
    fields = {"format": fmt, "import_signal_type": signal_type, "import_source": source}
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await run_in_threadpool(
            _detail, request, session, bank_id, import_error="Choose a file to import.",
            form=fields, code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    data = await upload.read()
    filename = upload.filename[:256]
    try:
        result = await run_in_threadpool(
            transfer.import_file, session, actor, bank_id, data, fmt=fmt, filename=filename,
            default_signal_type=signal_type, source=source or None)
    except SafeguardError as exc:
        session.rollback()
        problems = exc.problems if isinstance(exc, ImportRejected) else []
        message = (f"{filename} was rejected and nothing was stored: {len(problems)} "
                   "problem(s), listed below." if problems else f"{filename} was not imported: "
                   f"{exc}")
        return await run_in_threadpool(
            _detail, request, session, bank_id, import_error=message, import_problems=problems,
            form=fields, code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    return _see_other(f"/console/banks/{bank_id}?notice=" + quote_plus(
        f"Imported {filename}: {result.added} added, {result.merged} merged into existing "
        "entries."))


@router.post("/{bank_id}/enabled", response_class=HTMLResponse)
def bank_toggle(bank_id: EntityId, actor: Writer, session: DbSession,
                enabled: Annotated[bool, Form()]) -> Response:
    banks.set_enabled(session, actor, bank_id, enabled)
    return RedirectResponse(f"/console/banks/{bank_id}", status_code=status.HTTP_303_SEE_OTHER)
