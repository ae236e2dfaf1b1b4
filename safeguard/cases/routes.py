"""Triage over HTTP: the queue, exclusive claims with a lease, assessments."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from safeguard.audit.service import Actor
from safeguard.cases import triage
from safeguard.cases.schemas import AssessIn, LeaseIn, QueueOut, TriageItemOut
from safeguard.web.deps import DbSession, EntityId, Offset, require_scope

router = APIRouter(prefix="/v1/triage", tags=["triage"])
Analyst = Annotated[Actor, Depends(require_scope("triage"))]


@router.get("/queue", response_model=QueueOut,
            summary="Open items in the order analysts take them, with the reasons")
def read_queue(actor: Analyst, session: DbSession, offset: Offset = 0,
               limit: Annotated[int, Query(ge=1, le=500)] = 50) -> QueueOut:
    total, entries = triage.queue(session, offset=offset, limit=limit)
    return QueueOut(total=total, offset=offset, limit=limit,
                    items=[TriageItemOut.of(e.item) for e in entries])


@router.get("/items/{item_id}", response_model=TriageItemOut, summary="One triage item")
def read_item(item_id: EntityId, actor: Analyst, session: DbSession) -> TriageItemOut:
    return TriageItemOut.of(triage.get_item(session, item_id))


@router.post("/next", response_model=TriageItemOut,
             responses={204: {"description": "The queue is empty"}},
             summary="Claim the first item in the queue (exclusive, with a lease)")
def claim_next(actor: Analyst, session: DbSession,
               body: LeaseIn | None = None) -> TriageItemOut | Response:
    item = triage.claim_next(session, actor, lease=_lease(body))
    if item is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return TriageItemOut.of(item)


@router.post("/items/{item_id}/claim", response_model=TriageItemOut,
             responses={409: {"description": "Another analyst holds it"}},
             summary="Claim one item (exclusive, with a lease)")
def claim(item_id: EntityId, actor: Analyst, session: DbSession,
          body: LeaseIn | None = None) -> TriageItemOut:
    return TriageItemOut.of(triage.claim(session, actor, item_id, lease=_lease(body)))


@router.post("/items/{item_id}/renew", response_model=TriageItemOut,
             responses={409: {"description": "You do not hold it, or the lease ran out"}},
             summary="Extend your lease")
def renew(item_id: EntityId, actor: Analyst, session: DbSession,
          body: LeaseIn | None = None) -> TriageItemOut:
    return TriageItemOut.of(triage.renew(session, actor, item_id, lease=_lease(body)))


@router.post("/items/{item_id}/release", response_model=TriageItemOut,
             responses={409: {"description": "You do not hold it"}},
             summary="Give the item back to the queue")
def release(item_id: EntityId, actor: Analyst, session: DbSession) -> TriageItemOut:
    return TriageItemOut.of(triage.release(session, actor, item_id))


@router.post("/items/{item_id}/assess", response_model=TriageItemOut,
             responses={409: {"description": "You do not hold it, or the lease ran out"}},
             summary="Decide on a held item; the same content is classified alike next time")
def assess(item_id: EntityId, body: AssessIn, actor: Analyst,
           session: DbSession) -> TriageItemOut:
    return TriageItemOut.of(triage.assess(session, actor, item_id, body.classification,
                                          note=body.note))


def _lease(body: LeaseIn | None) -> timedelta | None:
    return timedelta(seconds=body.lease_seconds) if body else None
