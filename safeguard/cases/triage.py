"""Triage: one intake for every source, a queue in priority order, exclusive claims with a
lease, and assessments that classify the same content automatically next time.

Every domain that produces leads (reports, matching, conversations, ads) calls `intake`; the
console and the API call the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safeguard.audit.service import Actor, record
from safeguard.cases.models import (
    Classification,
    ContentVerdict,
    ItemStatus,
    Source,
    TriageItem,
)
from safeguard.cases.priority import AGE_BANDS, MAX_SEVERITY, PriorityInputs, explain, priority_of
from safeguard.db.base import utcnow
from safeguard.errors import ConflictError, InvalidInput, NotFoundError

DEFAULT_LEASE = timedelta(minutes=15)
MAX_LEASE = timedelta(hours=4)
OPEN = (ItemStatus.QUEUED.value, ItemStatus.CLAIMED.value)


@dataclass(frozen=True)
class Lead:
    """What a source hands to triage. Nothing here may contain media; text fields are short
    descriptions for the queue, the detail lives in the source domain (`source_ref`)."""

    source: Source
    source_ref: str
    title: str
    summary: str = ""
    urgent: bool = False
    severity: int = 1
    age_band: str = "unknown"
    known_content: bool = False
    content_keys: Sequence[str] = ()
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IntakeResult:
    item: TriageItem
    created: bool  # False when the same (source, source_ref) was taken in before
    auto_classified: bool


def _validate(lead: Lead) -> None:
    problems = []
    if not lead.source_ref or len(lead.source_ref) > 128:
        problems.append("source_ref must be 1–128 characters")
    if not lead.title.strip() or len(lead.title) > 200:
        problems.append("title must be 1–200 characters")
    if not 0 <= lead.severity <= MAX_SEVERITY:
        problems.append(f"severity must be 0–{MAX_SEVERITY}")
    if lead.age_band not in AGE_BANDS:
        problems.append(f"age_band must be one of {', '.join(AGE_BANDS)}")
    if any(not k or len(k) > 300 for k in lead.content_keys):
        problems.append("content keys must be 1–300 characters")
    if problems:
        raise InvalidInput("; ".join(problems))


def _inputs(item: TriageItem) -> PriorityInputs:
    return PriorityInputs(item.urgent, item.severity, item.age_band, item.known_content)


def intake(session: Session, actor: Actor, lead: Lead) -> IntakeResult:
    """Take a lead into triage. Idempotent on (source, source_ref). When every content key of
    the lead was assessed before, the item is classified the same way and never queued."""
    _validate(lead)
    existing = _by_source(session, lead)
    if existing is not None:
        return IntakeResult(existing, False, existing.status == ItemStatus.AUTO_CLASSIFIED)
    keys = sorted(set(lead.content_keys))
    verdicts = _verdicts(session, keys)
    inputs = PriorityInputs(lead.urgent, lead.severity, lead.age_band, lead.known_content)
    item = TriageItem(
        source=lead.source.value, source_ref=lead.source_ref, title=lead.title.strip(),
        summary=lead.summary, urgent=lead.urgent, severity=lead.severity,
        age_band=lead.age_band, known_content=lead.known_content, content_keys=keys,
        details=lead.details, priority=priority_of(inputs), received_at=utcnow())
    # Urgent leads always reach a person, even for content seen before: the danger is new.
    auto = bool(keys) and len(verdicts) == len(keys) and not lead.urgent
    if auto:
        item.status = ItemStatus.AUTO_CLASSIFIED.value
        item.classification = _strictest([v.classification for v in verdicts])
        item.assessed_at = item.received_at
        item.assessed_by = "auto: assessed before"
    try:
        with session.begin_nested():
            session.add(item)
            session.flush()
    except IntegrityError:  # the same lead arrived concurrently
        again = _by_source(session, lead)
        if again is None:
            raise
        return IntakeResult(again, False, again.status == ItemStatus.AUTO_CLASSIFIED)
    record(session, actor, "triage.intake", "triage_item", item.id, source=item.source,
           source_ref=item.source_ref, priority=item.priority, auto_classified=auto)
    return IntakeResult(item, True, auto)


_SEVERITY_ORDER = [c.value for c in (Classification.BASELINE, Classification.NATIONAL,
                                     Classification.DOUBTFUL, Classification.NOT_ILLEGAL)]


def _strictest(classifications: list[str]) -> str:
    return min(classifications, key=_SEVERITY_ORDER.index)


def _by_source(session: Session, lead: Lead) -> TriageItem | None:
    return session.scalars(select(TriageItem).where(
        TriageItem.source == lead.source.value,
        TriageItem.source_ref == lead.source_ref)).first()


def _verdicts(session: Session, keys: Sequence[str]) -> list[ContentVerdict]:
    if not keys:
        return []
    return list(session.scalars(select(ContentVerdict).where(
        ContentVerdict.content_key.in_(keys))))


# ------------------------------------------------------------------------------- the queue


@dataclass(frozen=True)
class QueueEntry:
    item: TriageItem
    reasons: list[str]


def get_item(session: Session, item_id: int) -> TriageItem:
    item = session.get(TriageItem, item_id)
    if item is None:
        raise NotFoundError(f"no triage item {item_id}")
    return item


def queue(session: Session, *, offset: int = 0, limit: int = 50,
          now: datetime | None = None) -> tuple[int, list[QueueEntry]]:
    """Items waiting for an analyst, in the order they will be taken, with the reasons for
    that order, and how many wait (counted up to COUNT_CAP). Items being worked on are listed
    by `in_progress`."""
    now = now or utcnow()
    where = TriageItem.status == ItemStatus.QUEUED.value
    total = count_status(session, ItemStatus.QUEUED)
    rows = session.scalars(select(TriageItem).where(where).order_by(
        TriageItem.priority.desc(), TriageItem.received_at, TriageItem.id)
        .offset(offset).limit(limit))
    return total, [QueueEntry(i, explain(_inputs(i), i.received_at, now)) for i in rows]


def in_progress(session: Session) -> list[TriageItem]:
    """Claimed items, soonest lease end first; an expired lease returns its item to the queue
    at the next claim."""
    return list(session.scalars(select(TriageItem).where(
        TriageItem.status == ItemStatus.CLAIMED.value).order_by(TriageItem.lease_expires_at)))


def reasons_for(item: TriageItem, now: datetime | None = None) -> list[str]:
    return explain(_inputs(item), item.received_at, now or utcnow())


def _lease(lease: timedelta | None) -> timedelta:
    lease = lease or DEFAULT_LEASE
    if not timedelta(seconds=30) <= lease <= MAX_LEASE:
        raise InvalidInput(f"a lease must last between 30 s and {MAX_LEASE}")
    return lease


def _return_expired(session: Session, now: datetime) -> None:
    session.execute(update(TriageItem).where(
        TriageItem.status == ItemStatus.CLAIMED.value, TriageItem.lease_expires_at < now)
        .values(status=ItemStatus.QUEUED.value, claimed_by=None, lease_expires_at=None))


def claim_next(session: Session, actor: Actor, *,
               lease: timedelta | None = None) -> TriageItem | None:
    """Hold the first item in the queue for the actor's user. Exclusive: on PostgreSQL the row is
    locked with SKIP LOCKED so simultaneous claimers take different items; SQLite serialises
    writers (BEGIN IMMEDIATE)."""
    user_id = _user(actor)
    length = _lease(lease)
    now = utcnow()
    _return_expired(session, now)
    item = session.scalars(
        select(TriageItem).where(TriageItem.status == ItemStatus.QUEUED.value)
        .order_by(TriageItem.priority.desc(), TriageItem.received_at, TriageItem.id)
        .limit(1).with_for_update(skip_locked=True)).first()
    if item is None:
        return None
    _hold(session, actor, item, user_id, now + length)
    return item


def claim(session: Session, actor: Actor, item_id: int, *,
          lease: timedelta | None = None) -> TriageItem:
    """Hold one chosen item. Refused while another analyst's lease runs."""
    user_id = _user(actor)
    length = _lease(lease)
    now = utcnow()
    item = session.scalars(select(TriageItem).where(TriageItem.id == item_id)
                           .with_for_update()).first()
    if item is None:
        raise NotFoundError(f"no triage item {item_id}")
    if item.status not in OPEN:
        raise ConflictError(f"triage item {item_id} is already {item.status}")
    if _held_by_other(item, user_id, now):
        raise ConflictError(f"triage item {item_id} is held by another analyst until "
                            f"{item.lease_expires_at:%H:%M} UTC")
    _hold(session, actor, item, user_id, now + length)
    return item


