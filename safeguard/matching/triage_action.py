"""The "open a triage item" action: a positive, unsuppressed match in a bank that asks for it
becomes a lead for an analyst, through the same intake every source uses."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from safeguard.audit.service import Actor
from safeguard.banks.models import BankKind
from safeguard.cases import triage
from safeguard.cases.content_keys import hash_key
from safeguard.cases.models import Source

if TYPE_CHECKING:
    from safeguard.matching.service import Match, QueryResult

MATCH_SEVERITY = 2  # known material: high, below a report of danger now


def open_items(session: Session, actor: Actor, results: Sequence[QueryResult],
               triage_banks: Collection[int]) -> int:
    """One item per (query hash, bank entry): the same match seen again joins its item, and
    content an analyst already assessed is classified without being shown again."""
    opened = 0
    for result in results:
        for match in result.matches:
            if (match.bank_id not in triage_banks or match.suppressed
                    or match.bank_kind != BankKind.POSITIVE):
                continue
            opened += triage.intake(session, actor, _lead(result.label, match)).created
    return opened


def _lead(label: str, match: Match) -> triage.Lead:
    query = match.query
    ref = hashlib.sha256(f"{query.signal_type}:{query.value}:{match.entry_id}".encode())
    what = label or f"{query.signal_type} {query.value[:16]}…"
    return triage.Lead(
        source=Source.HASH_MATCH, source_ref=f"match:{ref.hexdigest()[:40]}",
        title=f"{what[:120]} matched bank {match.bank_name}"[:200],
        summary=(f"{match.signal_type} distance {match.distance}, variant {match.query_variant}"
                 f"; entry {match.entry_id} from {match.source or 'unknown source'}"),
        severity=MATCH_SEVERITY, known_content=True,
        content_keys=[hash_key(query.signal_type, query.value)],
        details={"bank": match.bank_name, "entry_id": match.entry_id,
                 "distance": match.distance, "query_variant": match.query_variant,
                 "provenance": match.provenance, "label": label[:512]})
