"""HTTP API of the banks domain (thin: every route calls banks.service / banks.transfer)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Path, Query, Request, Response, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from safeguard.audit.service import Actor
from safeguard.banks import service, transfer
from safeguard.banks.formats import FORMATS, ImportRejected
from safeguard.banks.schemas import (
    BankCreate,
    BankOut,
    BankUpdate,
    EntryIn,
    EntryOut,
    ImportOut,
    ImportRejectedOut,
)
from safeguard.config import Settings
from safeguard.errors import FeatureDisabled
from safeguard.web.deps import DbSession, EntityId, Offset, require_scope

router = APIRouter(prefix="/v1/banks", tags=["banks"])
Reader = Annotated[Actor, Depends(require_scope("banks:read"))]
Writer = Annotated[Actor, Depends(require_scope("banks:write"))]
BankRef = Annotated[str, Path(min_length=1, max_length=128, description="bank id or name")]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _out(session: Session, bank: object) -> BankOut:
    out = BankOut.model_validate(bank)
    out.entry_count = service.count_entries(session, bank)  # type: ignore[arg-type]
    return out


@router.get("", response_model=list[BankOut], summary="All banks with entry counts")
def list_banks(actor: Reader, session: DbSession) -> list[BankOut]:
    return [BankOut.model_validate(s.bank).model_copy(update={"entry_count": s.entry_count})
            for s in service.list_banks(session)]


@router.post("", response_model=BankOut, status_code=status.HTTP_201_CREATED,
             summary="Create a bank")
def create_bank(body: BankCreate, actor: Writer, session: DbSession,
                request: Request) -> BankOut:
    bank = service.create_bank(session, actor, body.name, description=body.description,
                               kind=body.kind, pdq_threshold=body.pdq_threshold,
                               signal_types=body.signal_types, enabled=body.enabled,
                               triage_on_match=body.triage_on_match,
                               settings=_settings(request))
    return _out(session, bank)


@router.get("/{bank}", response_model=BankOut, summary="One bank, by id or name")
def get_bank(bank: BankRef, actor: Reader, session: DbSession) -> BankOut:
    return _out(session, service.get_bank(session, bank))


@router.patch("/{bank}", response_model=BankOut,
              summary="Change description, enabled, threshold, kind, signal types or "
                      "whether matches open triage items")
def update_bank(bank: BankRef, body: BankUpdate, actor: Writer, session: DbSession) -> BankOut:
    updated = service.update_bank(session, actor, bank, description=body.description,
                                  enabled=body.enabled, pdq_threshold=body.pdq_threshold,
                                  kind=body.kind, signal_types=body.signal_types,
                                  triage_on_match=body.triage_on_match)
    return _out(session, updated)


@router.get("/{bank}/entries", response_model=list[EntryOut], summary="Entries, by id")
def list_entries(bank: BankRef, actor: Reader, session: DbSession,
                 offset: Offset = 0,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                 signal_type: Annotated[str | None, Query(max_length=32)] = None
                 ) -> list[object]:
    return list(service.list_entries(session, bank, offset=offset, limit=limit,
                                     signal_type=signal_type))


@router.post("/{bank}/entries", response_model=EntryOut, status_code=status.HTTP_201_CREATED,
             summary="Add one hash (a duplicate merges tags and provenance)")
def add_entry(bank: BankRef, body: EntryIn, actor: Writer, session: DbSession) -> object:
    return service.add_hash(session, actor, bank, body.signal_type, body.value, tags=body.tags,
                            source=body.source, source_id=body.source_id,
                            quality=body.quality, variant=body.variant,
                            original_id=body.original_id)


@router.delete("/{bank}/entries/{entry_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Remove an entry")
def remove_entry(bank: BankRef, entry_id: EntityId, actor: Writer, session: DbSession) -> Response:
    service.remove_entry(session, actor, entry_id, bank)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{bank}/import", response_model=ImportOut,
             responses={422: {"model": ImportRejectedOut}},
             summary="Import a hash-list file (all or nothing; every bad line is listed)")
async def import_file(bank: BankRef, actor: Writer, session: DbSession,
                      file: Annotated[UploadFile, File(description="CSV, JSON lines, "
                                                       "one hash a line or threatexchange")],
                      format: Annotated[str, Query(
                          description=f"One of {', '.join(FORMATS)}")] = "auto",
                      signal_type: Annotated[str, Query(max_length=32)] = "pdq",
                      source: Annotated[str | None, Query(max_length=128)] = None
                      ) -> object:
    data = await file.read()
    try:
        result = await run_in_threadpool(
            transfer.import_file, session, actor, bank, data, fmt=format,
            filename=file.filename, default_signal_type=signal_type, source=source)
    except ImportRejected as exc:
        return JSONResponse(status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content={
            "detail": str(exc),
            "problems": [{"line": line, "problem": why} for line, why in exc.problems]})
    return ImportOut(added=result.added, merged=result.merged,
                     rows=result.added + result.merged)


@router.get("/{bank}/export", summary="Export a bank (audited)",
            response_class=Response,
            responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {},
                                         "text/plain": {}}}})
def export_bank(bank: BankRef, actor: Reader, session: DbSession,
                format: Literal["csv", "jsonl", "te-file", "lines"] = "csv",
                signal_type: Annotated[str | None, Query(max_length=32)] = None) -> Response:
    # Built in memory: the request's session closes before a streamed body would be read.
    body = "".join(transfer.iter_export(session, actor, bank, format, signal_type))
    media = {"csv": "text/csv", "jsonl": "application/x-ndjson"}.get(format, "text/plain")
    name = f"bank-{bank}.{ {'csv': 'csv', 'jsonl': 'jsonl'}.get(format, 'txt') }"
    return Response(body, media_type=f"{media}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/{bank}/files", response_model=list[EntryOut],
             status_code=status.HTTP_201_CREATED,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/octet-stream": {"schema": {"type": "string",
                                                         "format": "binary"}}}}},
             summary="Bank a file you hold: the raw body is hashed in memory, never stored")
async def add_file(bank: BankRef, actor: Writer, session: DbSession, request: Request,
                   label: Annotated[str, Query(max_length=256)] = "upload",
                   tags: Annotated[list[str] | None, Query(max_length=32)] = None,
                   source: Annotated[str, Query(max_length=128)] = "",
                   source_id: Annotated[str, Query(max_length=256)] = "",
                   variants: bool = True) -> object:
    # The raw body, not multipart: multipart uploads over 1 MB are spooled to a temporary
    # file on disk, and media must never touch the disk.
    settings = _settings(request)
    if not settings.allow_file_upload:
        raise FeatureDisabled("file upload is switched off on this instance; send hashes")
    data = await request.body()
    return await run_in_threadpool(service.add_file, session, actor, bank, data, label=label,
                                   tags=tags or [], source=source, source_id=source_id,
                                   variants=variants, settings=settings)