def _held_by_other(item: TriageItem, user_id: int, now: datetime) -> bool:
    return (item.status == ItemStatus.CLAIMED.value and item.claimed_by != user_id
            and item.lease_expires_at is not None and item.lease_expires_at > now)


def _hold(session: Session, actor: Actor, item: TriageItem, user_id: int,
          until: datetime) -> None:
    item.status = ItemStatus.CLAIMED.value
    item.claimed_by = user_id
    item.lease_expires_at = until
    session.flush()
    record(session, actor, "triage.claim", "triage_item", item.id, until=until.isoformat())


def _user(actor: Actor) -> int:
    if actor.user_id is None:
        raise InvalidInput("only a signed-in user (or a user's API token) can hold items")
    return actor.user_id


def _own(session: Session, actor: Actor, item_id: int) -> TriageItem:
    """The item, if the actor's user holds an unexpired lease on it; else a clear refusal."""
    user_id = _user(actor)
    item = session.scalars(select(TriageItem).where(TriageItem.id == item_id)
                           .with_for_update()).first()
    if item is None:
        raise NotFoundError(f"no triage item {item_id}")
    now = utcnow()
    if item.status != ItemStatus.CLAIMED.value or item.claimed_by != user_id:
        raise ConflictError(f"you do not hold triage item {item_id}; claim it first")
    if item.lease_expires_at is None or item.lease_expires_at <= now:
        raise ConflictError(f"your lease on triage item {item_id} ran out; claim it again")
    return item


