"""Console pages for cases: the list, a new case, and a case with its items, assessments,
notes, decisions (with undo), linked cases (with a picture), notices and exports. Every
action calls the same case service functions as the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from safeguard.audit.service import Actor
from safeguard.cases import link_graph, notices, personal_data, referral
from safeguard.cases import service as cases
from safeguard.cases.case_models import AgeGroup, CaseStatus, IndustryClass, ItemKind, Outcome
from safeguard.cases.models import Classification
from safeguard.cases.notice_routes import proposals, refer_case
from safeguard.cases.vocabulary import INCIDENT_TYPES
from safeguard.cases.workflow import TRANSITIONS
from safeguard.db.encryption import FieldCipher
from safeguard.errors import SafeguardError
from safeguard.web.deps import (
    DbSession,
    EntityId,
    console_user,
    get_cipher,
    template_context,
)
from safeguard.web.templating import templates

router = APIRouter(prefix="/console/cases", include_in_schema=False)
Analyst = Annotated[Actor, Depends(console_user("triage"))]
Cipher = Annotated[FieldCipher, Depends(get_cipher)]


def _back(case_id: int, notice: str = "") -> RedirectResponse:
    suffix = f"?notice={notice}" if notice else ""
    return RedirectResponse(f"/console/cases/{case_id}{suffix}",
                            status_code=status.HTTP_303_SEE_OTHER)


@router.get("", response_class=HTMLResponse)
def case_list(request: Request, actor: Analyst, session: DbSession,
              case_status: Annotated[CaseStatus | None, Query(alias="status")] = None,
              error: str | None = None, code: int = status.HTTP_200_OK) -> Response:
    return templates.TemplateResponse(request, "console/cases.html", template_context(
        request, cases=cases.list_cases(session, status=case_status, limit=200),
        statuses=list(CaseStatus), chosen=case_status, kinds=list(ItemKind),
        incident_types=INCIDENT_TYPES, error=error), status_code=code)


@router.post("")
def create(request: Request, actor: Analyst, session: DbSession, cipher: Cipher,
           title: Annotated[str, Form(max_length=200)],
           incident_type: Annotated[str, Form(max_length=80)] = "",
           kind: Annotated[str, Form(max_length=16)] = "url",
           value: Annotated[str, Form(max_length=20_000)] = "") -> Response:
    try:
        case = cases.create_case(session, actor, title,
                                 [(kind, value)] if value.strip() else [], cipher=cipher,
                                 incident_type=incident_type or None)
    except SafeguardError as exc:
        session.rollback()
        return case_list(request, actor, session, error=str(exc),
                         code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    return _back(case.id)


@router.get("/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: EntityId, actor: Analyst, session: DbSession,
              cipher: Cipher, notice: Annotated[str | None, Query(max_length=40)] = None,
              error: str | None = None, code: int = status.HTTP_200_OK) -> Response:
    case = cases.get_case(session, case_id)
    links = cases.linked_cases(session, case.id)
    case_items = cases.items(session, case.id)
    items = list(zip(case_items, personal_data.item_values(session, actor, case.id, case_items,
                                                           cipher=cipher), strict=True))
    return templates.TemplateResponse(request, "console/case.html", template_context(
        request, case=case, items=items, links=links,
        graph=link_graph.svg(case, links), decisions=cases.decisions(session, case.id),
        notes=personal_data.notes(session, actor, case.id, cipher=cipher),
        notices=notices.for_case(session, case.id),
        referrals=referral.referrals(session, case.id),
        next_statuses=sorted(s.value for s in TRANSITIONS[CaseStatus(case.status)]),
        outcomes=list(Outcome), kinds=list(ItemKind), classifications=list(Classification),
        age_groups=list(AgeGroup), industry_classes=list(IndustryClass),
        incident_types=INCIDENT_TYPES, notice=notice, error=error), status_code=code)


def _act(request: Request, case_id: int, actor: Actor, session: DbSession,
         cipher: FieldCipher, action: object, done: str) -> Response:
    """Run a case action; on a refusal show the case again with the reason (nothing of the
    action is stored)."""
    try:
        action()  # type: ignore[operator]
    except SafeguardError as exc:
        session.rollback()
        return case_page(request, case_id, actor, session, cipher, error=str(exc),
                         code=status.HTTP_409_CONFLICT)
    return _back(case_id, done)


@router.post("/{case_id}/items")
def add_item(request: Request, case_id: EntityId, actor: Analyst, session: DbSession,
             cipher: Cipher, kind: Annotated[str, Form(max_length=16)],
             value: Annotated[str, Form(max_length=20_000)]) -> Response:
    return _act(request, case_id, actor, session, cipher, lambda: cases.add_item(
        session, actor, case_id, kind, value, cipher=cipher), "item-added")


@router.post("/{case_id}/items/{item_id}/assess")
def assess(request: Request, case_id: EntityId, item_id: EntityId, actor: Analyst,
           session: DbSession, cipher: Cipher,
           classification: Annotated[str, Form(max_length=16)],
           age_group: Annotated[str, Form(max_length=16)] = "",
           industry_class: Annotated[str, Form(max_length=2)] = "") -> Response:
    return _act(request, case_id, actor, session, cipher, lambda: cases.assess_item(
        session, actor, item_id, classification, age_group=age_group or None,
        industry_class=industry_class or None), "assessed")


@router.post("/{case_id}/status")
def change_status(request: Request, case_id: EntityId, actor: Analyst, session: DbSession,
                  cipher: Cipher, target: Annotated[str, Form(max_length=16)],
                  outcome: Annotated[str, Form(max_length=16)] = "",
                  reason: Annotated[str, Form(max_length=500)] = "") -> Response:
    return _act(request, case_id, actor, session, cipher, lambda: cases.change_status(
        session, actor, case_id, target, outcome=outcome or None, reason=reason), "status")


@router.post("/{case_id}/undo")
def undo(request: Request, case_id: EntityId, actor: Analyst, session: DbSession,
         cipher: Cipher) -> Response:
    return _act(request, case_id, actor, session, cipher,
                lambda: cases.undo_last_decision(session, actor, case_id), "undone")


@router.post("/{case_id}/notes")
def add_note(request: Request, case_id: EntityId, actor: Analyst, session: DbSession,
             cipher: Cipher, text: Annotated[str, Form(max_length=20_000)]) -> Response:
    return _act(request, case_id, actor, session, cipher, lambda: cases.add_note(
        session, actor, case_id, text, cipher=cipher), "note-added")


@router.post("/{case_id}/notices")
def add_notice(request: Request, case_id: EntityId, actor: Analyst, session: DbSession,
               cipher: Cipher, url: Annotated[str, Form(max_length=2048)],
               contact: Annotated[str, Form(max_length=300)]) -> Response:
    return _act(request, case_id, actor, session, cipher, lambda: notices.create_notice(
        session, actor, case_id, url, contact), "notice-queued")


@router.post("/{case_id}/incident-type")
def set_incident_type(request: Request, case_id: EntityId, actor: Analyst,
                      session: DbSession, cipher: Cipher,
                      incident_type: Annotated[str, Form(max_length=80)]) -> Response:
    return _act(request, case_id, actor, session, cipher, lambda: cases.update_case(
        session, actor, case_id, incident_type=incident_type), "updated")


@router.get("/{case_id}/referral", response_class=HTMLResponse)
def referral_proposal(request: Request, case_id: EntityId, actor: Analyst,
                      session: DbSession, cipher: Cipher,
                      url: Annotated[str, Query(max_length=2048)] = "",
                      country_override: Annotated[str, Query(max_length=2)] = "") -> Response:
    """Where the URLs are hosted and whom to refer to, with the reasons; the analyst decides
    on the next page. Nothing is stored until they do."""
    case = cases.get_case(session, case_id)
    urls = [url.strip()] if url.strip() else [
        i.value for i in cases.items(session, case.id) if i.kind == ItemKind.URL]
    try:
        found = proposals(request, urls, country_override.strip() or None)
    except SafeguardError as exc:
        return case_page(request, case_id, actor, session, cipher, error=str(exc),
                         code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    return templates.TemplateResponse(request, "console/referral.html", template_context(
        request, case=case, proposals=found, override=country_override.strip().upper()))


@router.post("/{case_id}/refer")
def refer(request: Request, case_id: EntityId, actor: Analyst, session: DbSession,
          cipher: Cipher, url: Annotated[str, Form(max_length=2048)] = "",
          country_override: Annotated[str, Form(max_length=2)] = "") -> Response:
    """Locate the URL, refer to the proposed partner (the page lists it with the reason)."""
    return _act(request, case_id, actor, session, cipher, lambda: refer_case(
        request, session, actor, case_id, url.strip() or None,
        country_override.strip() or None), "referred")
