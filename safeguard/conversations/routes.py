"""Conversation scoring over HTTP: a batch endpoint and a streaming one (JSON lines in,
JSON lines out)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.types import Receive, Scope, Send

from safeguard.audit.service import Actor, record
from safeguard.config import Settings
from safeguard.conversations.layers import layers_for
from safeguard.conversations.scoring import ScoringConfig
from safeguard.conversations.service import MAX_MESSAGES, score_and_raise
from safeguard.conversations.stream import StreamWatcher
from safeguard.web.deps import DbSession, get_settings, require_scope

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])


class DuplexStreamingResponse(StreamingResponse):
    """Streams events while the request body is still arriving.

    Starlette's StreamingResponse listens for a disconnect by reading the request, which
    would steal the body chunks this endpoint reads line by line; the body reader notices a
    disconnect itself, so the listener is not needed.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.stream_response(send)
        if self.background is not None:
            await self.background()
Scorer = Annotated[Actor, Depends(require_scope("conversations"))]
AppSettings = Annotated[Settings, Depends(get_settings)]


class MessageIn(BaseModel):
    author: str = Field(min_length=1, max_length=200)
    text: str = Field(default="", max_length=1_000_000,
                      description="Used for scoring; stored only if the operator "
                      "sets conversations_store_text")
    time: str | float | None = Field(default=None, description="ISO 8601 or epoch seconds")
    to: str | None = Field(default=None, max_length=200)
    id: str | None = Field(default=None, max_length=200)


class ConversationIn(BaseModel):
    id: str = Field(min_length=1, max_length=200)
    messages: list[MessageIn] = Field(max_length=MAX_MESSAGES)


class ScoreIn(BaseModel):
    conversations: list[ConversationIn] = Field(min_length=1, max_length=100)
    threshold: float = Field(default=0.5, gt=0, le=1,
                             description="Your deployment's warning threshold")
    raise_triage_items: bool = Field(default=True, description="Hand warnings and urgent "
                                     "signals to triage")
    include_messages: bool = Field(default=False, description="Per-message scores too")


class ScoredOut(BaseModel):
    id: str
    report: dict[str, Any] = Field(description="risk, warned, warning_index, urgent, "
                                   "warnings, participants (who shows the pattern towards "
                                   "whom, with reasons), layers, notes; with "
                                   "include_messages, each message's indicators, affinity "
                                   "and recognised tactic")
    triage_items: list[int]


@router.post("/score", response_model=list[ScoredOut],
             summary="Score conversations: risk per conversation, participant and message, "
                     "each with its reasons (a lead for a person, never a verdict)")
def score(body: ScoreIn, actor: Scorer, session: DbSession,
          settings: AppSettings) -> list[ScoredOut]:
    config = ScoringConfig(threshold=body.threshold)
    layers = layers_for(settings)
    out = []
    for conversation in body.conversations:
        report, items = score_and_raise(
            session, actor, conversation.id, [m.model_dump() for m in conversation.messages],
            config=config, raise_leads=body.raise_triage_items, layers=layers,
            store_text=settings.conversations_store_text)
        out.append(ScoredOut(id=conversation.id, triage_items=items,
                             report=report.as_dict(include_messages=body.include_messages)))
    record(session, actor, "conversations.scored", "conversations", "",
           count=len(out), messages=sum(len(c.messages) for c in body.conversations))
    return out


@router.post("/watch", response_class=StreamingResponse,
             responses={200: {"content": {"application/x-ndjson": {}},
                              "description": "One JSON event per input line"}},
             summary="Stream: one message per JSON line in, one event per line out "
                     "(scores, warnings with the message index, errors for bad lines)")
async def watch(request: Request, actor: Scorer, settings: AppSettings,
                threshold: Annotated[float, Query(gt=0, le=1)] = 0.5) -> StreamingResponse:
    config = ScoringConfig(threshold=threshold)
    layers = layers_for(settings)

    async def events() -> AsyncIterator[bytes]:
        # Each line is scored as it arrives, so a long-lived upload gets its warnings live.
        watcher = StreamWatcher(config, affinity=layers.affinity, classifier=layers.classifier,
                                tactics=layers.tactics)
        number = 0
        async for line in _lines(request):
            number += 1
            for event in watcher.feed([line]):
                if "line" in event:
                    event["line"] = number
                yield (json.dumps(event, ensure_ascii=False) + "\n").encode()

    return DuplexStreamingResponse(events(), media_type="application/x-ndjson")


async def _lines(request: Request) -> AsyncIterator[bytes]:
    buffer = b""
    async for chunk in request.stream():
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        for line in complete:
            yield line
    if buffer:
        yield buffer
