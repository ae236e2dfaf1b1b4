"""Cases over HTTP."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from sqlalchemy.orm import Session

from safeguard.audit.service import Actor, record
from safeguard.cases import cybertipline as cybertipline_xml
from safeguard.cases import evidence, personal_data
from safeguard.cases import service as cases
from safeguard.cases.case_models import Case, CaseStatus
from safeguard.cases.case_schemas import (
    AssessItemIn,
    CaseDetailOut,
    CaseIn,
    CaseOut,
    CaseUpdate,
    DecisionOut,
    ItemIn,
    ItemOut,
    LinkOut,
    NoteIn,
    NoteOut,
    StatusIn,
)
from safeguard.cases.instance_key import load_or_create
from safeguard.db.encryption import FieldCipher
from safeguard.errors import NotFoundError
from safeguard.web.deps import DbSession, EntityId, Offset, get_cipher, require_scope

router = APIRouter(prefix="/v1/cases", tags=["cases"])
Analyst = Annotated[Actor, Depends(require_scope("triage"))]
Cipher = Annotated[FieldCipher, Depends(get_cipher)]


def _detail(session: Session, actor: Actor, case: Case, cipher: FieldCipher) -> CaseDetailOut:
    # Text items are decrypted only for the personal_data scope (audited), else redacted.
    items = cases.items(session, case.id)
    values = personal_data.item_values(session, actor, case.id, items, cipher=cipher)
    return CaseDetailOut(
        **CaseOut.model_validate(case).model_dump(),
        items=[ItemOut(id=i.id, kind=i.kind, value=value,
                       classification=i.classification, age_group=i.age_group,
                       industry_class=i.industry_class, assessed_by=i.assessed_by,
                       assessed_at=i.assessed_at) for i, value in zip(items, values,
                                                                      strict=True)],
        decisions=[DecisionOut.model_validate(d) for d in cases.decisions(session, case.id)],
        links=[LinkOut(case=CaseOut.model_validate(link.case), shared=link.shared)
               for link in cases.linked_cases(session, case.id)])


@router.get("", response_model=list[CaseOut], summary="Cases, most recently changed first")
def list_cases(actor: Analyst, session: DbSession, case_status: Annotated[
        CaseStatus | None, Query(alias="status")] = None, offset: Offset = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[Case]:
    return cases.list_cases(session, status=case_status, offset=offset, limit=limit)


@router.post("", response_model=CaseDetailOut, status_code=status.HTTP_201_CREATED,
             summary="Open a case with its items")
def create_case(body: CaseIn, actor: Analyst, session: DbSession,
                cipher: Cipher) -> CaseDetailOut:
    case = cases.create_case(session, actor, body.title, [], cipher=cipher,
                             incident_type=body.incident_type)
    for item in body.items:
        cases.add_item(session, actor, case.id, item.kind, item.value, cipher=cipher,
                       triage_item_id=body.triage_item_id, region=item.region)
    return _detail(session, actor, case, cipher)


@router.get("/{case_id}", response_model=CaseDetailOut,
            summary="A case with its items, decisions and linked cases (text items are "
                    "decrypted only with the personal_data scope, and audited)")
def read_case(case_id: EntityId, actor: Analyst, session: DbSession,
              cipher: Cipher) -> CaseDetailOut:
    case = cases.get_case(session, case_id)
    record(session, actor, "case.read", "case", case.id)
    return _detail(session, actor, case, cipher)


@router.patch("/{case_id}", response_model=CaseDetailOut,
              summary="Change the title or the incident type")
def update_case(case_id: EntityId, body: CaseUpdate, actor: Analyst, session: DbSession,
                cipher: Cipher) -> CaseDetailOut:
    case = cases.update_case(session, actor, case_id, title=body.title,
                             incident_type=body.incident_type)
    return _detail(session, actor, case, cipher)


@router.get("/{case_id}/cybertipline", response_class=Response,
            responses={200: {"content": {"application/xml": {}}},
                       422: {"description": "What the case still lacks, every item listed"}},
            summary="The case as a CyberTipline-style XML report (schema-checked; audited)")
def cybertipline(case_id: EntityId, actor: Analyst, session: DbSession, request: Request,
                 urgent: bool = False) -> Response:
    settings = request.app.state.settings
    data = cybertipline_xml.build_report(session, actor, case_id,
                                         org_name=settings.reporter_org_name,
                                         reporter_email=settings.reporter_email,
                                         urgent=urgent)
    return Response(data, media_type="application/xml")


@router.post("/{case_id}/items", response_model=ItemOut, status_code=status.HTTP_201_CREATED,
             summary="Add an item (URL, hash, text or account)")
def add_item(case_id: EntityId, body: ItemIn, actor: Analyst, session: DbSession,
             cipher: Cipher) -> ItemOut:
    item = cases.add_item(session, actor, case_id, body.kind, body.value, cipher=cipher,
                          region=body.region)
    return ItemOut(id=item.id, kind=item.kind, value=body.value, classification=None,
                   age_group=None, industry_class=None, assessed_by=None, assessed_at=None)


@router.post("/{case_id}/items/{item_id}/assessment", response_model=CaseDetailOut,
             summary="Assess one item (baseline / national / doubtful / not illegal; age "
                     "group; industry class)")
def assess_item(case_id: EntityId, item_id: EntityId, body: AssessItemIn, actor: Analyst,
                session: DbSession, cipher: Cipher) -> CaseDetailOut:
    case = cases.get_case(session, case_id)
    if item_id not in {i.id for i in cases.items(session, case_id)}:
        raise NotFoundError(f"case {case_id} has no item {item_id}")
    cases.assess_item(session, actor, item_id, body.classification,
                      age_group=body.age_group, industry_class=body.industry_class)
    return _detail(session, actor, case, cipher)


@router.post("/{case_id}/status", response_model=CaseDetailOut,
             responses={409: {"description": "Not allowed from the current status"}},
             summary="Move the case through its states (closing needs an outcome)")
def change_status(case_id: EntityId, body: StatusIn, actor: Analyst, session: DbSession,
                  cipher: Cipher) -> CaseDetailOut:
    cases.change_status(session, actor, case_id, body.status, outcome=body.outcome,
                        reason=body.reason)
    return _detail(session, actor, cases.get_case(session, case_id), cipher)


@router.post("/{case_id}/undo", response_model=CaseDetailOut,
             responses={409: {"description": "Nothing to undo, not yours, or too late"}},
             summary="Undo your last decision on the case (within two minutes)")
def undo(case_id: EntityId, actor: Analyst, session: DbSession,
         cipher: Cipher) -> CaseDetailOut:
    return _detail(session, actor, cases.undo_last_decision(session, actor, case_id),
                   cipher)


@router.get("/{case_id}/evidence", response_class=Response,
            responses={200: {"content": {"application/zip": {}},
                             "description": "The signed bundle; check it with "
                                            "`safeguard evidence verify`"}},
            summary="Evidence bundle: the case, hashes, audit extract, manifest, Ed25519 "
                    "signature (audited)")
def evidence_bundle(case_id: EntityId, actor: Analyst, session: DbSession, cipher: Cipher,
                    request: Request, include_text: bool = False) -> Response:
    if include_text and not personal_data.may_read(actor):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "include_text needs the "
                            f"{personal_data.SCOPE!r} permission")
    settings = request.app.state.settings
    data = evidence.build_bundle(session, actor, case_id, cipher=cipher,
                                 key=load_or_create(settings.data_dir),
                                 include_text=include_text)
    reference = cases.get_case(session, case_id).reference
    return Response(data, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{reference}-evidence.zip"'})


@router.get("/{case_id}/notes", response_model=list[NoteOut],
            summary="Notes (stored encrypted; decrypted only with the personal_data scope, "
                    "and audited)")
def read_notes(case_id: EntityId, actor: Analyst, session: DbSession,
               cipher: Cipher) -> list[NoteOut]:
    return [NoteOut(author=n.author, at=n.at, text=text)
            for n, text in personal_data.notes(session, actor, case_id, cipher=cipher)]


@router.post("/{case_id}/notes", response_model=NoteOut, status_code=status.HTTP_201_CREATED,
             summary="Add a note")
def add_note(case_id: EntityId, body: NoteIn, actor: Analyst, session: DbSession,
             cipher: Cipher) -> NoteOut:
    note = cases.add_note(session, actor, case_id, body.text, cipher=cipher)
    return NoteOut(author=note.author, at=note.at, text=body.text)
