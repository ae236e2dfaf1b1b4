from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from safeguard.audit.models import GENESIS, AuditEvent, AuditHead
from safeguard.db.base import utcnow


@dataclass(frozen=True)
class Actor:
    """Who did something: a user, an API token or the system itself."""

    kind: str  # "user" | "token" | "system" | "cli"
    name: str
    user_id: int | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


SYSTEM = Actor("system", "safeguard")


def _digest(prev_hash: str, seq: int, at: datetime, actor: str, action: str,
            target_type: str, target_id: str, details: dict[str, Any]) -> str:
    body = json.dumps(
        [prev_hash, seq, at.isoformat(timespec="microseconds"), actor, action, target_type,
         target_id, details],
        sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(session: Session, actor: Actor | str, action: str, target_type: str = "",
           target_id: object = "", **details: Any) -> AuditEvent:
    """Append one event in the caller's transaction, so the event and the change it describes
    commit or roll back together."""
    head_seq, head_hash = session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1)
        .returning(AuditHead.seq, AuditHead.hash)
    ).one()
    at = utcnow()
    details = json.loads(json.dumps(details, default=str))
    event = AuditEvent(
        seq=head_seq, at=at, actor=str(actor), action=action, target_type=target_type,
        target_id=str(target_id), details=details, prev_hash=head_hash,
    )
    event.hash = _digest(head_hash, head_seq, at, event.actor, action, target_type,
                         event.target_id, details)
    session.add(event)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=event.hash))
    return event


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    problems: list[str]


def iter_events(session: Session, batch: int = 5000) -> Iterator[AuditEvent]:
    last = 0
    while True:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def verify_chain(session: Session) -> VerifyResult:
    """Recompute every link; report gaps, edited events and a truncated or replaced tail."""
    problems: list[str] = []
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    for ev in iter_events(session):
        checked += 1
        if ev.seq != expected_seq:
            problems.append(f"event {expected_seq}: missing (next event is {ev.seq})")
        if ev.prev_hash != prev_hash:
            problems.append(f"event {ev.seq}: previous-hash link broken")
        recomputed = _digest(ev.prev_hash, ev.seq, ev.at, ev.actor, ev.action, ev.target_type,
                             ev.target_id, ev.details)
        if recomputed != ev.hash:
            problems.append(f"event {ev.seq}: contents changed after it was written")
        prev_hash, expected_seq = ev.hash, ev.seq + 1
    head = session.get(AuditHead, 1)
    if head is None:
        problems.append("audit head row is missing")
    elif head.seq != expected_seq - 1 or head.hash != prev_hash:
        problems.append(
            f"chain head says event {head.seq} but the log ends at event {expected_seq - 1}: "
            "events were removed from the end or the head was altered"
        )
    return VerifyResult(ok=not problems, checked=checked, problems=problems)


def recent(session: Session, limit: int = 100, target_type: str | None = None,
           target_id: str | None = None, before_seq: int | None = None) -> list[AuditEvent]:
    """Newest first; `before_seq` pages back (events with a smaller sequence number)."""
    q = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if before_seq is not None:
        q = q.where(AuditEvent.seq < before_seq)
    if target_type:
        q = q.where(AuditEvent.target_type == target_type)
    if target_id:
        q = q.where(AuditEvent.target_id == target_id)
    return list(session.scalars(q))
