"""Console pages for reports: the list (nothing decrypted) and one report (decrypted for an
analyst with `reports:read`, audited), until the triage console shows reports itself."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from safeguard.audit.service import Actor
from safeguard.db.encryption import FieldCipher
from safeguard.reports import service
from safeguard.reports.inputs import WHAT_CHOICES
from safeguard.reports.models import ReportSource
from safeguard.web.deps import DbSession, EntityId, console_user, get_cipher, template_context
from safeguard.web.templating import templates

router = APIRouter(prefix="/console/reports", include_in_schema=False)
Reader = Annotated[Actor, Depends(console_user("reports:read"))]


@router.get("", response_class=HTMLResponse)
def report_list(request: Request, actor: Reader, session: DbSession,
                source: Annotated[ReportSource | None, Query()] = None) -> Response:
    return templates.TemplateResponse(request, "console/reports.html", template_context(
        request, reports=service.list_reports(session, source=source, limit=200),
        sources=list(ReportSource), chosen=source))


@router.get("/{report_id}", response_class=HTMLResponse)
def report_page(request: Request, report_id: EntityId, actor: Reader, session: DbSession,
                cipher: Annotated[FieldCipher, Depends(get_cipher)]) -> Response:
    view = service.read_report(session, actor, report_id, cipher=cipher)
    return templates.TemplateResponse(request, "console/report.html", template_context(
        request, view=view, report=view.report, choices=WHAT_CHOICES))
