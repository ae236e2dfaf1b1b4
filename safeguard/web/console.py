"""Console sign-in, sign-out and the home page. Domain pages live in web/pages_*.py."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from safeguard.audit.service import Actor
from safeguard.auth import service as auth
from safeguard.config import Settings
from safeguard.db.encryption import FieldCipher
from safeguard.web.deps import (
    SESSION_COOKIE,
    DbSession,
    console_user,
    get_cipher,
    get_settings,
    signed_in_user,
    template_context,
)
from safeguard.web.templating import templates

router = APIRouter(include_in_schema=False)
Settings_ = Annotated[Settings, Depends(get_settings)]


def _safe_next(value: str | None) -> str:
    # Only same-site paths: an open redirect would let a phishing link reuse our login page.
    if value and value.startswith("/") and not value.startswith("//") \
            and not urlparse(value).netloc:
        return value
    return "/console"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> Response:
    return templates.TemplateResponse(request, "login.html",
                                      template_context(request, next=_safe_next(next), error=None))


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, session: DbSession, settings: Settings_,
          username: Annotated[str, Form(max_length=64)],
          password: Annotated[str, Form(max_length=1024)],
          cipher: Annotated[FieldCipher, Depends(get_cipher)],
          code: Annotated[str, Form(max_length=16)] = "",
          next: Annotated[str, Form(max_length=512)] = "/console") -> Response:
    try:
        user = auth.authenticate(session, username, password,
                                 max_failures=settings.login_max_failures,
                                 lockout_seconds=settings.login_lockout_seconds,
                                 totp_code=code or None, cipher=cipher)
    except auth.AuthError as exc:
        return templates.TemplateResponse(
            request, "login.html",
            template_context(request, next=_safe_next(next), error=str(exc), username=username),
            status_code=status.HTTP_401_UNAUTHORIZED)
    issued = auth.start_session(session, user, settings.session_max_age_seconds)
    response = RedirectResponse(_safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(SESSION_COOKIE, issued.cookie_value, httponly=True, samesite="strict",
                        secure=settings.cookie_secure, max_age=settings.session_max_age_seconds,
                        path="/")
    return response


@router.post("/logout")
def logout(request: Request, session: DbSession,
           actor: Annotated[Actor, Depends(signed_in_user)]) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        auth.end_session(session, cookie)
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# `/` is the child portal's first screen (docs/decisions/027-portal-urls-and-i18n.md): a child
# scanning a poster lands there; analysts go to /console.


@router.get("/console", response_class=HTMLResponse)
def home(request: Request, actor: Annotated[Actor, Depends(console_user(None))]) -> Response:
    return templates.TemplateResponse(request, "console/home.html", template_context(request))
