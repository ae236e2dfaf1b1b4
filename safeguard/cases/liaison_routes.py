"""What a law-enforcement liaison may read over HTTP: the cases referred to their partner,
and the redacted exports of those cases. Every other case answers 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from safeguard.audit.service import Actor
from safeguard.cases import cybertipline, evidence, liaison
from safeguard.cases.case_schemas import CaseOut, ItemOut
from safeguard.cases.instance_key import load_or_create
from safeguard.cases.notice_routes import NoticeOut, ReferralOut
from safeguard.cases.referral import Directory
from safeguard.db.encryption import FieldCipher
from safeguard.web.deps import DbSession, EntityId, get_cipher, require_scope

router = APIRouter(prefix="/v1/referred", tags=["referred to law enforcement"])
Liaison = Annotated[Actor, Depends(require_scope("referrals:read"))]
Cipher = Annotated[FieldCipher, Depends(get_cipher)]


class ReferredCaseOut(BaseModel):
    case: CaseOut
    referrals: list[ReferralOut]


class ReferredDetailOut(ReferredCaseOut):
    items: list[ItemOut]
    notices: list[NoticeOut]


def directory(request: Request) -> Directory:
    return Directory.load(request.app.state.settings.referral_directory)


@router.get("", response_model=list[ReferredCaseOut],
            summary="Cases referred to your partner (only those; audited)")
def list_referred(actor: Liaison, session: DbSession, request: Request) -> list[ReferredCaseOut]:
    return [ReferredCaseOut(case=CaseOut.model_validate(r.case),
                            referrals=[ReferralOut.model_validate(x) for x in r.referrals])
            for r in liaison.referred_cases(session, actor, directory(request))]


@router.get("/{case_id}", response_model=ReferredDetailOut,
            responses={404: {"description": "No such case was referred to you"}},
            summary="One referred case: items (free text redacted), referrals, notices")
def read_referred(case_id: EntityId, actor: Liaison, session: DbSession, request: Request,
                  cipher: Cipher) -> ReferredDetailOut:
    view = liaison.referred_case(session, actor, directory(request), case_id, cipher=cipher)
    return ReferredDetailOut(
        case=CaseOut.model_validate(view.case),
        referrals=[ReferralOut.model_validate(r) for r in view.referrals],
        items=[ItemOut(id=i.id, kind=i.kind, value=value, classification=i.classification,
                       age_group=i.age_group, industry_class=i.industry_class,
                       assessed_by=i.assessed_by, assessed_at=i.assessed_at)
               for i, value in view.items],
        notices=[NoticeOut.model_validate(n) for n in view.notices])


@router.get("/{case_id}/evidence", response_class=Response,
            responses={200: {"content": {"application/zip": {}}},
                       404: {"description": "No such case was referred to you"}},
            summary="The signed evidence bundle, free text always redacted (audited)")
def referred_evidence(case_id: EntityId, actor: Liaison, session: DbSession,
                      request: Request, cipher: Cipher) -> Response:
    liaison.check_referred(session, actor, directory(request), case_id)
    data = evidence.build_bundle(session, actor, case_id, cipher=cipher,
                                 key=load_or_create(request.app.state.settings.data_dir),
                                 include_text=False)
    return Response(data, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="case-{case_id}-evidence.zip"'})


@router.get("/{case_id}/cybertipline", response_class=Response,
            responses={200: {"content": {"application/xml": {}}},
                       404: {"description": "No such case was referred to you"},
                       422: {"description": "What the case still lacks, every item listed"}},
            summary="The CyberTipline-style XML report (never carries free text; audited)")
def referred_report(case_id: EntityId, actor: Liaison, session: DbSession,
                    request: Request) -> Response:
    liaison.check_referred(session, actor, directory(request), case_id)
    settings = request.app.state.settings
    data = cybertipline.build_report(session, actor, case_id,
                                     org_name=settings.reporter_org_name,
                                     reporter_email=settings.reporter_email)
    return Response(data, media_type="application/xml")
