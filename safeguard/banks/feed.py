"""The bank change feed: every entry added or removed gets the next sequence number.

A running server applies only the changes after the last sequence it has seen (no full index
rebuild). Processes in this interpreter that keep an index for the same database are also told
directly after each commit, so a new hash is searchable at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safeguard.banks.bulk import bulk_insert
from safeguard.banks.models import BankChange, BankFeedHead, ChangeOp
from safeguard.db.base import utcnow


@dataclass(frozen=True)
class Change:
    seq: int
    op: ChangeOp
    entry_id: int
    bank_id: int
    signal_type: str
    value: str


Listener = Callable[[Sequence[Change]], None]

_listeners: dict[int, tuple[str, Listener]] = {}
_listeners_lock = threading.Lock()
_PENDING_KEY = "safeguard.banks.pending_changes"


def add_listener(database_url: str, listener: Listener) -> Callable[[], None]:
    """Call `listener` with the committed changes of every session on `database_url`.
    Returns the function that unregisters it."""
    key = id(listener)
    with _listeners_lock:
        _listeners[key] = (database_url, listener)

    def remove() -> None:
        with _listeners_lock:
            _listeners.pop(key, None)

    return remove


def _lock_head(session: Session) -> BankFeedHead:
    # FOR UPDATE serialises feed writers on PostgreSQL; SQLite's BEGIN IMMEDIATE already does.
    query = select(BankFeedHead).where(BankFeedHead.id == 1).with_for_update()
    head = session.scalars(query).first()
    if head is not None:
        return head
    from safeguard.banks.models import BankEntry

    try:
        with session.begin_nested():
            start = session.scalar(select(func.coalesce(func.max(BankEntry.id), 0))) or 0
            last_seq = session.scalar(select(func.coalesce(func.max(BankChange.seq), 0))) or 0
            session.add(BankFeedHead(id=1, seq=last_seq, last_entry_id=start))
    except IntegrityError:  # another writer created it first
        pass
    return session.scalars(query).one()


def lock_feed(session: Session) -> None:
    """Take the feed lock early in a write transaction (before reading what to change), so
    concurrent writers to banks queue here rather than clash on the unique constraint."""
    _lock_head(session)


def allocate_entry_ids(session: Session, count: int) -> int:
    """Reserve `count` new entry ids; returns the first."""
    head = _lock_head(session)
    first = head.last_entry_id + 1
    head.last_entry_id = head.last_entry_id + count
    return first


def record(session: Session, op: ChangeOp, rows: Sequence[tuple[int, int, str, str]]) -> None:
    """Append changes for (entry_id, bank_id, signal_type, value) rows in this transaction."""
    if not rows:
        return
    head = _lock_head(session)
    first = head.seq + 1
    head.seq = head.seq + len(rows)
    at = utcnow()
    params = [
        {"seq": first + i, "op": op.value, "entry_id": entry_id, "bank_id": bank_id,
         "signal_type": signal_type, "value": value if op is ChangeOp.ADD else "", "at": at}
        for i, (entry_id, bank_id, signal_type, value) in enumerate(rows)
    ]
    bulk_insert(session, BankChange.__table__, params)  # type: ignore[arg-type]
    changes = [Change(first + i, op, entry_id, bank_id, signal_type, value)
               for i, (entry_id, bank_id, signal_type, value) in enumerate(rows)]
    _remember_for_commit(session, changes)


def _remember_for_commit(session: Session, changes: list[Change]) -> None:
    session.info.setdefault(_PENDING_KEY, []).extend(changes)


# Registered once on the Session class: a per-session listener cannot be removed while the
# session dispatches its own after_commit event.
@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    pending: list[Change] = session.info.pop(_PENDING_KEY, None) or []
    if not pending:
        return
    url = session.get_bind().engine.url.render_as_string(hide_password=False)
    with _listeners_lock:
        targets = [fn for (db_url, fn) in _listeners.values() if _same_db(db_url, url)]
    for listener in targets:
        listener(pending)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


def _same_db(a: str, b: str) -> bool:
    from sqlalchemy.engine import make_url

    return make_url(a) == make_url(b)


def latest_seq(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(BankChange.seq), 0))) or 0)


def changes_since(session: Session, seq: int, limit: int = 50_000) -> list[Change]:
    rows = session.execute(
        select(BankChange.seq, BankChange.op, BankChange.entry_id, BankChange.bank_id,
               BankChange.signal_type, BankChange.value)
        .where(BankChange.seq > seq).order_by(BankChange.seq).limit(limit)
    ).all()
    return [Change(r.seq, ChangeOp(r.op), r.entry_id, r.bank_id, r.signal_type, r.value)
            for r in rows]
