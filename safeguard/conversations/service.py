"""From scores to leads: a warning (the pattern crossed the threshold) or an urgent signal
(a sextortion threat, a meeting proposal) becomes a triage item for a trained person,
through the same intake every source uses. Only indicators, scores and message ids travel;
message text is never stored here."""

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

MAX_MESSAGES = 10_000


def lead_for(conversation_id: str, warning: Warning) -> triage.Lead:
    """One item per (conversation, author, recipient, kind): the same pattern seen again in a
    later scoring of the same conversation joins its item."""
    key = f"{conversation_id}\x00{warning.author}\x00{warning.target}\x00{warning.kind}"
    families = sorted({r.family for r in warning.reasons})
    what = ("Sextortion threat" if warning.kind == "sextortion_threat"
            else "Meeting proposal" if warning.kind == "meeting" else "Grooming pattern")
    return triage.Lead(
        source=Source.GROOMING_ALERT,
        source_ref="conv:" + hashlib.sha256(key.encode()).hexdigest()[:40],
        title=f"{what} in conversation {conversation_id[:60]}"[:200],
        summary=(f"{warning.author} towards {warning.target}: risk {warning.risk:.2f} at "
                 f"message {warning.message_index}; indicators: {', '.join(families)}"),
        urgent=warning.urgent, severity=3 if warning.urgent else 2,
        details={"conversation": conversation_id, "author": warning.author,
                 "target": warning.target, "kind": warning.kind,
                 "message_index": warning.message_index, "risk": round(warning.risk, 4),
                 "reasons": [r.as_dict() for r in warning.reasons]})


def score_and_raise(session: Session, actor: Actor, conversation_id: str,
                    messages: Iterable[ChatMessage | Mapping[str, Any]], *,
                    config: ScoringConfig | None = None,
                    raise_leads: bool = True,
                    layers: Layers | None = None) -> tuple[ConversationReport, list[int]]:
    """Score one conversation; hand every warning and urgent signal to triage. Returns the
    report and the triage item ids."""
    report = score_with(layers, messages, config)
    items: list[int] = []
    if raise_leads:
        for warning in {(w.author, w.target, w.kind): w
                        for w in (*report.warnings, *report.urgent)}.values():
            items.append(triage.intake(session, actor, lead_for(conversation_id, warning))
                         .item.id)
    return report, items


def score_with(layers: Layers | None, messages: Iterable[ChatMessage | Mapping[str, Any]],
               config: ScoringConfig | None = None) -> ConversationReport:
    """Score with the configured layers; their loading problems join the report's notes."""
    if layers is None:
        return score_conversation(messages, config)
    report = score_conversation(messages, config, affinity=layers.affinity,
                                classifier=layers.classifier)
    if layers.notes:
        report = dataclasses.replace(report, notes=report.notes + layers.notes)
    return report
