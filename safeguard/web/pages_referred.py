"""Console pages of a law-enforcement liaison: the cases referred to their partner and one
such case (free text redacted). Same service functions as /v1/referred."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from safeguard.audit.service import Actor
from safeguard.cases import liaison
from safeguard.cases.liaison_routes import directory
from safeguard.db.encryption import FieldCipher
from safeguard.web.deps import DbSession, EntityId, console_user, get_cipher, template_context
from safeguard.web.templating import templates

router = APIRouter(prefix="/console/referred", include_in_schema=False)
Liaison = Annotated[Actor, Depends(console_user("referrals:read"))]
Cipher = Annotated[FieldCipher, Depends(get_cipher)]


@router.get("", response_class=HTMLResponse)
def referred_list(request: Request, actor: Liaison, session: DbSession) -> Response:
    dir_ = directory(request)
    return templates.TemplateResponse(request, "console/referred.html", template_context(
        request, referred=liaison.referred_cases(session, actor, dir_),
        partners=liaison.partners_of(session, actor, dir_)))


@router.get("/{case_id}", response_class=HTMLResponse)
def referred_case(request: Request, case_id: EntityId, actor: Liaison, session: DbSession,
                  cipher: Cipher) -> Response:
    view = liaison.referred_case(session, actor, directory(request), case_id, cipher=cipher)
    return templates.TemplateResponse(request, "console/referred_case.html",
                                      template_context(request, view=view))
