"""Map domain errors to HTTP answers that name the problem."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from safeguard.auth.service import AccountLocked, AuthError
from safeguard.db.engine import DatabaseUnavailable
from safeguard.errors import (
    ConflictError,
    FeatureDisabled,
    InvalidInput,
    NotFoundError,
    SafeguardError,
)
from safeguard.web.deps import TWO_STEP_PAGE, EnrolmentRequired, LoginRequired, template_context
from safeguard.web.templating import templates

CONSOLE_TITLES = {
    status.HTTP_403_FORBIDDEN: "Not allowed",
    status.HTTP_404_NOT_FOUND: "Not found",
    status.HTTP_409_CONFLICT: "Conflict",
    status.HTTP_503_SERVICE_UNAVAILABLE: "Try again shortly",
}


def _is_console(request: Request) -> bool:
    return request.url.path == "/console" or request.url.path.startswith("/console/")


def console_error(request: Request, code: int, detail: str,
                  headers: dict[str, str] | None = None) -> Response:
    """Console pages answer errors with a page (status kept), the API with JSON."""
    title = CONSOLE_TITLES.get(code, "Something went wrong")
    return templates.TemplateResponse(request, "console/error.html", template_context(
        request, title=title, detail=detail[:1].upper() + detail[1:]), status_code=code,
        headers=headers)

STATUS_BY_ERROR: list[tuple[type[Exception], int]] = [
    (NotFoundError, status.HTTP_404_NOT_FOUND),
    (ConflictError, status.HTTP_409_CONFLICT),
    (InvalidInput, status.HTTP_422_UNPROCESSABLE_CONTENT),
    (FeatureDisabled, status.HTTP_403_FORBIDDEN),
    (AccountLocked, status.HTTP_429_TOO_MANY_REQUESTS),
    (AuthError, status.HTTP_401_UNAUTHORIZED),
]


def _media_statuses() -> list[tuple[type[Exception], int]]:
    try:
        from safeguard.media.errors import CorruptMedia, MediaError, MediaTooLarge, UnsupportedMedia
    except ImportError:  # pragma: no cover - media domain always ships
        return []
    return [(MediaTooLarge, status.HTTP_413_CONTENT_TOO_LARGE),
            (UnsupportedMedia, status.HTTP_415_UNSUPPORTED_MEDIA_TYPE),
            (CorruptMedia, status.HTTP_422_UNPROCESSABLE_CONTENT),
            (MediaError, status.HTTP_422_UNPROCESSABLE_CONTENT)]


def install_error_handlers(app: FastAPI) -> None:
    table = _media_statuses() + STATUS_BY_ERROR

    async def domain_error(request: Request, exc: Exception) -> Response:
        code = next((c for kind, c in table if isinstance(exc, kind)),
                    status.HTTP_400_BAD_REQUEST)
        if _is_console(request):
            return console_error(request, code, str(exc))
        return JSONResponse({"detail": str(exc)}, status_code=code)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if _is_console(request) and isinstance(exc.detail, str):
            return console_error(request, exc.status_code, exc.detail,
                                 dict(exc.headers) if exc.headers else None)
        from safeguard.web.pages_portal import portal_error_page  # the child portal's pages

        page = portal_error_page(request, exc.status_code)
        if page is not None:
            return page
        return await http_exception_handler(request, exc)

    async def unavailable(request: Request, exc: Exception) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                            headers={"Retry-After": "2"})

    async def invalid_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        sent = request.headers.get("content-type", "").split(";")[0].strip().lower()
        body_is_wrong_kind = any(tuple(e.get("loc", ())) == ("body",) for e in exc.errors())
        if body_is_wrong_kind and sent and "json" not in sent:
            # FastAPI reads a text body as a JSON string; say what was expected instead.
            return JSONResponse(
                {"detail": f"this endpoint takes a JSON body (Content-Type: application/json);"
                           f" the request sent {sent}"},
                status_code=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE)
        return await request_validation_exception_handler(request, exc)

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        if isinstance(exc, EnrolmentRequired):
            return RedirectResponse(TWO_STEP_PAGE, status_code=status.HTTP_303_SEE_OTHER)
        return RedirectResponse(f"/login?next={quote(exc.next_path)}",
                                status_code=status.HTTP_303_SEE_OTHER)

    app.add_exception_handler(SafeguardError, domain_error)
    for kind, _ in _media_statuses():
        app.add_exception_handler(kind, domain_error)
    app.add_exception_handler(DatabaseUnavailable, unavailable)
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, http_error)
