"""Console account page: two-step sign-in (TOTP) set-up. Open to every signed-in user, also
one whose role requires two-step sign-in and who may do nothing else until it is on."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from safeguard.audit.service import Actor
from safeguard.auth import service as auth
from safeguard.auth import totp
from safeguard.db.encryption import FieldCipher
from safeguard.errors import SafeguardError
from safeguard.web.deps import (
    TWO_STEP_PAGE,
    DbSession,
    get_cipher,
    get_settings,
    signed_in_user,
    template_context,
)
from safeguard.web.templating import templates

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Actor, Depends(signed_in_user)]
Cipher = Annotated[FieldCipher, Depends(get_cipher)]


def _page(request: Request, session: DbSession, actor: Actor, cipher: FieldCipher, *,
          enrolment: totp.Enrolment | None = None, error: str | None = None,
          code: int = status.HTTP_200_OK) -> Response:
    user = auth.user_of(session, actor)
    required = auth.must_enrol_totp(user, get_settings(request).totp_required_roles)
    return templates.TemplateResponse(request, "console/two_step.html", template_context(
        request, user=user, required=required, error=error,
        enrolment=enrolment or totp.pending_enrolment(user, cipher)), status_code=code)


@router.get(TWO_STEP_PAGE, response_class=HTMLResponse)
def two_step(request: Request, session: DbSession, actor: SignedIn, cipher: Cipher) -> Response:
    return _page(request, session, actor, cipher)


@router.post(TWO_STEP_PAGE + "/start", response_class=HTMLResponse)
def start(request: Request, session: DbSession, actor: SignedIn, cipher: Cipher) -> Response:
    try:
        enrolment = totp.start_enrolment(session, actor, auth.user_of(session, actor),
                                         cipher)
    except SafeguardError as exc:
        session.rollback()
        return _page(request, session, actor, cipher, error=str(exc),
                     code=status.HTTP_409_CONFLICT)
    return _page(request, session, actor, cipher, enrolment=enrolment)


@router.post(TWO_STEP_PAGE + "/confirm", response_class=HTMLResponse)
def confirm(request: Request, session: DbSession, actor: SignedIn, cipher: Cipher,
            code: Annotated[str, Form(max_length=16)]) -> Response:
    try:
        totp.confirm_enrolment(session, actor, auth.user_of(session, actor), code,
                               cipher)
    except SafeguardError as exc:
        session.rollback()
        return _page(request, session, actor, cipher, error=str(exc),
                     code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    return RedirectResponse("/console?notice=two-step", status_code=status.HTTP_303_SEE_OTHER)
