"""Console pages for ad networks: the list, and one network with its members (and their
indicator reasons), evidence edges, template view and a picture of the graph; "open as triage
item" calls the same service function as the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from safeguard.ads import graph_svg
from safeguard.ads import service as ads
from safeguard.ads.indicators import DISCLAIMER
from safeguard.audit.service import Actor
from safeguard.web.deps import DbSession, Offset, console_user, template_context
from safeguard.web.templating import templates

router = APIRouter(prefix="/console/ads", include_in_schema=False)
AdsAnalyst = Annotated[Actor, Depends(console_user("ads"))]
NetworkId = Annotated[str, Path(pattern=r"^net-[0-9a-f]{12}$")]
PAGE = 50


@router.get("", response_class=HTMLResponse)
def network_list(request: Request, actor: AdsAnalyst, session: DbSession,
                 offset: Offset = 0,
                 min_size: Annotated[int, Query(ge=2, le=1_000_000)] = 2) -> Response:
    total, networks = ads.list_networks(session, limit=PAGE, offset=offset, min_size=min_size)
    return templates.TemplateResponse(request, "console/ad_networks.html", template_context(
        request, networks=networks, total=total, offset=offset, page=PAGE, min_size=min_size,
        disclaimer=DISCLAIMER))


@router.get("/{network_id}", response_class=HTMLResponse)
def network_page(request: Request, network_id: NetworkId, actor: AdsAnalyst,
                 session: DbSession,
                 notice: Annotated[str | None, Query(max_length=40)] = None,
                 item: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None) -> Response:
    view = ads.get_network(session, network_id)
    return templates.TemplateResponse(request, "console/ad_network.html", template_context(
        request, view=view, network=view.row, graph=graph_svg.svg(view.row),
        shown=graph_svg.MAX_ADS, disclaimer=DISCLAIMER, notice=notice, item=item,
        can_triage="triage" in actor.scopes or "admin" in actor.scopes))


@router.post("/{network_id}/triage")
def open_triage(network_id: NetworkId, actor: AdsAnalyst, session: DbSession) -> Response:
    result = ads.open_triage(session, actor, network_id)
    notice = "opened" if result.created else "already-open"
    return RedirectResponse(f"/console/ads/{network_id}?notice={notice}&item={result.item.id}",
                            status_code=status.HTTP_303_SEE_OTHER)
