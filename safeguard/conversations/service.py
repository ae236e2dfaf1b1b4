"""From scores to leads: a warning (the pattern crossed the threshold) or an urgent signal
(a sextortion threat, a meeting proposal) becomes a triage item for a trained person,
through the same intake every source uses. Only indicators, scores and message ids travel;
message text is stored only when the operator turns ``conversations_store_text`` on."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from safeguard.audit.service import Actor
from safeguard.cases import triage
from safeguard.cases.models import Source
from safeguard.conversations.layers import Layers
from safeguard.conversations.scoring import (
    ChatMessage,
    ConversationReport,
    ScoringConfig,
    Warning,
    score_conversation,
)
from safeguard.jsonlines import decode_text

MAX_MESSAGES = 10_000


MAX_STORED_TEXT = 1_000  # characters kept per cited message when text storing is on


def lead_for(conversation_id: str, warning: Warning,
             texts: Mapping[int, str] | None = None) -> triage.Lead:
    """One item per (conversation, author, recipient, kind): the same pattern seen again in a
    later scoring of the same conversation joins its item. `texts` (message index -> text) is
    given only when the operator chose to store text: then the messages the reasons cite are
    kept in the item, cut to MAX_STORED_TEXT characters."""
    key = f"{conversation_id}\x00{warning.author}\x00{warning.target}\x00{warning.kind}"
    families = sorted({r.family for r in warning.reasons})
    what = ("Sextortion threat" if warning.kind == "sextortion_threat"
            else "Meeting proposal" if warning.kind == "meeting" else "Grooming pattern")
    details: dict[str, Any] = {
        "conversation": conversation_id, "author": warning.author, "target": warning.target,
        "kind": warning.kind, "message_index": warning.message_index,
        "risk": round(warning.risk, 4), "reasons": [r.as_dict() for r in warning.reasons]}
    if texts is not None:
        cited = sorted({r.message_index for r in warning.reasons} | {warning.message_index})
        details["texts"] = {str(i): _cut(texts[i]) for i in cited if i in texts}
        details["texts_stored_by"] = "operator setting conversations_store_text"
    return triage.Lead(
        source=Source.GROOMING_ALERT,
        source_ref="conv:" + hashlib.sha256(key.encode()).hexdigest()[:40],
        title=f"{what} in conversation {conversation_id[:60]}"[:200],
        summary=(f"{warning.author} towards {warning.target}: risk {warning.risk:.2f} at "
                 f"message {warning.message_index}; indicators: {', '.join(families)}"),
        urgent=warning.urgent, severity=3 if warning.urgent else 2, details=details)


def _cut(text: str) -> str:
    return text if len(text) <= MAX_STORED_TEXT else text[:MAX_STORED_TEXT] + " [cut]"


def _text_of(message: ChatMessage | Mapping[str, Any]) -> str:
    raw = message.text if isinstance(message, ChatMessage) else message.get("text")
    if isinstance(raw, bytes):
        return decode_text(raw)[0]
    return raw if isinstance(raw, str) else ""


def score_and_raise(session: Session, actor: Actor, conversation_id: str,
                    messages: Iterable[ChatMessage | Mapping[str, Any]], *,
                    config: ScoringConfig | None = None,
                    raise_leads: bool = True,
                    layers: Layers | None = None,
                    store_text: bool = False) -> tuple[ConversationReport, list[int]]:
    """Score one conversation; hand every warning and urgent signal to triage. Returns the
    report and the triage item ids. Message text is not stored unless `store_text` (the
    operator's explicit choice, setting ``conversations_store_text``): then the triage item
    keeps the text of the messages its reasons cite."""
    messages = list(messages)
    report = score_with(layers, messages, config)
    texts = ({i: _text_of(m) for i, m in enumerate(messages)} if store_text and raise_leads
             else None)
    items: list[int] = []
    if raise_leads:
        for warning in {(w.author, w.target, w.kind): w
                        for w in (*report.warnings, *report.urgent)}.values():
            items.append(triage.intake(session, actor,
                                       lead_for(conversation_id, warning, texts)).item.id)
    return report, items


def score_with(layers: Layers | None, messages: Iterable[ChatMessage | Mapping[str, Any]],
               config: ScoringConfig | None = None) -> ConversationReport:
    """Score with the configured layers; their loading problems join the report's notes."""
    if layers is None:
        return score_conversation(messages, config)
    report = score_conversation(messages, config, affinity=layers.affinity,
                                classifier=layers.classifier, tactics=layers.tactics)
    if layers.notes:
        report = dataclasses.replace(report, notes=report.notes + layers.notes)
    return report
