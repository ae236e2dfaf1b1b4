"""Console pages of the matching service: the match log (filtered, paged; reading it is audited
by matchlog.search, as for the API) and "check a hash" (pasted hashes, or one file hashed in
memory). Both call the same service functions as POST /v1/match, /v1/match/file and
GET /v1/matchlog."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from safeguard.audit.service import Actor
from safeguard.banks import service as banks
from safeguard.config import Settings
from safeguard.errors import SafeguardError
from safeguard.matching import matchlog, service
from safeguard.matching.routes import Index
from safeguard.matching.service import HashQuery, QueryResult
from safeguard.media.errors import MediaError
from safeguard.media.signals import HEX_LENGTHS, normalize_hash
from safeguard.web.deps import DbSession, console_user, get_settings, template_context
from safeguard.web.templating import templates

router = APIRouter(prefix="/console", include_in_schema=False)
LogReader = Annotated[Actor, Depends(console_user("matchlog:read"))]
Matcher = Annotated[Actor, Depends(console_user("match"))]
Settings_ = Annotated[Settings, Depends(get_settings)]
PAGE = 50
HASH_TYPES = (("auto", "Detect from the length (32 characters: MD5, 64: PDQ)"),
              ("pdq", "PDQ"), ("md5", "MD5"), ("sha256", "SHA-256"))
MAX_HASH_TEXT = 200_000


# --------------------------------------------------------------------------- match log

def _day(value: str, name: str, problems: list[str]) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        problems.append(f"{name}: {value!r} is not a date (use YYYY-MM-DD)")
        return None


@router.get("/matches", response_class=HTMLResponse)
def match_log(request: Request, actor: LogReader, session: DbSession,
              bank: Annotated[str, Query(max_length=128)] = "",
              suppressed: Annotated[str, Query(max_length=8)] = "",
              source: Annotated[str, Query(max_length=16)] = "",
              since: Annotated[str, Query(max_length=32)] = "",
              until: Annotated[str, Query(max_length=32)] = "",
              page: Annotated[int, Query(ge=1, le=1_000_000)] = 1) -> Response:
    problems: list[str] = []
    since_day, until_day = _day(since, "From", problems), _day(until, "Until", problems)
    if suppressed not in ("", "yes", "no"):
        problems.append("Suppressed: choose any, yes or no")
    if source and source not in matchlog.SOURCES:
        problems.append(f"Source: choose one of {', '.join(matchlog.SOURCES)}")
    if since_day and until_day and until_day < since_day:
        problems.append("Until is before From")
    filters = {"bank": bank, "suppressed": suppressed, "source": source, "since": since,
               "until": until}
    context: dict[str, Any] = {"filters": filters, "bank_names": _bank_names(session),
                               "sources": matchlog.SOURCES, "page": page, "items": [],
                               "total": 0, "has_next": False, "error": None}
    if not problems:
        try:
            found = matchlog.search(
                session, actor, bank=bank or None,
                since=datetime.combine(since_day, time(), UTC) if since_day else None,
                # "until" is a whole day, included.
                until=(datetime.combine(until_day + timedelta(days=1), time(), UTC)
                       if until_day else None),
                suppressed={"yes": True, "no": False}.get(suppressed),
                source=source or None, offset=(page - 1) * PAGE, limit=PAGE)
        except SafeguardError as exc:
            session.rollback()
            problems.append(str(exc))
        else:
            context.update(items=found.items, total=found.total,
                           has_next=found.offset + len(found.items) < found.total)
    if problems:
        context["error"] = "; ".join(problems)
    active = {k: v for k, v in filters.items() if v}
    context["page_url"] = lambda n: "?" + urlencode({**active, "page": n})
    return templates.TemplateResponse(
        request, "console/matches.html", template_context(request, **context),
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT if problems else status.HTTP_200_OK)


def _bank_names(session: Session) -> list[str]:
    return [s.bank.name for s in banks.list_banks(session)]


# --------------------------------------------------------------------------- check a hash

@dataclass(frozen=True)
class ParsedHashes:
    queries: list[HashQuery]
    problems: list[str]


def parse_hash_lines(text: str, hash_type: str) -> ParsedHashes:
    """One hash a line, blank lines skipped. A line may name its type first ("sha256 ab12..",
    "md5:ab12.."); otherwise `hash_type` applies, and "auto" reads 32 hex characters as MD5
    and 64 as PDQ. Every bad line is named by its number."""
    queries: list[HashQuery] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        stype = hash_type
        head, sep, rest = line.replace(":", " ", 1).partition(" ")
        if sep and head.lower() in HEX_LENGTHS:
            stype, line = head.lower(), rest.strip()
        if stype == "auto":
            stype = {32: "md5", 64: "pdq"}.get(len(line), "")
            if not stype:
                problems.append(f"line {number}: {len(line)} characters is not a hash length "
                                "(MD5 has 32 hex characters, PDQ and SHA-256 have 64)")
                continue
        try:
            queries.append(HashQuery(stype, normalize_hash(stype, line)))
        except ValueError as exc:
            problems.append(f"line {number}: {exc}")
    if not queries and not problems:
        problems.append("paste at least one hash")
    return ParsedHashes(queries, problems)


def _check_page(request: Request, settings: Settings, *, results: list[QueryResult] | None = None,
                hashes: str = "", hash_type: str = "auto", error: str | None = None,
                file_error: str | None = None, file_label: str = "",
                code: int = status.HTTP_200_OK) -> Response:
    return templates.TemplateResponse(request, "console/match.html", template_context(
        request, results=results, hashes=hashes, hash_type=hash_type, hash_types=HASH_TYPES,
        error=error, file_error=file_error, file_label=file_label,
        allow_file_upload=settings.allow_file_upload,
        max_upload_mb=settings.max_upload_bytes // (1024 * 1024)), status_code=code)


@router.get("/match", response_class=HTMLResponse)
def check_page(request: Request, actor: Matcher, settings: Settings_) -> Response:
    return _check_page(request, settings)


@router.post("/match", response_class=HTMLResponse)
def check_hashes(request: Request, actor: Matcher, session: DbSession, index: Index,
                 settings: Settings_,
                 hashes: Annotated[str, Form(max_length=MAX_HASH_TEXT)] = "",
                 hash_type: Annotated[str, Form(max_length=8)] = "auto") -> Response:
    if hash_type not in dict(HASH_TYPES):
        hash_type = "auto"
    parsed = parse_hash_lines(hashes, hash_type)
    error = "; ".join(parsed.problems) if parsed.problems else None
    results: list[QueryResult] | None = None
    if error is None:
        try:
            results = service.match_hashes(session, index, parsed.queries, actor, source="console",
                                           settings=settings)
        except SafeguardError as exc:
            session.rollback()
            error = str(exc)
    if error is not None:
        return _check_page(request, settings, hashes=hashes, hash_type=hash_type,
                           error=f"Nothing was checked: {error}.",
                           code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    _wake_webhooks(request)
    return _check_page(request, settings, results=results, hashes=hashes, hash_type=hash_type)


@router.post("/match/file", response_class=HTMLResponse)
async def check_file(request: Request, actor: Matcher, session: DbSession, index: Index,
                     settings: Settings_) -> Response:
    # The form was parsed (in memory: see web/app.py) by the CSRF dependency; read it back.
    if not settings.allow_file_upload:
        return _check_page(request, settings, file_error="File upload is switched off on this "
                           "instance; paste hashes instead.", code=status.HTTP_403_FORBIDDEN)
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _check_page(request, settings, file_error="Choose a file to check.",
                           code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    label = upload.filename[:256]
    data = await upload.read()
    try:
        result = await run_in_threadpool(service.match_file, session, index, data, actor,
                                         label=label, source="console", settings=settings)
    except (MediaError, SafeguardError) as exc:
        session.rollback()
        return _check_page(request, settings, file_label=label,
                           file_error=f"The file was not checked: {exc}",
                           code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    _wake_webhooks(request)
    return _check_page(request, settings, results=[result], file_label=label)


def _wake_webhooks(request: Request) -> None:
    worker = getattr(request.app.state, "webhook_worker", None)
    if worker is not None:
        worker.wake()
