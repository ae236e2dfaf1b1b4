"""Reports over HTTP: platforms and partners submit with a `reports:write` token; analysts
list and read with `reports:read` (reading decrypts, and is audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from safeguard.audit.service import Actor
from safeguard.db.encryption import FieldCipher
from safeguard.reports import service
from safeguard.reports.inputs import HashIn
from safeguard.reports.models import Report, ReportSource
from safeguard.reports.schemas import AdditionOut, ReportBody, ReportDetailOut, ReportOut
from safeguard.web.deps import DbSession, EntityId, Offset, get_cipher, require_scope

router = APIRouter(prefix="/v1/reports", tags=["reports"])
Writer = Annotated[Actor, Depends(require_scope("reports:write"))]
Reader = Annotated[Actor, Depends(require_scope("reports:read"))]
Cipher = Annotated[FieldCipher, Depends(get_cipher)]


@router.post("", response_model=ReportOut, status_code=status.HTTP_201_CREATED,
             summary="Submit a report (platforms and partner organisations)",
             responses={200: {"description": "The same external_ref was sent before: the "
                              "first report, unchanged"}})
def submit(body: ReportBody, actor: Writer, session: DbSession, cipher: Cipher,
           response: Response) -> Report:
    report, created = service.submit_platform(session, actor, service.PlatformReportIn(
        source=ReportSource(body.source), incident_type=body.incident_type, urls=body.urls,
        hashes=[HashIn(h.kind, h.value, h.quality) for h in body.hashes],
        reported_account=body.reported_account, urgent=body.urgent, details=body.details,
        age_band=body.age_band, external_ref=body.external_ref), cipher=cipher)
    if not created:
        response.status_code = status.HTTP_200_OK
    return report


@router.get("", response_model=list[ReportOut], summary="Reports, newest first (not decrypted)")
def list_reports(actor: Reader, session: DbSession,
                 source: Annotated[ReportSource | None, Query()] = None,
                 urgent: Annotated[bool | None, Query()] = None, offset: Offset = 0,
                 limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[Report]:
    return service.list_reports(session, source=source, urgent=urgent, offset=offset,
                                limit=limit)


@router.get("/{report_id}", response_model=ReportDetailOut,
            summary="One report with its reporter text decrypted (audited)")
def read_report(report_id: EntityId, actor: Reader, session: DbSession,
                cipher: Cipher) -> ReportDetailOut:
    view = service.read_report(session, actor, report_id, cipher=cipher)
    return ReportDetailOut(
        **ReportOut.model_validate(view.report).model_dump(), details=view.details,
        reported_account=view.reported_account, contact=view.contact,
        additions=[AdditionOut(text=text, urls=a.urls, added_at=a.added_at)
                   for a, text in view.additions])
