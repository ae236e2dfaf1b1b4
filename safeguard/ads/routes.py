"""Ads over HTTP: batch ingest, networks with their evidence, exports, and "open as triage
item". Thin: every route calls `safeguard.ads.service`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from safeguard.ads import service
from safeguard.ads.exports import leads_csv, leads_jsonl, networks_graphml, networks_json
from safeguard.ads.indicators import DISCLAIMER
from safeguard.ads.records import make_ad
from safeguard.audit.service import Actor
from safeguard.errors import InvalidInput
from safeguard.web.deps import DbSession, Offset, require_scope

router = APIRouter(prefix="/v1/ads", tags=["ads"])
AdsUser = Annotated[Actor, Depends(require_scope("ads"))]
NetworkId = Annotated[str, Path(pattern=r"^net-[0-9a-f]{12}$",
                                description="Network id, e.g. net-0123456789ab")]


class AdIn(BaseModel):
    id: str = Field(min_length=1, max_length=256, description="The ad's id on its site")
    site: str = Field(min_length=1, max_length=200, description="Site the ad was posted on")
    posted_at: str | None = Field(default=None, description="ISO 8601 time of posting")
    title: str = Field(default="", max_length=100_000)
    text: str = Field(default="", max_length=1_000_000, description="HTML is stripped; very "
                      "long texts are truncated with a note")
    location: str = Field(default="", max_length=1_000)
    region: str | None = Field(default=None, description="ISO 3166 two-letter region hint "
                               "for phone numbers, e.g. GB")
    phone: list[str] | str | None = Field(default=None, description="Contact phone field(s)")
    email: list[str] | str | None = None
    handle: list[str] | str | None = None
    payment: list[str] | str | None = None
    contacts: dict[str, str | list[str]] | None = Field(
        default=None, description="Other contact fields, e.g. {\"telegram\": \"name\"}")
    image_hashes: list[str] = Field(default_factory=list, max_length=50,
                                    description="PDQ hashes (64 hex) when the source has them; "
                                    "never images")


class IngestIn(BaseModel):
    ads: list[AdIn] = Field(min_length=1, max_length=service.MAX_BATCH)


class IngestOut(BaseModel):
    received: int
    new: int
    duplicates: int = Field(description="Ads already stored (same site and id), or repeated "
                            "in the batch: left unchanged")
    networks: list[str] = Field(description="Networks created or changed by this batch")
    ads: list[dict[str, Any]] = Field(description="Per new ad: key, indicator score, network")
    disclaimer: str = DISCLAIMER


class NetworkSummary(BaseModel):
    id: str
    size: int
    max_score: float = Field(description="Highest indicator score among its ads")
    created_at: str
    updated_at: str


class NetworkList(BaseModel):
    total: int
    networks: list[NetworkSummary]


class MemberOut(BaseModel):
    key: str
    site: str
    id: str
    title: str
    text: str
    score: float
    reasons: list[str]
    identifiers: list[list[str]] = Field(description="[kind, value] pairs that may link")


class NetworkOut(BaseModel):
    id: str
    size: int
    max_score: float
    created_at: str
    updated_at: str
    members: list[MemberOut]
    evidence: list[dict[str, Any]] = Field(description="Why ads were linked: kind (phone, "
                                           "email, handle, payment, crypto, image or text), "
                                           "the shared value, the ads, text similarity")
    template: dict[str, Any] | None = Field(description="Common text with numbered slots "
                                            "{1}, {2}… and the values seen in each slot")
    disclaimer: str = DISCLAIMER


class TriageOut(BaseModel):
    triage_item: int
    created: bool = Field(description="False when this network was opened before")


@router.post("", response_model=IngestOut,
             summary="Submit a batch of ads (idempotent on site and id): entities are "
                     "extracted, indicators scored with reasons, and the ads linked into "
                     "networks")
def ingest(body: IngestIn, actor: AdsUser, session: DbSession) -> IngestOut:
    """Store up to 1,000 ads. An ad already stored (same site and id), or repeated in the
    batch, is a duplicate and changes nothing. New ads get their entities extracted (phones
    to E.164, obfuscated ones included; emails, handles, payment handles, crypto, prices,
    ages, locations), an indicator score with every reason, and are linked into networks.
    Any invalid ad rejects the whole batch with each problem named by index (422)."""
    ads, problems = [], []
    for number, item in enumerate(body.ads):
        try:
            ads.append(make_ad(item.model_dump(exclude_none=True)))
        except InvalidInput as error:
            problems.append(f"ads[{number}]: {error}")
    if problems:
        raise InvalidInput("; ".join(problems[:20]))
    result = service.ingest(session, actor, ads)
    return IngestOut(received=result.received, new=result.new, duplicates=result.duplicates,
                     networks=result.networks, ads=result.ads)


@router.get("/networks", response_model=NetworkList,
            summary="Networks of linked ads, largest first")
def networks(actor: AdsUser, session: DbSession,
             limit: Annotated[int, Query(ge=1, le=500)] = 50, offset: Offset = 0,
             min_size: Annotated[int, Query(ge=2, le=1_000_000)] = 2) -> NetworkList:
    """Networks of at least `min_size` ads, largest first, then by highest indicator
    score."""
    total, rows = service.list_networks(session, limit=limit, offset=offset, min_size=min_size)
    return NetworkList(total=total, networks=[NetworkSummary(
        id=n.id, size=n.size, max_score=n.max_score, created_at=n.created_at.isoformat(),
        updated_at=n.updated_at.isoformat()) for n in rows])


@router.get("/networks/export",
            summary="All networks as JSON or GraphML (ads and shared identifiers as nodes, "
                    "text similarity on ad-to-ad edges)",
            responses={200: {"content": {"application/json": {},
                                         "application/graphml+xml": {}}}})
def export_networks(actor: AdsUser, session: DbSession,
                    format: Annotated[Literal["json", "graphml"], Query()] = "json",
                    min_size: Annotated[int, Query(ge=2, le=1_000_000)] = 2,
                    limit: Annotated[int, Query(ge=1, le=10_000)] = 1_000) -> Response:
    """GraphML: ads and shared identifiers are nodes (attribute `type`), ads are joined to
    the identifiers they carry and near-duplicate ads to each other (attribute `kind`,
    `similarity`). JSON: each network with its ads, evidence and template view."""
    rows = service.network_rows(session, min_size=min_size, limit=limit)
    if format == "graphml":
        return Response(networks_graphml(rows), media_type="application/graphml+xml",
                        headers={"Content-Disposition": 'attachment; filename="networks.graphml"'})
    return Response(networks_json(rows), media_type="application/json")


@router.get("/networks/{network_id}", response_model=NetworkOut,
            summary="One network: its ads with reasons, the evidence edges and the template "
                    "view of its texts")
def network(network_id: NetworkId, actor: AdsUser, session: DbSession) -> NetworkOut:
    """Everything a reviewer needs to judge why the ads were linked. 404 if no such
    network (ids change only when a network merges into one with a smaller member)."""
    view = service.get_network(session, network_id)
    row = view.row
    return NetworkOut(
        id=row.id, size=len(row.ads), max_score=row.max_score, created_at=view.created_at,
        updated_at=view.updated_at, evidence=[e.as_dict() for e in row.evidence],
        template=row.template,
        members=[MemberOut(key=m.key, site=m.site, id=m.ad_id, title=m.title, text=m.text,
                           score=m.score, reasons=list(m.reasons),
                           identifiers=[list(e) for e in m.entities]) for m in view.members])


@router.post("/networks/{network_id}/triage", response_model=TriageOut,
             summary="Open the network as a triage item (source ad_lead) carrying its "
                     "evidence and indicator reasons; idempotent")
def open_triage(network_id: NetworkId, actor: AdsUser, session: DbSession) -> TriageOut:
    """Hands the network to the triage queue once; calling again returns the same item."""
    result = service.open_triage(session, actor, network_id)
    return TriageOut(triage_item=result.item.id, created=result.created)


@router.get("/leads",
            summary="Ads as leads, highest indicator score first, with reasons (CSV or JSON "
                    "lines)",
            responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}}}})
def leads(actor: AdsUser, session: DbSession,
          format: Annotated[Literal["csv", "jsonl"], Query()] = "csv",
          min_score: Annotated[float, Query(ge=0, le=1)] = 0.0,
          limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000) -> StreamingResponse:
    """One row per ad: site, id, score, network, reasons, phones, emails, handles, posted
    time, title. Scores order leads for review; they are never findings."""
    # Read everything inside the request's session; the response then streams from memory.
    rows = list(service.lead_rows(session, min_score=min_score, limit=limit))
    if format == "jsonl":
        return StreamingResponse(leads_jsonl(rows), media_type="application/x-ndjson")
    return StreamingResponse(leads_csv(rows), media_type="text/csv", headers={
        "Content-Disposition": 'attachment; filename="leads.csv"'})
