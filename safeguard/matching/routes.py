"""HTTP API of the matching domain: match hashes or a file, read the match log, manage bank
webhooks. Thin: every route calls matching.service / matchlog / webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from safeguard.audit.service import Actor
from safeguard.banks.routes import BankRef
from safeguard.config import Settings
from safeguard.errors import FeatureDisabled
from safeguard.matching import matchlog, service, webhooks
from safeguard.matching.index_manager import IndexManager
from safeguard.matching.schemas import (
    FileMatchOut,
    MatchHashesIn,
    MatchLogOut,
    MatchLogPageOut,
    QueryOut,
    WebhookAttemptOut,
    WebhookCreatedOut,
    WebhookDeliveryOut,
    WebhookIn,
    WebhookOut,
)
from safeguard.matching.service import HashQuery
from safeguard.web.deps import DbSession, EntityId, EntityIdQuery, Offset, require_scope

router = APIRouter(tags=["matching"])
Matcher = Annotated[Actor, Depends(require_scope("match"))]
LogReader = Annotated[Actor, Depends(require_scope("matchlog:read"))]
BankWriter = Annotated[Actor, Depends(require_scope("banks:write"))]


def get_index_manager(request: Request) -> IndexManager:
    index: IndexManager | None = getattr(request.app.state, "index_manager", None)
    if index is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the index is still loading",
                            headers={"Retry-After": "5"})
    return index


Index = Annotated[IndexManager, Depends(get_index_manager)]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _wake_webhooks(request: Request) -> None:
    worker = getattr(request.app.state, "webhook_worker", None)
    if worker is not None:
        worker.wake()


@router.post("/v1/match", response_model=list[QueryOut],
             summary="Match hashes against every enabled bank")
def match_hashes(body: MatchHashesIn, actor: Matcher, session: DbSession, index: Index,
                 request: Request) -> list[QueryOut]:
    queries = [HashQuery(h.signal_type, h.value, h.quality) for h in body.hashes]
    results = service.match_hashes(session, index, queries, actor, source="api",
                                   settings=_settings(request))
    _wake_webhooks(request)
    return [QueryOut.of(r) for r in results]


@router.post("/v1/match/file", response_model=FileMatchOut,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/octet-stream": {"schema": {"type": "string",
                                                         "format": "binary"}}}}},
             summary="Hash the raw request body in memory (never stored) and match it")
async def match_file(actor: Matcher, session: DbSession, index: Index, request: Request,
                     label: Annotated[str, Query(max_length=256)] = "upload",
                     variants: bool = True) -> FileMatchOut:
    # The raw body, not multipart: multipart uploads over 1 MB are spooled to disk.
    settings = _settings(request)
    if not settings.allow_file_upload:
        raise FeatureDisabled("file upload is switched off on this instance; hash on your "
                              "side and use /v1/match")
    data = await request.body()
    result = await run_in_threadpool(service.match_file, session, index, data, actor,
                                     label=label, source="file", settings=settings,
                                     variants=variants)
    _wake_webhooks(request)
    return FileMatchOut.of(result)


@router.get("/v1/matchlog", response_model=MatchLogPageOut,
            summary="The match log, newest first (reading it is audited)")
def read_match_log(actor: LogReader, session: DbSession,
                   bank: Annotated[str | None, Query(max_length=128)] = None,
                   since: datetime | None = None, until: datetime | None = None,
                   suppressed: bool | None = None,
                   source: Annotated[str | None, Query(max_length=16)] = None,
                   actor_name: Annotated[str | None, Query(max_length=128)] = None,
                   entry_id: EntityIdQuery | None = None,
                   query_value: Annotated[str | None, Query(max_length=200_000)] = None,
                   offset: Offset = 0,
                   limit: Annotated[int, Query(ge=1, le=matchlog.MAX_PAGE)] = 100
                   ) -> MatchLogPageOut:
    page = matchlog.search(session, actor, bank=bank, since=since, until=until,
                           suppressed=suppressed, source=source, actor_name=actor_name,
                           entry_id=entry_id, query_value=query_value, offset=offset,
                           limit=limit)
    return MatchLogPageOut(total=page.total, offset=page.offset, limit=page.limit,
                           items=[MatchLogOut.model_validate(i) for i in page.items])


@router.get("/v1/banks/{bank}/webhooks", response_model=list[WebhookOut],
            summary="A bank's webhook subscriptions")
def list_webhooks(bank: BankRef, actor: BankWriter, session: DbSession) -> list[object]:
    return list(webhooks.list_subscriptions(session, bank))


@router.post("/v1/banks/{bank}/webhooks", response_model=WebhookCreatedOut,
             status_code=status.HTTP_201_CREATED,
             summary="Subscribe a URL to the bank's matches (signed, retried)")
def subscribe(bank: BankRef, body: WebhookIn, actor: BankWriter,
              session: DbSession) -> WebhookCreatedOut:
    sub = webhooks.subscribe(session, actor, bank, body.url, body.secret)
    return WebhookCreatedOut(id=sub.id, bank_id=sub.bank_id, url=sub.url, enabled=sub.enabled,
                             created_at=sub.created_at, created_by=sub.created_by,
                             secret=sub.secret)


@router.delete("/v1/webhooks/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Stop a subscription (its delivery history is kept)")
def unsubscribe(subscription_id: EntityId, actor: BankWriter, session: DbSession) -> Response:
    webhooks.unsubscribe(session, actor, subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/v1/webhooks/{subscription_id}/deliveries",
            response_model=list[WebhookDeliveryOut],
            summary="Latest deliveries with every attempt")
def list_deliveries(subscription_id: EntityId, actor: BankWriter, session: DbSession,
                    limit: Annotated[int, Query(ge=1, le=500)] = 50
                    ) -> list[WebhookDeliveryOut]:
    out = []
    for d in webhooks.deliveries(session, subscription_id, limit):
        item = WebhookDeliveryOut.model_validate(d)
        item.attempt_log = [WebhookAttemptOut.model_validate(a)
                            for a in webhooks.attempts(session, d.id)]
        out.append(item)
    return out
