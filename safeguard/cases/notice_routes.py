"""Referral proposals, referrals and takedown notices over HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from safeguard.audit.service import Actor
from safeguard.cases import notices, referral
from safeguard.cases import service as cases
from safeguard.cases.case_models import ItemKind
from safeguard.cases.hosting import CountryDatabase, locate, resolve_dns
from safeguard.cases.notice_models import Referral
from safeguard.errors import InvalidInput
from safeguard.web.deps import DbSession, EntityId, require_scope

router = APIRouter(tags=["referral and takedown"])
Analyst = Annotated[Actor, Depends(require_scope("triage"))]


class PartnerOut(BaseModel):
    name: str
    kind: str
    contact: str
    country: str
    source: str


class ProposalOut(BaseModel):
    url: str
    host: str
    addresses: list[str]
    country: str | None
    how: str = Field(description="How the country was found: ip-database, override, ...")
    partner: PartnerOut | None
    reason: str


class ReferIn(BaseModel):
    url: str | None = Field(default=None, max_length=2048)
    country_override: str | None = Field(default=None, min_length=2, max_length=2)


class ReferralOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str | None
    country: str | None
    partner_name: str
    partner_kind: str
    contact: str
    reason: str
    by: str
    at: datetime


class NoticeIn(BaseModel):
    url: str = Field(min_length=1, max_length=2048)
    contact: str = Field(min_length=3, max_length=300,
                         description="The host's abuse email address or intake webhook URL")


class NoticeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    contact: str
    channel: str
    status: str
    sent_count: int
    failed_sends: int
    first_sent_at: datetime | None
    last_sent_at: datetime | None
    next_send_at: datetime | None
    next_check_at: datetime | None
    removed_at: datetime | None
    seconds_to_removal: int | None


def _database(request: Request) -> CountryDatabase | None:
    path = request.app.state.settings.geoip_database
    return CountryDatabase(path) if path else None


def proposals(request: Request, urls: list[str],
              override: str | None) -> list[ProposalOut]:
    """Where each URL is hosted and whom the directory proposes (API and console page)."""
    settings = request.app.state.settings
    directory = referral.Directory.load(settings.referral_directory)
    database = _database(request)
    out = []
    try:
        for url in urls:
            hosting = locate(url, database, override=override,
                             resolver=getattr(request.app.state, "dns_resolver", resolve_dns))
            proposal = directory.propose(hosting)
            partner = proposal.partner
            out.append(ProposalOut(
                url=url, host=hosting.host, addresses=hosting.addresses,
                country=hosting.country, how=hosting.how, reason=proposal.reason,
                partner=PartnerOut(**partner.__dict__) if partner else None))
    finally:
        if database is not None:
            database.close()
    return out


@router.get("/v1/cases/{case_id}/referral-proposals", response_model=list[ProposalOut],
            summary="Where each URL of the case is hosted and whom to refer it to")
def propose(case_id: EntityId, actor: Analyst, session: DbSession, request: Request,
            country_override: Annotated[str | None, Query(min_length=2, max_length=2)]
            = None) -> list[ProposalOut]:
    urls = [i.value for i in cases.items(session, cases.get_case(session, case_id).id)
            if i.kind == ItemKind.URL]
    return proposals(request, urls, country_override)


@router.post("/v1/cases/{case_id}/referrals", response_model=ReferralOut,
             status_code=status.HTTP_201_CREATED,
             responses={422: {"description": "No partner configured for this case"}},
             summary="Refer the case to the proposed partner (the case becomes referred)")
def refer(case_id: EntityId, body: ReferIn, actor: Analyst, session: DbSession,
          request: Request) -> object:
    return refer_case(request, session, actor, case_id, body.url, body.country_override)


def refer_case(request: Request, session: Session, actor: Actor, case_id: int,
               url: str | None, country_override: str | None) -> Referral:
    """Locate the URL (or the case's first URL), take the proposed partner and refer. Shared
    by the API and the console page."""
    case = cases.get_case(session, case_id)
    urls = [url] if url else [i.value for i in cases.items(session, case.id)
                              if i.kind == ItemKind.URL][:1]
    if not urls:
        raise InvalidInput("the case has no URL to locate; give one")
    [proposal] = proposals(request, urls, country_override)
    if proposal.partner is None:
        raise InvalidInput(proposal.reason)
    partner = referral.Partner(**proposal.partner.model_dump())
    return referral.refer(session, actor, case.id, partner, url=proposal.url,
                          country=proposal.country, reason=proposal.reason)


@router.get("/v1/cases/{case_id}/referrals", response_model=list[ReferralOut],
            summary="Referrals made for the case")
def list_referrals(case_id: EntityId, actor: Analyst, session: DbSession) -> object:
    cases.get_case(session, case_id)
    return referral.referrals(session, case_id)


@router.post("/v1/cases/{case_id}/notices", response_model=NoticeOut,
             status_code=status.HTTP_201_CREATED,
             summary="Ask a host to take a URL down (sent by the notice job, grouped per "
                     "contact, re-sent until gone)")
def create_notice(case_id: EntityId, body: NoticeIn, actor: Analyst,
                  session: DbSession) -> object:
    return notices.create_notice(session, actor, case_id, body.url, body.contact)


@router.get("/v1/cases/{case_id}/notices", response_model=list[NoticeOut],
            summary="The case's notices with their state and time to removal")
def list_notices(case_id: EntityId, actor: Analyst, session: DbSession) -> object:
    cases.get_case(session, case_id)
    return notices.for_case(session, case_id)


@router.post("/v1/notices/{notice_id}/withdraw", response_model=NoticeOut,
             summary="Stop a notice (no more sends or checks)")
def withdraw(notice_id: EntityId, actor: Analyst, session: DbSession) -> object:
    return notices.withdraw(session, actor, notice_id)