def renew(session: Session, actor: Actor, item_id: int, *,
          lease: timedelta | None = None) -> TriageItem:
    item = _own(session, actor, item_id)
    item.lease_expires_at = utcnow() + _lease(lease)
    record(session, actor, "triage.renew", "triage_item", item.id)
    return item


def release(session: Session, actor: Actor, item_id: int) -> TriageItem:
    item = _own(session, actor, item_id)
    item.status = ItemStatus.QUEUED.value
    item.claimed_by = None
    item.lease_expires_at = None
    record(session, actor, "triage.release", "triage_item", item.id)
    return item


def assess(session: Session, actor: Actor, item_id: int,
           classification: Classification | str, *, note: str = "") -> TriageItem:
    """Decide on a held item. The decision also classifies every content key of the item, so
    the same hash or URL is not shown to an analyst again."""
    try:
        verdict = Classification(classification)
    except ValueError as exc:
        raise InvalidInput(f"classification must be one of "
                           f"{', '.join(c.value for c in Classification)}") from exc
    if len(note) > 4000:
        raise InvalidInput("a note may hold at most 4000 characters")
    item = _own(session, actor, item_id)
    now = utcnow()
    item.status = ItemStatus.ASSESSED.value
    item.classification = verdict.value
    item.assessed_at = now
    item.assessed_by = actor.name
    item.assessment_note = note
    item.lease_expires_at = None
    for key in item.content_keys:
        known = session.get(ContentVerdict, key)
        if known is None:
            session.add(ContentVerdict(content_key=key, classification=verdict.value,
                                       item_id=item.id, decided_at=now))
        else:
            known.classification, known.item_id, known.decided_at = verdict.value, item.id, now
    record(session, actor, "triage.assess", "triage_item", item.id,
           classification=verdict.value, note_chars=len(note))
    return item


# Counting a million rows exactly takes a third of a second on PostgreSQL; nobody needs to
# know whether 10,001 or 950,000 items wait, only that it is "over 10,000".
COUNT_CAP = 10_000


def count_status(session: Session, status: ItemStatus) -> int:
    """Items in `status`, counted up to COUNT_CAP (an index-only scan of at most that many)."""
    capped = (select(TriageItem.id).where(TriageItem.status == status.value)
              .limit(COUNT_CAP).subquery())
    return int(session.scalar(select(func.count()).select_from(capped)) or 0)


def counts(session: Session) -> dict[str, int]:
    """Items per status, each counted up to COUNT_CAP."""
    return {status.value: count_status(session, status) for status in ItemStatus}


def held_by(session: Session, actor: Actor) -> list[TriageItem]:
    """The items the actor's user holds now."""
    user_id = _user(actor)
    now = utcnow()
    return list(session.scalars(select(TriageItem).where(
        TriageItem.status == ItemStatus.CLAIMED.value, TriageItem.claimed_by == user_id,
        or_(TriageItem.lease_expires_at.is_(None), TriageItem.lease_expires_at > now))))
